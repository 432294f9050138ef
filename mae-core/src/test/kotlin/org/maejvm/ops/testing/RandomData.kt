package org.maejvm.ops.testing

import java.util.Random

/** Seeded test data, so a failing case is reproduced from its printed seed. */
class RandomData(seed: Long) {
    val random = Random(seed)

    /** Standard normal floats. */
    fun normal(n: Int, scale: Float = 1f) = FloatArray(n) { (random.nextGaussian() * scale).toFloat() }

    /** Uniform floats in [lo, hi). */
    fun uniform(n: Int, lo: Float, hi: Float) = FloatArray(n) { lo + (hi - lo) * random.nextFloat() }

    fun int(from: Int, until: Int) = from + random.nextInt(until - from)

    /** A random probability distribution over c classes in each of n rows (soft targets). */
    fun distributions(n: Int, c: Int): FloatArray {
        val out = uniform(n * c, 0f, 1f)
        for (r in 0 until n) {
            val s = (0 until c).sumOf { out[r * c + it].toDouble() }
            for (j in 0 until c) out[r * c + j] = (out[r * c + j] / s).toFloat()
        }
        return out
    }
}

/** Sizes that trip vectorised code: below, at and just past common vector widths, primes, and a single element. */
val AWKWARD_SIZES = listOf(1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 31, 33, 64, 67, 97, 131)
