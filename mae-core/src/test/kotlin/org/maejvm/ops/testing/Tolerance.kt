package org.maejvm.ops.testing

import kotlin.math.abs

/**
 * How far a backend's float32 result may be from the reference: element i passes when
 * |actual - expected| <= abs + rel * |expected| + cond * magnitude[i], where magnitude (when given) is the sum of
 * the absolute values of the terms that were added up to make element i. The cond term is what a float32
 * sum legitimately loses; a dropped or doubled term costs far more.
 */
data class Tol(val abs: Double, val rel: Double = 0.0, val cond: Double = 0.0) {
    /** All three bounds multiplied by factor (a backend with looser arithmetic, e.g. a GPU's). */
    fun times(factor: Double) = Tol(abs * factor, rel * factor, cond * factor)

    override fun toString() = "abs $abs, rel $rel" + if (cond > 0) ", cond $cond" else ""

    companion object {
        /** Bit-identical: data movement and single IEEE operations. */
        val EXACT = Tol(0.0)
    }
}

/** Set MAE_CONFORMANCE_REPORT=1 to print, for every comparison, its worst error as a fraction of the bound. */
private val REPORT = System.getenv("MAE_CONFORMANCE_REPORT") == "1"

/** Checks actual against expected element by element; the message names what was compared and the worst misses. */
fun assertClose(what: String, actual: FloatArray, expected: FloatArray, tol: Tol, magnitude: DoubleArray? = null) {
    if (actual.size != expected.size) {
        throw AssertionError("$what: ${actual.size} values, the reference has ${expected.size}")
    }
    val misses = ArrayList<String>()
    var missCount = 0
    var worst = 0.0
    for (i in expected.indices) {
        val e = expected[i].toDouble()
        val a = actual[i].toDouble()
        if (a == e || (a.isNaN() && e.isNaN())) continue
        val bound = tol.abs + tol.rel * abs(e) + tol.cond * (magnitude?.get(i) ?: 0.0)
        val err = abs(a - e)
        worst = maxOf(worst, err / bound)
        if (err.isNaN() || err > bound) {
            missCount++
            if (misses.size < 5) misses += "[$i] expected $e, got $a (error ${"%.3g".format(err)}, bound ${"%.3g".format(bound)})"
        }
    }
    if (REPORT) println("conformance: $what: worst error ${"%.3f".format(worst)} of the bound ($tol)")
    if (missCount > 0) {
        throw AssertionError("$what: $missCount of ${expected.size} values outside tolerance ($tol): " + misses.joinToString("; "))
    }
}

fun assertClose(what: String, actual: Float, expected: Float, tol: Tol, magnitude: Double? = null) =
    assertClose(what, floatArrayOf(actual), floatArrayOf(expected), tol, magnitude?.let { doubleArrayOf(it) })
