package org.maejvm.data

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.util.SplittableRandom
import kotlin.math.abs

/** Bicubic resampling against Pillow / torchvision values made by tools/fixtures/make_resize_fixtures.py. */
class BicubicTest : FunSpec({
    val doc: JsonNode = ObjectMapper().readTree(
        BicubicTest::class.java.getResourceAsStream("/data/bicubic_pil.json")
            ?: error("fixture data/bicubic_pil.json is missing from the test resources")
    )

    fun input(case: JsonNode): FloatImage {
        val bytes = case["input_bytes"]
        val data = FloatArray(bytes.size()) { bytes[it].asInt() / 255f }
        return FloatImage(data, case["channels"].asInt(), case["height"].asInt(), case["width"].asInt())
    }

    fun ours(case: JsonNode, image: FloatImage): FloatArray = when (case["kind"].asText()) {
        "resize" -> Bicubic.resize(image, case["out_height"].asInt(), case["out_width"].asInt()).data()
        "resized_crop" -> {
            val size = case["size"].asInt()
            val out = FloatArray(image.channels() * size * size)
            Bicubic.resample(image, case["top"].asInt(), case["left"].asInt(), case["crop_height"].asInt(),
                case["crop_width"].asInt(), size, size, 0, 0, size, size, case["flip"].asBoolean(), null, out, 0)
            out
        }
        "eval" -> EvalTransform(case["size"].asInt(), doc["crop_pct"].asDouble(), null)
            .apply(image, SplittableRandom(0)).data()
        else -> error("unknown fixture kind ${case["kind"]}")
    }

    test("the fixture covers every kind of case") {
        doc["cases"].map { it["kind"].asText() }.toSet() shouldBe setOf("resize", "resized_crop", "eval")
    }

    for (case in doc["cases"]) {
        test("${case["name"].asText()} (${case["kind"].asText()}) equals Pillow within 1e-5") {
            val expected = case["output"]
            val actual = ours(case, input(case))
            actual.size shouldBe expected.size()
            var worst = 0.0
            for (i in actual.indices) worst = maxOf(worst, abs(actual[i] - expected[i].asDouble()))
            println("bicubic fixture ${case["name"].asText()}: max abs error %.3g".format(worst))
            worst shouldBeLessThan 1e-5
        }
    }

    test("taps sum to one and stay inside the input") {
        for ((inSize, outSize) in listOf(1 to 7, 7 to 1, 13 to 5, 5 to 13, 224 to 37, 100 to 100)) {
            val t = Bicubic.taps(inSize, outSize)
            for (i in 0 until outSize) {
                var sum = 0.0
                for (k in 0 until t.count()[i]) sum += t.weight()[i * t.taps() + k]
                abs(sum - 1.0) shouldBeLessThan 1e-12
                (t.first()[i] >= 0 && t.first()[i] + t.count()[i] <= inSize) shouldBe true
            }
        }
    }

    test("resizing to the same size is the identity") {
        val rng = SplittableRandom(5)
        val img = FloatImage(FloatArray(3 * 9 * 11) { rng.nextFloat() }, 3, 9, 11)
        Bicubic.resize(img, 9, 11).data().toList() shouldBe img.data().toList()
    }

    test("a window of the resized image equals cropping the full resize") {
        val rng = SplittableRandom(9)
        val img = FloatImage(FloatArray(2 * 23 * 17) { rng.nextFloat() }, 2, 23, 17)
        val full = Bicubic.resize(img, 31, 29)
        val win = FloatArray(2 * 10 * 12)
        Bicubic.resample(img, 0, 0, 23, 17, 31, 29, 7, 11, 10, 12, false, null, win, 0)
        for (c in 0 until 2) for (y in 0 until 10) for (x in 0 until 12) {
            win[(c * 10 + y) * 12 + x] shouldBe full.get(c, 7 + y, 11 + x)
        }
    }

    test("a crop box outside the image is rejected with the box and the image size") {
        val img = FloatImage(FloatArray(4 * 4), 1, 4, 4)
        val e = runCatching { Bicubic.resample(img, 2, 0, 3, 4, 4, 4, 0, 0, 4, 4, false, null, FloatArray(16), 0) }
            .exceptionOrNull()!!
        e.message shouldBe "crop (top=2, left=0, height=3, width=4) must be non-empty and inside the 4x4 image"
    }
})
