package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import org.maejvm.ops.Erf
import kotlin.math.PI
import kotlin.math.abs
import kotlin.math.exp
import kotlin.math.sqrt

/** The vectorised normal CDF behind GELU, against a double-precision oracle on a dense grid. */
class SimdErfTest : FunSpec({

    /** erfc in double: 1 - erf by series below 2, the continued fraction (accurate there) above. */
    fun erfc(z: Double): Double {
        if (z < 2.0) return 1.0 - Erf.erf(z)
        var f = z
        for (n in 200 downTo 1) f = z + (n / 2.0) / f
        return exp(-z * z) / sqrt(PI) / f
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2, and its lower tail Phi(-|x|) kept to full relative precision. */
    fun phi(x: Double) = if (x < 0) 0.5 * erfc(-x / sqrt(2.0)) else 1.0 - 0.5 * erfc(x / sqrt(2.0))

    val grid = FloatArray(24_001) { -12f + it * 1e-3f }

    /** The whole grid at once: all but the last few elements go through the vector path. */
    fun vectorPhi(xs: FloatArray): FloatArray = FloatArray(xs.size).also { SimdActivations.phi(xs, it, 0, xs.size) }

    /** One element at a time: every element goes through the scalar path. */
    fun scalarPhi(xs: FloatArray): FloatArray = FloatArray(xs.size).also { out ->
        for (i in xs.indices) SimdActivations.phi(xs, out, i, i + 1)
    }

    test("oracle sanity: tabulated Phi values") {
        abs(phi(1.0) - 0.8413447460685429) shouldBeLessThan 1e-15
        abs(phi(-3.0) - 0.0013498980316300946) / 0.0013498980316300946 shouldBeLessThan 1e-12
        abs(phi(-8.0) - 6.220960574271785e-16) / 6.220960574271785e-16 shouldBeLessThan 1e-10
    }

    for ((name, eval) in listOf("vector" to ::vectorPhi, "scalar" to ::scalarPhi)) {
        // The lower tail is exp of about -x^2/2; rounding that float argument alone costs up to x^2 * 3e-8 relative.
        test("$name Phi: lower tail within 3e-7 + 3e-8 x^2 relative, upper half within 1.5e-7 absolute, on [-12, 12]") {
            val got = eval(grid)
            // worst errors as fractions of their bounds
            var worstTail = 0.0
            var worstUpper = 0.0
            for (i in grid.indices) {
                val x = grid[i].toDouble()
                val want = phi(x)
                if (x < 0) worstTail = maxOf(worstTail, abs(got[i] - want) / want / (3e-7 + 3e-8 * x * x))
                else worstUpper = maxOf(worstUpper, abs(got[i] - want))
            }
            worstTail shouldBeLessThan 1.0
            worstUpper shouldBeLessThan 1.5e-7
        }
    }
})
