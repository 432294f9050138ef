package org.maejvm.viz

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.max

class UnnormalizeTest : FunSpec({
    val be = ReferenceBackend()

    test("a prediction equal to the loss's normalised target un-normalises to the original patch") {
        val rng = SplittableRandom(7)
        val b = 2; val l = 5; val p = 12
        // Patches with different offsets and spreads, so a wrong mean or std shows.
        val target = FloatArray(b * l * p) { i -> (3.0 * (i / p % 3) + (1 + i / p % 4) * rng.nextGaussian()).toFloat() }
        val pred = FloatArray(target.size)
        for (row in 0 until b * l) {
            val xs = (0 until p).map { target[row * p + it].toDouble() }
            val mean = xs.average()
            val variance = xs.sumOf { (it - mean) * (it - mean) } / (p - 1) // unbiased, as torch's var
            for (k in 0 until p) pred[row * p + k] = ((xs[k] - mean) / Math.sqrt(variance + 1e-6)).toFloat()
        }
        // The oracle's norm-pix loss agrees that pred is exactly the normalised target.
        val mask = be.fromHost(FloatArray(b * l) { 1f }, b, l)
        val loss = be.maskedMseForward(be.fromHost(pred, b, l, p), be.fromHost(target, b, l, p), mask, true)
        loss.toDouble() shouldBeLessThan 1e-10

        val restored = Unnormalize.perPatch(pred, target, p)
        var worst = 0.0
        for (i in target.indices) worst = max(worst, abs(restored[i].toDouble() - target[i]))
        worst shouldBeLessThan 1e-5
    }

    test("a zero prediction of a norm_pix model becomes each patch's mean colour") {
        val target = floatArrayOf(1f, 3f, 5f, 7f, /* */ -2f, -2f, -2f, -2f)
        Unnormalize.perPatch(FloatArray(8), target, 4).toList() shouldBe listOf(4f, 4f, 4f, 4f, -2f, -2f, -2f, -2f)
    }

    test("channel un-normalisation is x * std + mean per channel, RGB and grey") {
        val rgb = floatArrayOf(0f, 1f, /* G */ 0f, -1f, /* B */ 2f, 0f)
        Unnormalize.channels(rgb, 3, 2, floatArrayOf(0.5f, 0.25f, 0f), floatArrayOf(0.5f, 0.25f, 0.1f)).toList() shouldBe
            listOf(0.5f, 1f, 0.25f, 0f, 0.2f, 0f)
        val grey = floatArrayOf(0f, 1f, -1f, 2f) // two 1-channel images of 2 pixels
        val out = Unnormalize.channels(grey, 1, 2, floatArrayOf(0.286f), floatArrayOf(0.353f))
        out[0] shouldBe (0.286f plusOrMinus 1e-7f)
        out[1] shouldBe (0.639f plusOrMinus 1e-6f)
        out[3] shouldBe (0.992f plusOrMinus 1e-6f)
    }

    test("mismatched statistics or shapes are refused naming what would fit") {
        shouldThrow<IllegalArgumentException> {
            Unnormalize.channels(FloatArray(12), 3, 4, floatArrayOf(0f, 0f), floatArrayOf(1f, 1f))
        }.message shouldContain "give 3 value(s) or one for all"
        shouldThrow<IllegalArgumentException> {
            Unnormalize.channels(FloatArray(10), 3, 4, floatArrayOf(0f), floatArrayOf(1f))
        }.message shouldContain "not whole images"
        shouldThrow<IllegalArgumentException> { Unnormalize.perPatch(FloatArray(4), FloatArray(8), 4) }
            .message shouldContain "both must be [B, L, p*p*C]"
    }
})
