package org.maejvm.data

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThanOrEqual
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.util.SplittableRandom
import kotlin.math.abs

/** Pillow's output for every RandAugment op on two seeded images (tools/fixtures/make_augment_fixtures.py). */
private val FIXTURE: JsonNode by lazy {
    val s = RandAugmentTest::class.java.getResourceAsStream("/data/randaugment_pil.json")
        ?: error("fixture data/randaugment_pil.json is missing from the test resources")
    s.use { ObjectMapper().readTree(it) }
}

private fun ints(n: JsonNode) = IntArray(n.size()) { n[it].asInt() }

private fun run(op: String, img: Image8, args: JsonNode, fill: IntArray): Image8 = when (op) {
    "autocontrast" -> PilOps.autocontrast(img)
    "equalize" -> PilOps.equalize(img)
    "invert" -> PilOps.invert(img)
    "posterize" -> PilOps.posterize(img, args[0].asInt())
    "solarize" -> PilOps.solarize(img, args[0].asInt())
    "solarize_add" -> PilOps.solarizeAdd(img, args[0].asInt(), 128)
    "color" -> PilOps.color(img, args[0].asDouble())
    "contrast" -> PilOps.contrast(img, args[0].asDouble())
    "brightness" -> PilOps.brightness(img, args[0].asDouble())
    "sharpness" -> PilOps.sharpness(img, args[0].asDouble())
    "rotate" -> PilOps.rotate(img, args[0].asDouble(), fill)
    "shear_x" -> PilOps.shearX(img, args[0].asDouble(), fill)
    "shear_y" -> PilOps.shearY(img, args[0].asDouble(), fill)
    "translate_x_rel" -> PilOps.translateXRel(img, args[0].asDouble(), fill)
    "translate_y_rel" -> PilOps.translateYRel(img, args[0].asDouble(), fill)
    else -> error("unknown op $op in the fixture")
}

