package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.io.Safetensors
import java.nio.file.Path
import java.util.SplittableRandom
import kotlin.math.abs

/** Mixup / CutMix against timm's formulas (PyTorch fixture), and the random batch-mode draws. */
class MixupTest : FunSpec({
    val fx = Safetensors.read(Path.of("src/test/resources/fixtures/downstream/mixup.safetensors"))
    val x = fx.getValue("x")
    val labels = fx.getValue("labels").ints
    val batch = Batch(x.data, x.dim(0), x.dim(1), x.dim(2), x.dim(3), labels, IntArray(labels.size) { it })
    val mixup = Mixup(Mixup.Config.official(6), 1)

    fun maxDiff(a: FloatArray, b: FloatArray) = a.indices.maxOf { abs(a[it].toDouble() - b[it]) }

    test("mixup with lam 0.7: images and smoothed mixed targets as timm") {
        val m = mixup.mixup(batch, 0.7)
        maxDiff(m.batch().images(), fx.getValue("mixup.x").data) shouldBe 0.0
        maxDiff(m.targets(), fx.getValue("mixup.targets").data) shouldBeLessThan 1e-7
        m.cutmix() shouldBe false
    }

    test("cutmix with lam 0.6 centred at (2, 5): the box, the corrected lam 0.75, images and targets as timm") {
        val m = mixup.cutmix(batch, 0.6, 2, 5)
        m.box().toList() shouldBe listOf(0, 5, 3, 7)
        m.lam() shouldBe 0.75
        maxDiff(m.batch().images(), fx.getValue("cutmix.x").data) shouldBe 0.0
        maxDiff(m.targets(), fx.getValue("cutmix.targets").data) shouldBeLessThan 1e-7
    }

    test("random draws: targets are distributions, lam in [0, 1], both modes occur, the same seed repeats") {
        val a = Mixup(Mixup.Config.official(6), 7)
        val b = Mixup(Mixup.Config.official(6), 7)
        var cut = 0
        repeat(200) {
            val m = a.apply(batch)
            val n = b.apply(batch)
            m.lam() shouldBe n.lam()
            (m.lam() in 0.0..1.0) shouldBe true
            if (m.cutmix()) cut++
            for (i in 0 until 4) abs(m.targets().copyOfRange(i * 6, i * 6 + 6).sum() - 1f).toDouble() shouldBeLessThan 1e-6
        }
        (cut in 60..140) shouldBe true
    }

    test("Beta(0.8, 0.8) draws have mean 1/2 and variance 1/(4 (2a + 1)) = 0.0962") {
        val rng = SplittableRandom(3)
        val s = DoubleArray(20000) { Mixup.beta(0.8, rng) }
        abs(s.average() - 0.5) shouldBeLessThan 0.01
        abs(s.sumOf { (it - 0.5) * (it - 0.5) } / s.size - 0.25 / 2.6) shouldBeLessThan 0.004
    }

    test("an odd batch is refused with the advice to drop the last batch") {
        val odd = Batch(FloatArray(3 * 3 * 2 * 2), 3, 3, 2, 2, intArrayOf(0, 1, 2), intArrayOf(0, 1, 2))
        shouldThrow<IllegalArgumentException> { mixup.apply(odd) }.message shouldContain "even batch size"
    }
})
