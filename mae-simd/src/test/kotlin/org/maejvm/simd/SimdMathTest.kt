package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import jdk.incubator.vector.FloatVector
import kotlin.math.abs
import kotlin.math.exp

class SimdMathTest : FunSpec({
    val species = FloatVector.SPECIES_PREFERRED

    /** The vector path of expInPlace only (sizes are multiples of the vector length, so there is no tail). */
    fun vectorExp(xs: FloatArray): FloatArray {
        require(xs.size % species.length() == 0)
        return xs.copyOf().also { SimdMath.expInPlace(it, 0, it.size) }
    }

    val grid = FloatArray(175_296) { -87.3f + it * 1e-3f } // up to 87.995, a multiple of any vector length

    test("exp is within 2 ulp (2.4e-7 relative) of the double exp on [-87.3, 88]") {
        val got = vectorExp(grid)
        var worst = 0.0
        for (i in grid.indices) {
            val want = exp(grid[i].toDouble())
            worst = maxOf(worst, abs(got[i] - want) / want)
        }
        worst shouldBeLessThan 2.4e-7
    }

    test("vector and scalar exp return the same bits, so tails and thread splits do not change results") {
        val got = vectorExp(grid)
        val mismatches = grid.indices.count { got[it].toRawBits() != SimdMath.exp(grid[it]).toRawBits() }
        mismatches shouldBe 0
    }

    test("scaleShift, expInPlace and sum on an offset range with a tail leave the rest of the array alone") {
        val n = 3 * species.length() + 3
        val a = FloatArray(n + 4) { 0.25f * it - 2f }
        val before = a.copyOf()
        SimdMath.scaleShift(a, 2, n + 2, 0.5f, 1f)
        SimdMath.expInPlace(a, 2, n + 2)
        a[0] shouldBe before[0]; a[1] shouldBe before[1]; a[n + 2] shouldBe before[n + 2]; a[n + 3] shouldBe before[n + 3]
        var want = 0.0
        for (i in 2 until n + 2) {
            val e = exp((0.5f * before[i] - 1f).toDouble())
            (abs(a[i] - e) / e) shouldBeLessThan 2.4e-7
            want += a[i]
        }
        abs(SimdMath.sum(a, 2, n + 2) - want) shouldBeLessThan 1e-5 * want
    }

    test("exp edge values: exact 1 at 0, 0 far below, infinity far above, NaN stays NaN") {
        val specials = FloatArray(species.length() * 2) { 0f }.also {
            it[0] = 0f; it[1] = -1000f; it[2] = Float.NEGATIVE_INFINITY; it[3] = 1000f
            it[4] = Float.POSITIVE_INFINITY; it[5] = Float.NaN; it[6] = -0f; it[7] = -88f
        }
        val v = vectorExp(specials)
        val s = FloatArray(specials.size) { SimdMath.exp(specials[it]) }
        for (out in listOf(v, s)) {
            out[0] shouldBe 1f
            out[1] shouldBe 0f
            out[2] shouldBe 0f
            out[3] shouldBe Float.POSITIVE_INFINITY
            out[4] shouldBe Float.POSITIVE_INFINITY
            out[5].isNaN() shouldBe true
            out[6] shouldBe 1f
            out[7] shouldBe 0f
        }
    }
})
