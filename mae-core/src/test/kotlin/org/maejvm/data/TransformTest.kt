package org.maejvm.data

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.util.SplittableRandom

class TransformTest : FunSpec({
    fun randomImage(c: Int, h: Int, w: Int, seed: Long): FloatImage {
        val rng = SplittableRandom(seed)
        return FloatImage(FloatArray(c * h * w) { rng.nextFloat() }, c, h, w)
    }

    test("Normalize with 1 channel: (x - 0.2860) / 0.3530") {
        val data = floatArrayOf(0f, 0.286f, 1f, 0.5f)
        Normalization.FASHION_MNIST.applyInPlace(data, 0, 1, 4)
        data[0] shouldBe ((0f - 0.286f) / 0.353f plusOrMinus 1e-6f)
        data[1] shouldBe (0f plusOrMinus 1e-7f)
        data[2] shouldBe ((1f - 0.286f) / 0.353f plusOrMinus 1e-6f)
        data[3] shouldBe ((0.5f - 0.286f) / 0.353f plusOrMinus 1e-6f)
    }

    test("Normalize with ImageNet statistics treats each channel separately") {
        val data = FloatArray(3 * 2) { 0.5f }
        Normalization.IMAGENET.applyInPlace(data, 0, 3, 2)
        data[0] shouldBe ((0.5f - 0.485f) / 0.229f plusOrMinus 1e-6f)
        data[2] shouldBe ((0.5f - 0.456f) / 0.224f plusOrMinus 1e-6f)
        data[5] shouldBe ((0.5f - 0.406f) / 0.225f plusOrMinus 1e-6f)
    }

    test("a normalisation with the wrong channel count is refused with both counts") {
        val e = runCatching { Normalization.IMAGENET.applyInPlace(FloatArray(4), 0, 1, 4) }.exceptionOrNull()!!
        e.message shouldBe "normalisation has 3 channel(s) but the image has 1; pass a 1-channel mean/std"
        runCatching { TrainTransform.mae(28, Normalization.IMAGENET).checkChannels(1) }.isFailure shouldBe true
    }

    test("default normalisation: ImageNet for RGB, (0.5, 0.5) for gray") {
        Normalization.defaultFor(3) shouldBe Normalization.IMAGENET
        Normalization.defaultFor(1) shouldBe Normalization.of(0.5f, 0.5f)
    }

    test("train transform = RandomResizedCrop box + flip + normalise, drawn from the generator in that order") {
        val img = randomImage(1, 28, 28, 1)
        val t = TrainTransform.mae(28, Normalization.FASHION_MNIST)
        for (seed in 0L until 20L) {
            val out = t.apply(img, SplittableRandom(seed))
            // Redo it step by step with the same draws.
            val rng = SplittableRandom(seed)
            val box = RandomResizedCrop.MAE_PRETRAIN.sample(28, 28, rng)
            val flip = rng.nextDouble() < 0.5
            val expected = FloatArray(28 * 28)
            Bicubic.resample(img, box.top(), box.left(), box.height(), box.width(), 28, 28, 0, 0, 28, 28,
                flip, null, expected, 0)
            Normalization.FASHION_MNIST.applyInPlace(expected, 0, 1, 28 * 28)
            for (i in expected.indices) out.data()[i] shouldBe (expected[i] plusOrMinus 1e-6f)
        }
    }

    test("the same generator seed gives the same output, another seed another one") {
        val img = randomImage(3, 40, 30, 2)
        val t = TrainTransform.mae(32, Normalization.IMAGENET)
        val a = t.apply(img, SplittableRandom(7)).data()
        t.apply(img, SplittableRandom(7)).data().toList() shouldBe a.toList()
        t.apply(img, SplittableRandom(8)).data().toList() shouldNotBe a.toList()
    }

    test("flips happen about half of the time") {
        val img = randomImage(1, 8, 8, 3)
        val noFlip = TrainTransform(8, RandomResizedCrop(1.0, 1.0, 1.0, 1.0), 0.0, null)
        val t = TrainTransform(8, RandomResizedCrop(1.0, 1.0, 1.0, 1.0), 0.5, null)
        val plain = noFlip.apply(img, SplittableRandom(0)).data().toList()
        val flipped = (0L until 400L).count { t.apply(img, SplittableRandom(it)).data().toList() != plain }
        (flipped / 400.0 - 0.5).let { kotlin.math.abs(it) } shouldBeLessThan 0.1
    }

    test("eval transform on 28x28: resize to 32, centre crop 28 starting at (2, 2)") {
        val img = randomImage(1, 28, 28, 4)
        val t = EvalTransform(28, null)
        t.resizeTo() shouldBe 32
        val resized = Bicubic.resize(img, 32, 32)
        val out = t.apply(img, SplittableRandom(0))
        for (y in 0 until 28) for (x in 0 until 28) out.get(0, y, x) shouldBe resized.get(0, y + 2, x + 2)
    }

    test("eval crop_pct follows main_finetune: 0.875 up to 224, 1.0 above") {
        EvalTransform(224, null).resizeTo() shouldBe 256
        EvalTransform(28, null).resizeTo() shouldBe 32
        EvalTransform(32, null).resizeTo() shouldBe 36 // int(36.57)
        EvalTransform(384, null).resizeTo() shouldBe 384
    }

    test("eval transform when the short side is already int(size / 0.875): a plain centre crop") {
        val img = randomImage(3, 32, 41, 7)
        val out = EvalTransform(28, null).apply(img, SplittableRandom(0))
        // Centre crop of 32x41 to 28: top = round(2.0) = 2, left = round(6.5) = 6 (halves round to even).
        for (c in 0 until 3) for (y in 0 until 28) for (x in 0 until 28) {
            out.get(c, y, x) shouldBe img.get(c, y + 2, x + 6)
        }
    }

})
