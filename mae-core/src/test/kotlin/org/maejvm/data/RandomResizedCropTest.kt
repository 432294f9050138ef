package org.maejvm.data

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.property.Arb
import io.kotest.property.arbitrary.int
import io.kotest.property.arbitrary.long
import io.kotest.property.checkAll
import java.util.SplittableRandom

class RandomResizedCropTest : FunSpec({
    val rrc = RandomResizedCrop.MAE_PRETRAIN

    test("boxes lie inside the image for any size, and the same seed gives the same box") {
        checkAll(300, Arb.int(1..400), Arb.int(1..400), Arb.long()) { h, w, seed ->
            val box = rrc.sample(h, w, SplittableRandom(seed))
            box.height() shouldBeGreaterThan 0
            box.width() shouldBeGreaterThan 0
            (box.top() + box.height()) shouldBeLessThanOrEqual h
            (box.left() + box.width()) shouldBeLessThanOrEqual w
            rrc.sample(h, w, SplittableRandom(seed)) shouldBe box
        }
    }

    test("on a 224x224 image area and aspect stay in scale (0.2, 1) and ratio (3/4, 4/3), up to rounding") {
        val rng = SplittableRandom(1)
        var minArea = 1.0
        var maxArea = 0.0
        repeat(5000) {
            val b = rrc.sample(224, 224, rng)
            val area = b.height() * b.width() / (224.0 * 224.0)
            val ratio = b.width().toDouble() / b.height()
            // Rounding w and h to integers moves area and ratio by about 1/sqrt(area in pixels).
            area shouldBeGreaterThan 0.2 - 0.01
            area shouldBeLessThan 1.0 + 1e-9
            ratio shouldBeGreaterThan 0.75 - 0.02
            ratio shouldBeLessThan 4.0 / 3.0 + 0.02
            minArea = minOf(minArea, area)
            maxArea = maxOf(maxArea, area)
        }
        // Draws span the whole scale range, not a constant.
        minArea shouldBeLessThan 0.22
        maxArea shouldBeGreaterThan 0.9
    }

    test("different seeds give different boxes") {
        val boxes = (0L until 50L).map { rrc.sample(224, 224, SplittableRandom(it)) }.toSet()
        boxes.size shouldBeGreaterThan 40
    }

    test("falls back to torchvision's centre crop when no attempt fits") {
        // 1x100: inRatio 100 > 4/3, so h = 1 and w = round(1 * 4/3) = 1, centred.
        rrc.sample(1, 100, SplittableRandom(3)) shouldBe CropBox(0, 49, 1, 1)
        // Tall 100x10 needs w/h >= 3/4: w = 10, h = round(10 / 0.75) = 13, top = (100 - 13) / 2 = 43.
        rrc.sample(100, 10, SplittableRandom(3)) shouldBe CropBox(43, 0, 13, 10)
        // A square image under ratio (2, 3) keeps the full width; a ratio range that holds the image keeps it whole.
        RandomResizedCrop(1.0, 1.0, 2.0, 3.0).fallback(10, 10) shouldBe CropBox(2, 0, 5, 10)
        RandomResizedCrop(1.0, 1.0, 0.75, 4.0 / 3.0).fallback(10, 12) shouldBe CropBox(0, 0, 10, 12)
    }

    test("bad ranges are rejected with the values") {
        val e = runCatching { RandomResizedCrop(0.5, 0.2, 0.75, 1.33) }.exceptionOrNull()!!
        e.message shouldBe "scale range must satisfy 0 < min <= max <= 1, got (0.5, 0.2)"
        runCatching { RandomResizedCrop(0.2, 1.0, 0.0, 1.0) }.isFailure shouldBe true
    }

    test("per-sample generators depend on seed, epoch and index") {
        fun draw(seed: Long, epoch: Int, index: Int) = Seeds.forSample(seed, epoch, index).nextLong()
        draw(1, 0, 0) shouldBe draw(1, 0, 0)
        draw(1, 0, 0) shouldNotBe draw(2, 0, 0)
        draw(1, 0, 0) shouldNotBe draw(1, 1, 0)
        draw(1, 0, 0) shouldNotBe draw(1, 0, 1)
        draw(1, 1, 0) shouldNotBe draw(1, 0, 1)
    }
})
