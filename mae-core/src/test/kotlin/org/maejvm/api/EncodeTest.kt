package org.maejvm.api

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.floats.shouldBeLessThan
import io.kotest.matchers.shouldBe
import kotlinx.coroutines.runBlocking
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom
import kotlin.math.abs

/** The encode path for downstream use sees every patch (no masking) and treats images independently. */
class EncodeTest : FunSpec({
    val be = ReferenceBackend()
    val config = MaeConfig(8, 4, 3, 16, 2, 2, 8, 1, 2, 2.0, false)
    val model = MaeModel(config, be, 3)
    val per = 3 * 8 * 8
    val rng = SplittableRandom(9)
    val pixels = FloatArray(2 * per) { rng.nextGaussian().toFloat() }

    test("features are [B, 1 + L, D] and each image's do not depend on the rest of the batch") {
        val both = runBlocking { model.features(be.fromHost(pixels, 2, 3, 8, 8)) }
        both.size shouldBe 2 * (1 + 4) * 16
        for (i in 0 until 2) {
            val alone = runBlocking { model.features(be.fromHost(pixels.copyOfRange(i * per, (i + 1) * per), 1, 3, 8, 8)) }
            val slice = both.copyOfRange(i * alone.size, (i + 1) * alone.size)
            alone.indices.maxOf { abs(alone[it] - slice[it]) } shouldBeLessThan 1e-6f
        }
    }

    test("every patch reaches the cls feature: nothing is masked") {
        val base = runBlocking { model.features(be.fromHost(pixels.copyOf(per), 1, 3, 8, 8)) }.copyOf(16)
        for (py in 0 until 2) for (px in 0 until 2) {
            val changed = pixels.copyOf(per)
            for (c in 0 until 3) for (y in 0 until 4) for (x in 0 until 4) changed[(c * 8 + py * 4 + y) * 8 + px * 4 + x] += 1f
            val cls = runBlocking { model.features(be.fromHost(changed, 1, 3, 8, 8)) }.copyOf(16)
            (cls.indices.maxOf { abs(cls[it] - base[it]) } > 1e-4f) shouldBe true
        }
    }
})
