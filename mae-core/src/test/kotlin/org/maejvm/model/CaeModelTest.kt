package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.model.masking.BlockMasking
import org.maejvm.model.masking.RandomMasking
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.max

class CaeModelTest : FunSpec({
    val be = ReferenceBackend()
    // 8x8 RGB, 2x2 patches (16 tokens), width 8, 2 encoder blocks; 1 regressor and 1 decoder block
    val tiny = MaeConfig(8, 2, 3, 8, 2, 2, 8, 1, 2, 2.0, false)
    val tinyCae = CaeConfig.defaults().withDepths(1, 1).withDropPath(0.0)

    fun images(batch: Int, config: MaeConfig, seed: Long): org.maejvm.tensor.Tensor {
        val rng = SplittableRandom(seed)
        val c = config.inChans(); val s = config.imgSize()
        return be.fromHost(FloatArray(batch * c * s * s) { rng.nextGaussian().toFloat() }, batch, c, s, s)
    }

    fun host(model: CaeModel, name: String) = be.toHost(model.parameters().get(name).value())

    test("official parameter names; the teacher is a fixed copy of the encoder") {
        val model = CaeModel(tiny, tinyCae, be, 1)
        val names = model.parameters().all().map { it.name() }
        for (n in listOf(
            "mask_token", "encoder.cls_token", "encoder.pos_embed", "encoder.patch_embed.proj.weight",
            "encoder.blocks.1.gamma_1", "encoder.blocks.1.attn.q_bias", "encoder.blocks.1.attn.qkv.weight", "encoder.norm.weight",
            "teacher.blocks.0.attn.v_bias", "pretext_neck.regressor_blocks.0.cross_attn.q.weight",
            "pretext_neck.regressor_blocks.0.gamma_2_cross", "pretext_neck.regressor_blocks.0.norm1_k.weight",
            "pretext_neck.decoder_blocks.0.mlp.fc2.bias", "pretext_neck.norm.weight", "pretext_neck.norm2.bias",
            "pretext_neck.head.weight",
        )) withClue(n) { names.contains(n) shouldBe true }
        model.parameters().all().filter { it.name().startsWith("teacher.") }.forEach {
            withClue(it.name()) { it.trainable() shouldBe false }
            it.value().size() shouldBe model.parameters().get("encoder." + it.name().removePrefix("teacher.")).value().size()
            host(model, it.name()).toList() shouldBe host(model, "encoder." + it.name().removePrefix("teacher.")).toList()
        }
        host(model, "encoder.blocks.0.gamma_1").toList() shouldBe List(8) { 0.1f }
        model.parameters().get("encoder.pos_embed").trainable() shouldBe false
        // tokens: truncated normal with std 0.02, cut at one std
        host(model, "mask_token").all { abs(it) <= 0.02f } shouldBe true
    }

    test("CAE's sin-cos positions: [sin, cos] of the row, then of the column, zero cls row") {
        val pe = CaeModel.positionEmbedding(8, 3)
        pe.copyOfRange(0, 8).all { it == 0f } shouldBe true
        // patch 5 = row 1, column 2; quarter 2 frequencies: omega_k = 10000^(-k/2)
        val row = 1.0; val col = 2.0
        val expected = listOf(kotlin.math.sin(row), kotlin.math.sin(row / 100), kotlin.math.cos(row), kotlin.math.cos(row / 100),
            kotlin.math.sin(col), kotlin.math.sin(col / 100), kotlin.math.cos(col), kotlin.math.cos(col / 100))
        for (i in 0 until 8) abs(pe[(1 + 5) * 8 + i] - expected[i]) shouldBeLessThan 1e-6
    }

    for (normPix in listOf(false, true)) {
        test("gradient of the whole loss against finite differences along random directions (norm_pix_loss=$normPix)") {
            val config = tiny.withNormPixLoss(normPix)
            val model = CaeModel(config, tinyCae, be, 2).teacherUpdates(false)
            val rng = SplittableRandom(3)
            // move the teacher away from the encoder so the alignment term is not trivially small
            for (p in model.parameters().all()) if (p.name().startsWith("teacher.") && !p.name().endsWith("pos_embed")) {
                val v = be.toHost(p.value())
                be.upload(FloatArray(v.size) { v[it] + 0.05f * rng.nextGaussian().toFloat() }, p.value())
            }
            val imgs = images(2, config, 4)
            val plan = BlockMasking().plan(2, 4, 4, 0.5, rng)
            val params = model.parameters()
            params.zeroGrad()
            model.forward(imgs, plan)
            model.backward(1f)
            val trainable = params.trainable()
            val grads = trainable.map { be.toHost(it.grad()) }
            val values = trainable.map { be.toHost(it.value()) }
            repeat(3) {
                val dirs = values.map { v -> FloatArray(v.size) { rng.nextGaussian().toFloat() } }
                var analytic = 0.0
                for (i in trainable.indices) for (j in dirs[i].indices) analytic += grads[i][j].toDouble() * dirs[i][j]
                val h = 3e-4f
                fun lossAt(sign: Float): Double {
                    for (i in trainable.indices) {
                        be.upload(FloatArray(values[i].size) { j -> values[i][j] + sign * h * dirs[i][j] }, trainable[i].value())
                    }
                    return model.forward(imgs, plan).toDouble()
                }
                val numeric = (lossAt(1f) - lossAt(-1f)) / (2 * h)
                for (i in trainable.indices) be.upload(values[i], trainable[i].value())
                val rel = abs(numeric - analytic) / max(1e-6, abs(analytic))
                withClue("numeric $numeric analytic $analytic") { rel shouldBeLessThan 1e-2 }
            }
            for (n in listOf("mask_token", "encoder.cls_token", "encoder.blocks.0.gamma_1", "encoder.patch_embed.proj.bias",
                "pretext_neck.regressor_blocks.0.cross_attn.k.weight", "pretext_neck.head.bias")) {
                withClue("$n receives gradient") { (be.sumSquares(params.get(n).grad()) > 0f) shouldBe true }
            }
        }
    }

    test("loss = loss_main + λ · MSE(latent_pred, latent_target), λ from the config") {
        val imgs = images(2, tiny, 5)
        val plan = BlockMasking().plan(2, 4, 4, 0.5, SplittableRandom(6))
        val one = CaeModel(tiny, tinyCae.withAlignLossWeight(1.0), be, 7).teacherUpdates(false)
        val two = CaeModel(tiny, tinyCae.withAlignLossWeight(2.0), be, 7).teacherUpdates(false)
        // a teacher different from the encoder, the same in both
        for (m in listOf(one, two)) {
            val p = m.parameters().get("teacher.blocks.0.mlp.fc1.weight")
            be.upload(FloatArray(p.value().size()) { ((it * 37) % 11 - 5) * 0.1f }, p.value())
        }
        val l1 = one.forward(imgs, plan); val l2 = two.forward(imgs, plan)
        val pred = be.toHost(one.latentPred()); val target = be.toHost(one.latentTarget())
        val mse = pred.indices.sumOf { (pred[it] - target[it]).toDouble().let { d -> d * d } } / pred.size
        abs(one.lossAlign() - mse) shouldBeLessThan 1e-6 * (1 + mse)
        abs(two.lossAlign() - 2 * mse) shouldBeLessThan 2e-6 * (1 + mse)
        one.lossMain() shouldBe two.lossMain()
        abs(l1 - (one.lossMain() + one.lossAlign())).toDouble() shouldBeLessThan 1e-6
        abs(l2 - (two.lossMain() + two.lossAlign())).toDouble() shouldBeLessThan 1e-6
        one.lossTerms().keys shouldBe setOf("loss_main", "loss_align")
    }

    test("EMA teacher: after a forward, teacher = m · teacher + (1 - m) · encoder; m = 0 copies; no teacher gradient") {
        val model = CaeModel(tiny, tinyCae.withBaseMomentum(0.9), be, 8)
        val names = model.parameters().all().map { it.name() }.filter { it.startsWith("encoder.") && !it.endsWith("pos_embed") }
        // give the encoder new weights, as after an optimizer step
        val rng = SplittableRandom(9)
        for (n in names) {
            val p = model.parameters().get(n)
            be.upload(FloatArray(p.value().size()) { rng.nextGaussian().toFloat() * 0.1f }, p.value())
        }
        val before = names.associateWith { host(model, "teacher." + it.removePrefix("encoder.")) }
        val encoder = names.associateWith { host(model, it) }
        val imgs = images(2, tiny, 10)
        val plan = RandomMasking().plan(2, 4, 4, 0.5, rng)
        model.forward(imgs, plan)
        // the target came from the teacher before its update
        val target1 = be.toHost(model.latentTarget())
        for (n in names) {
            val t = host(model, "teacher." + n.removePrefix("encoder."))
            for (i in t.indices) {
                val expected = 0.9 * before.getValue(n)[i] + 0.1 * encoder.getValue(n)[i]
                withClue("$n[$i]") { abs(t[i] - expected) shouldBeLessThan 1e-6 + 1e-6 * abs(expected) }
            }
        }
        model.parameters().zeroGrad()
        model.backward(1f)
        model.parameters().all().filter { it.name().startsWith("teacher.") }.forEach { it.grad() shouldBe null }
        // a second forward sees the moved teacher: another target
        model.forward(imgs, plan)
        be.toHost(model.latentTarget()).toList() shouldNotBe target1.toList()
        // momentum 0 copies the encoder exactly
        model.momentumUpdate(0.0)
        for (n in names) host(model, "teacher." + n.removePrefix("encoder.")).toList() shouldBe host(model, n).toList()
        shouldThrow<IllegalArgumentException> { model.momentumUpdate(1.5) }.message shouldContain "[0, 1]"
    }

    test("stop-gradient: the teacher's target does not depend on the student's weights within a step") {
        val model = CaeModel(tiny, tinyCae, be, 11).teacherUpdates(false)
        val imgs = images(2, tiny, 12)
        val plan = BlockMasking().plan(2, 4, 4, 0.5, SplittableRandom(13))
        model.forward(imgs, plan)
        val target = be.toHost(model.latentTarget())
        val p = model.parameters().get("encoder.blocks.0.attn.qkv.weight")
        be.upload(FloatArray(p.value().size()) { 0.3f }, p.value())
        model.forward(imgs, plan)
        be.toHost(model.latentTarget()).toList() shouldBe target.toList()
    }

    test("encode: all patches, cls first, [B, 1 + L, D]") {
        val model = CaeModel(tiny, tinyCae, be, 14)
        val out = model.encode(images(3, tiny, 15))
        out.shape().toList() shouldBe listOf(3, 17, 8)
        model.encoderStateDict().keys.first() shouldBe "cls_token"
    }

    test("clear errors: no masked patch, wrong images, bad CAE config") {
        val model = CaeModel(tiny, tinyCae, be, 16)
        shouldThrow<IllegalArgumentException> { model.forward(images(1, tiny, 1), MaskPlan.none(1, 16)) }.message shouldContain "masked patch"
        shouldThrow<IllegalArgumentException> { model.forward(be.zeros(1, 1, 8, 8), MaskPlan.none(1, 16)) }.message shouldContain "expected images"
        shouldThrow<IllegalArgumentException> { CaeModel(tiny, CaeConfig(0, 1, 3, 0.1, 0.1, 2.0, 0.0, "dalle", 0, 0.0), be) }.message
            .let { it shouldContain "regressor_depth"; it shouldContain "decoder_num_heads 3"; it shouldContain "DALL-E" }
    }
})
