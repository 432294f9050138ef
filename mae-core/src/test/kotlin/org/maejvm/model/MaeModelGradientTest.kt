package org.maejvm.model

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.max

/**
 * The whole model's analytic gradient against central finite differences of the loss along random directions
 * in parameter space (the masking is held fixed by fixed noise), on the reference backend.
 */
class MaeModelGradientTest : FunSpec({
    val be = ReferenceBackend()

    fun directionalCheck(config: MaeConfig, batch: Int, maskRatio: Double, seed: Long) {
        val model = MaeModel(config, be, seed)
        val rng = SplittableRandom(seed + 1)
        val c = config.inChans(); val s = config.imgSize()
        val imgs = be.fromHost(FloatArray(batch * c * s * s) { (rng.nextGaussian()).toFloat() }, batch, c, s, s)
        val noise = FloatArray(batch * config.numPatches()) { rng.nextFloat() }
        val params = model.parameters()
        params.zeroGrad()
        model.forward(imgs, noise, maskRatio)
        model.backward()
        val trainable = params.trainable()
        val grads = trainable.map { be.toHost(it.grad()) }
        val values = trainable.map { be.toHost(it.value()) }
        repeat(3) {
            val dirs = values.map { v -> FloatArray(v.size) { rng.nextGaussian().toFloat() } }
            var analytic = 0.0
            for (i in trainable.indices) for (j in dirs[i].indices) analytic += grads[i][j].toDouble() * dirs[i][j]
            val h = 3e-4f // the tiny LayerNorms make the loss strongly curved: larger steps measure curvature
            fun lossAt(sign: Float): Double {
                for (i in trainable.indices) {
                    be.upload(FloatArray(values[i].size) { j -> values[i][j] + sign * h * dirs[i][j] }, trainable[i].value())
                }
                return model.forward(imgs, noise, maskRatio).toDouble()
            }
            val numeric = (lossAt(1f) - lossAt(-1f)) / (2 * h)
            for (i in trainable.indices) be.upload(values[i], trainable[i].value())
            val rel = abs(numeric - analytic) / max(1e-6, abs(analytic))
            rel shouldBeLessThan 1e-2
        }
    }

    test("tiny RGB model, plain pixel loss") {
        directionalCheck(MaeConfig(8, 4, 3, 8, 2, 2, 8, 1, 2, 2.0, false), batch = 2, maskRatio = 0.5, seed = 1)
    }
    test("tiny grayscale model, norm_pix_loss, odd sizes") {
        directionalCheck(MaeConfig(9, 3, 1, 12, 1, 3, 8, 2, 2, 2.0, true), batch = 3, maskRatio = 0.6, seed = 2)
    }
    test("mask tokens and cls token receive gradient") {
        val config = MaeConfig(8, 4, 3, 8, 1, 2, 8, 1, 2, 2.0, false)
        val model = MaeModel(config, be, 3)
        val imgs = be.fromHost(FloatArray(2 * 3 * 64) { (it % 7).toFloat() / 7f }, 2, 3, 8, 8)
        model.forward(imgs, 0.75, SplittableRandom(4))
        model.backward()
        for (name in listOf("mask_token", "cls_token", "patch_embed.proj.weight", "decoder_pred.bias")) {
            (be.sumSquares(model.parameters().get(name).grad()) > 0f) shouldBe true
        }
        model.parameters().get("pos_embed").grad() shouldBe null
    }
})