class RandAugmentTest : FunSpec({
    val geometric = setOf("rotate", "shear_x", "shear_y", "translate_x_rel", "translate_y_rel")

    for (case in FIXTURE["cases"]) {
        val op = case["op"].asText()
        val c = case["channels"].asInt()
        test("$op ${case["args"]} on a ${c}-channel image gives Pillow's bytes") {
            val img = Image8(ints(case["input"]), c, case["height"].asInt(), case["width"].asInt())
            val expected = ints(case["expected"])
            val got = run(op, img, case["args"], ints(case["fill"])).px()
            // Table and blend ops are exact; the bicubic affine filter may round a value differently by 1.
            val tol = if (op in geometric) 1 else 0
            var worst = 0
            for (i in expected.indices) worst = maxOf(worst, abs(got[i] - expected[i]))
            withClue("worst difference $worst over ${expected.size} values") { (worst <= tol) shouldBe true }
            if (op in geometric) {
                val exact = expected.indices.count { got[it] == expected[it] }
                withClue("exact values") { exact.toDouble() / expected.size shouldBeGreaterThanOrEqual 0.95 }
            }
        }
    }

    test("timm's level functions at magnitude 9: posterize 1 bit, solarize at 26, add 99, rotate 27 deg, factor 1.81") {
        val case = FIXTURE["cases"][0]
        val img = Image8(ints(case["input"]), 3, case["height"].asInt(), case["width"].asInt())
        val fill = intArrayOf(124, 116, 104)
        RandAugment.Op.POSTERIZE_INCREASING.apply(img, 9.0, false, fill).px().toList() shouldBe PilOps.posterize(img, 1).px().toList()
        RandAugment.Op.SOLARIZE_INCREASING.apply(img, 9.0, false, fill).px().toList() shouldBe PilOps.solarize(img, 26).px().toList()
        RandAugment.Op.SOLARIZE_ADD.apply(img, 9.0, false, fill).px().toList() shouldBe PilOps.solarizeAdd(img, 99, 128).px().toList()
        RandAugment.Op.ROTATE.apply(img, 9.0, true, fill).px().toList() shouldBe PilOps.rotate(img, -27.0, fill).px().toList()
        RandAugment.Op.COLOR_INCREASING.apply(img, 9.0, false, fill).px().toList() shouldBe PilOps.color(img, 1.81).px().toList()
        RandAugment.Op.SHARPNESS_INCREASING.apply(img, 9.0, true, fill).px().toList() shouldBe PilOps.sharpness(img, 1 - 0.81).px().toList()
        RandAugment.Op.SHEAR_X.apply(img, 10.0, false, fill).px().toList() shouldBe PilOps.shearX(img, 0.3, fill).px().toList()
        RandAugment.Op.TRANSLATE_Y_REL.apply(img, 5.0, true, fill).px().toList() shouldBe PilOps.translateYRel(img, -0.225, fill).px().toList()
        // Magnitude 0 is the identity for every op but the three without a level.
        for (op in RandAugment.Op.entries) {
            if (op == RandAugment.Op.AUTO_CONTRAST || op == RandAugment.Op.EQUALIZE || op == RandAugment.Op.INVERT) continue
            if (op == RandAugment.Op.POSTERIZE_INCREASING) continue // 4 bits kept at level 0
            withClue(op) { op.apply(img, 0.0, false, fill).px().toList() shouldBe img.px().toList() }
        }
    }

    test("rand-m9-mstd0.5-inc1 parses to the official settings; a seed fixes the result") {
        val ra = RandAugment.parse("rand-m9-mstd0.5-inc1", Normalization.IMAGENET)
        ra.toString() shouldBe "RandAugment[n=2, m=9.0, mstd=0.5, p=0.5]"
        val rng = SplittableRandom(1)
        val img = Image8(IntArray(3 * 16 * 16) { rng.nextInt(256) }, 3, 16, 16)
        val a = ra.apply(img, SplittableRandom(42)).px().toList()
        ra.apply(img, SplittableRandom(42)).px().toList() shouldBe a
        // Over many seeds some images change and some (both ops skipped, p = 0.25) do not.
        val changed = (0 until 40).count { ra.apply(img, SplittableRandom(it.toLong())).px().toList() != img.px().toList() }
        changed shouldBeGreaterThan 20
        changed shouldBeLessThanOrEqual 39
        RandAugment(0, 9.0, 0.5, 0.5, intArrayOf(0, 0, 0)).apply(img, SplittableRandom(1)).px().toList() shouldBe img.px().toList()
    }

    test("random erasing: one box inside the image, area within [0.02, 1/3], filled with N(0, 1) noise") {
        val erasing = RandomErasing(1.0)
        var erased = 0
        for (seed in 0 until 300) {
            val h = 20 + seed % 13
            val w = 24 + seed % 7
            val data = FloatArray(3 * h * w) { 5f }
            val box = erasing.apply(data, 0, 3, h, w, SplittableRandom(seed.toLong())) ?: continue
            erased++
            (box.top() >= 0 && box.left() >= 0 && box.top() + box.height() <= h && box.left() + box.width() <= w) shouldBe true
            val area = box.height() * box.width().toDouble() / (h * w)
            // the box sides are rounded, so the area can leave the range by a rounding of each side
            val slack = (box.height() + box.width() + 1.0) / (h * w)
            (area >= RandomErasing.MIN_AREA - slack && area <= RandomErasing.MAX_AREA + slack) shouldBe true
            val inside = data.indices.count { i ->
                val y = (i / w) % h; val x = i % w
                y in box.top() until box.top() + box.height() && x in box.left() until box.left() + box.width()
            }
            inside shouldBe 3 * box.height() * box.width()
            data.count { it == 5f } shouldBe data.size - inside // everything outside untouched, inside replaced
            val noise = data.filter { it != 5f }
            noise.average() shouldBe (0.0 plusOrMinus 4.0 / kotlin.math.sqrt(noise.size.toDouble()) + 0.05)
        }
        erased shouldBeGreaterThan 290 // all but the rare draws where no box fits in 10 attempts
        val none = RandomErasing(0.0)
        (0 until 50).all { none.sample(20, 20, SplittableRandom(it.toLong())) == null } shouldBe true
        val quarter = RandomErasing(0.25)
        val hits = (0 until 2000).count { quarter.sample(32, 32, SplittableRandom(it.toLong())) != null }
        (hits in 420..580) shouldBe true
    }

    test("the fine-tuning transform is a pure function of the generator and differs across seeds") {
        val rng = SplittableRandom(3)
        val img = FloatImage(FloatArray(3 * 40 * 36) { rng.nextInt(256) / 255f }, 3, 40, 36)
        val t = FinetuneTransform.official(32, Normalization.IMAGENET, 0.25)
        val a = t.apply(img, SplittableRandom(9)).data().toList()
        t.apply(img, SplittableRandom(9)).data().toList() shouldBe a
        t.apply(img, SplittableRandom(10)).data().toList() shouldNotBe a
        a.size shouldBe 3 * 32 * 32
        // Without RandAugment and erasing it equals the plain crop + flip + normalise of the pretraining transform.
        val plain = FinetuneTransform(32, RandomResizedCrop.TORCHVISION_DEFAULT, null, null, Normalization.IMAGENET)
        val reference = TrainTransform(32, RandomResizedCrop.TORCHVISION_DEFAULT, 0.5, Normalization.IMAGENET)
        val p = plain.apply(img, SplittableRandom(4)).data()
        val r = reference.apply(img, SplittableRandom(4)).data()
        for (i in p.indices) p[i] shouldBe (r[i] plusOrMinus 1e-5f)
    }
})

