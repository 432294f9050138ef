package org.maejvm.model

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.floats.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import org.maejvm.io.Safetensors
import org.maejvm.ops.ReferenceBackend
import org.maejvm.parity.ParityFixture
import java.nio.file.Path
import kotlin.math.abs
import kotlin.math.sqrt

/** The official initialize_weights: sin-cos tables equal PyTorch's, and the random parts have the official laws. */
class MaeInitTest : FunSpec({
    val be = ReferenceBackend()

    test("sin-cos position embeddings equal the ones in PyTorch fixtures") {
        for (name in listOf("tiny-rgb", "tiny-gray", "tiny-perturbed")) {
            val dir = Path.of("src/test/resources/fixtures/mae/$name")
            val fx = ParityFixture.load(dir, null)
            val model = MaeModel(fx.config(), be, 7)
            val torch = Safetensors.read(dir.resolve("model.safetensors"))
            for (key in listOf("pos_embed", "decoder_pos_embed")) {
                val ours = be.toHost(model.parameters().get(key).value())
                val theirs = torch[key]!!.data
                ours.size shouldBe theirs.size
                ours.indices.maxOf { abs(ours[it] - theirs[it]) } shouldBeLessThanOrEqual 1e-6f
            }
        }
    }

    test("Linear weights are xavier-uniform, biases zero, LayerNorms identity, tokens N(0, 0.02)") {
        val config = MaeConfig(32, 4, 3, 96, 2, 4, 64, 1, 4, 4.0, false)
        val model = MaeModel(config, be, 11)
        val p = model.parameters()
        fun host(name: String) = be.toHost(p.get(name).value())
        val qkv = host("blocks.0.attn.qkv.weight")
        val bound = sqrt(6.0 / (96 + 3 * 96))
        qkv.maxOf { abs(it).toDouble() } shouldBeLessThan bound
        std(qkv) shouldBe (bound / sqrt(3.0) plusOrMinus 0.02 * bound)
        host("blocks.0.attn.qkv.bias").all { it == 0f } shouldBe true
        host("blocks.1.norm2.weight").all { it == 1f } shouldBe true
        host("decoder_norm.bias").all { it == 0f } shouldBe true
        std(host("cls_token") + host("mask_token")) shouldBe (0.02 plusOrMinus 0.006)
        val patch = host("patch_embed.proj.weight")
        val patchBound = sqrt(6.0 / (3 * 16 + 96))
        patch.maxOf { abs(it).toDouble() } shouldBeLessThan patchBound
        std(patch) shouldBe (patchBound / sqrt(3.0) plusOrMinus 0.05 * patchBound)
        val patchBias = host("patch_embed.proj.bias")
        patchBias.maxOf { abs(it).toDouble() } shouldBeLessThan 1.0 / sqrt(48.0)
        (patchBias.count { it != 0f } > 90) shouldBe true
    }

    test("the same seed gives the same weights, another seed others") {
        val config = MaeConfig(16, 4, 1, 32, 1, 2, 16, 1, 2, 2.0, true)
        fun weights(seed: Long) = MaeModel(config, be, seed).parameters().stateDict().mapValues { it.value.data.toList() }
        weights(5) shouldBe weights(5)
        (weights(5) == weights(6)) shouldBe false
    }
})

private fun std(v: FloatArray): Double {
    val mean = v.sumOf { it.toDouble() } / v.size
    return sqrt(v.sumOf { (it - mean) * (it - mean) } / v.size)
}
