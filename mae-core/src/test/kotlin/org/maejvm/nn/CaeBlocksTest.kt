package org.maejvm.nn

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.maejvm.ops.ReferenceBackend
import java.util.Random

/** Finite-difference checks of the CAE building blocks (layer scale, q/v-bias attention, regressor block). */
class CaeBlocksTest : FunSpec({
    val be = ReferenceBackend()

    test("LayerScale: dx and dgamma (the scaleColumns op)") {
        val params = ParameterSet(be)
        val ls = LayerScale(params, "gamma_1", 5, 0.1, true)
        val rnd = Random(1)
        LayerGradients.randomize(be, params, rnd)
        val inputs = listOf(LayerGradients.gaussian(rnd, 2 * 3 * 5) to intArrayOf(2, 3, 5))
        LayerGradients(be, params, inputs, { (x) -> ls.forward(x) }) { dy -> listOf(ls.backward(dy)) }.check(seed = 2)
    }

    test("LayerScale starts at its init value; a fixed one has no gradient") {
        val params = ParameterSet(be)
        LayerScale(params, "g", 3, 0.1, true)
        LayerScale(params, "h", 3, 1.0, false)
        be.toHost(params.get("g").value()).toList() shouldBe listOf(0.1f, 0.1f, 0.1f)
        params.get("h").trainable() shouldBe false
    }

    test("QvBiasAttention: input, qkv weight, q_bias, v_bias and proj gradients") {
        val params = ParameterSet(be)
        val attn = QvBiasAttention(params, "attn", 6, 2)
        val rnd = Random(3)
        LayerGradients.randomize(be, params, rnd)
        val inputs = listOf(LayerGradients.gaussian(rnd, 2 * 4 * 6) to intArrayOf(2, 4, 6))
        LayerGradients(be, params, inputs, { (x) -> attn.forward(x) }) { dy -> listOf(attn.backward(dy)) }.check(seed = 4)
        params.all().map { it.name() } shouldBe listOf("attn.q_bias", "attn.v_bias", "attn.qkv.weight", "attn.proj.weight", "attn.proj.bias")
    }

    for (init in listOf(0.1, 0.0)) {
        test("LayerScaleBlock (layer scale $init): all gradients") {
            val params = ParameterSet(be)
            val blk = LayerScaleBlock(params, "blocks.0", 4, 2, 2.0, init)
            val rnd = Random(5)
            LayerGradients.randomize(be, params, rnd)
            val inputs = listOf(LayerGradients.gaussian(rnd, 2 * 3 * 4) to intArrayOf(2, 3, 4))
            LayerGradients(be, params, inputs, { (x) -> blk.forward(x) }) { dy -> listOf(blk.backward(dy)) }.check(seed = 6)
            params.contains("blocks.0.gamma_1") shouldBe (init > 0)
        }

        test("CrossAttentionBlock (layer scale $init): queries, context and parameter gradients; positions fixed") {
            val params = ParameterSet(be)
            val blk = CrossAttentionBlock(params, "regressor_blocks.0", 4, 2, 2.0, init)
            val rnd = Random(7)
            LayerGradients.randomize(be, params, rnd)
            val posQ = be.fromHost(LayerGradients.gaussian(rnd, 2 * 3 * 4), 2, 3, 4)
            val posK = be.fromHost(LayerGradients.gaussian(rnd, 2 * 5 * 4), 2, 5, 4)
            val inputs = listOf(
                LayerGradients.gaussian(rnd, 2 * 3 * 4) to intArrayOf(2, 3, 4),
                LayerGradients.gaussian(rnd, 2 * 5 * 4) to intArrayOf(2, 5, 4),
            )
            LayerGradients(be, params, inputs, { (xq, xkv) -> blk.forward(xq, xkv, posQ, posK) }) { dy ->
                listOf(blk.backward(dy), blk.contextGrad())
            }.check(seed = 8, zero = setOf("regressor_blocks.0.norm1_k.bias")) // a key shift is cancelled by the softmax
            params.get("regressor_blocks.0.gamma_1_cross").trainable() shouldBe (init > 0)
        }
    }
})
