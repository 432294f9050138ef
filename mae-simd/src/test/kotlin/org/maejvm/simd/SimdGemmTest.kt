package org.maejvm.simd

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.bind
import io.kotest.property.arbitrary.boolean
import io.kotest.property.arbitrary.element
import io.kotest.property.arbitrary.int
import io.kotest.property.checkAll
import kotlin.math.abs
import kotlin.random.Random
import org.maejvm.ops.Backend
import org.maejvm.ops.ReferenceBackend
import org.maejvm.tensor.HostTensor

/**
 * SimdGemm against the reference backend (double accumulation) through the public Backend.gemmBatched.
 *
 * Tolerance: a float32 dot product of length k computed with fused multiply-adds has error at most
 * gamma_k * sum_l |a_il * b_lj| with gamma_k ~ k * u, u = 2^-24 (Higham, "Accuracy and Stability of Numerical
 * Algorithms", 3.1). Folding alpha into A, adding the KC-slice partial sums into C and the beta term add a few
 * more roundings, so each element must satisfy |simd - ref| <= 2 * (k + 8) * u * mag, where mag is the same
 * product computed on absolute values (|alpha| |A| |B| + |beta| |C|). A wrong, missing or doubled term is off by
 * about |a_il * b_lj|, far outside this bound.
 */
class SimdGemmTest : FunSpec({
    val reference = ReferenceBackend()
    val simd1 = SimdBackend(1)
    val simd3 = SimdBackend(3)
    afterSpec {
        simd1.close()
        simd3.close()
    }

    test("all four transpose forms on shapes around the vector, tile and block sizes") {
        val shapes = listOf(
            Triple(1, 1, 1), Triple(4, 16, 8), Triple(5, 17, 9), Triple(3, 15, 7), Triple(8, 8, 1),
            Triple(97, 385, 257), Triple(200, 50, 600), Triple(389, 33, 31), Triple(13, 800, 20), Triple(2, 1000, 3),
        )
        for ((m, n, k) in shapes) for (ta in listOf(false, true)) for (tb in listOf(false, true)) {
            for (backend in listOf(simd1, simd3)) {
                check(GemmCase(ta, tb, m, n, k, alpha = 1f, beta = 0f), backend, reference)
            }
        }
    }

    test("alpha and beta, padded leading dimensions and offsets") {
        val cases = listOf(
            GemmCase(false, false, 37, 53, 41, alpha = -0.75f, beta = 1f, padA = 3, padB = 5, padC = 7, offA = 11, offB = 2, offC = 9),
            GemmCase(true, false, 64, 48, 300, alpha = 2f, beta = -0.5f, padA = 1, padC = 16, offC = 1),
            GemmCase(false, true, 129, 31, 17, alpha = 0.5f, beta = 2.5f, padB = 2, offA = 1, offB = 1, offC = 1),
            GemmCase(true, true, 23, 399, 260, alpha = 1.5f, beta = 1f, padA = 4, padB = 4, padC = 4, offA = 5, offB = 6, offC = 7),
        )
        for (case in cases) for (backend in listOf(simd1, simd3)) check(case, backend, reference)
    }

    test("beta == 0 does not read C: NaN in C does not reach the result") {
        for (ta in listOf(false, true)) for (tb in listOf(false, true)) {
            val case = GemmCase(ta, tb, 19, 45, 270, alpha = 1f, beta = 0f, padC = 3, offC = 2, nanC = true)
            val out = check(case, simd3, reference)
            // Inside the matrix every element is finite; the padding keeps its NaN (not written).
            var finite = 0
            for (i in 0 until case.m) for (j in 0 until case.n) if (out[case.offC + i * case.ldc + j].isFinite()) finite++
            finite shouldBe case.m * case.n
        }
    }

    test("a zero product only scales C: alpha == 0 and k == 0") {
        for (backend in listOf(simd1, simd3)) {
            check(GemmCase(false, true, 17, 21, 33, alpha = 0f, beta = 0.5f), backend, reference)
            check(GemmCase(true, false, 17, 21, 0, alpha = 1f, beta = -2f), backend, reference)
            check(GemmCase(false, false, 5, 6, 0, alpha = 1f, beta = 0f, nanC = true), backend, reference)
        }
    }

    test("batched: distinct strides, stride 0 reuses A or B, stride 0 on C accumulates in order") {
        val cases = listOf(
            GemmCase(false, true, 50, 50, 64, 1f, 0f, batch = 12),                       // attention-sized: split over the batch
            GemmCase(true, false, 33, 70, 20, 1f, 1f, batch = 5, shareA = true),
            GemmCase(false, false, 40, 17, 300, 0.5f, 0f, batch = 4, shareB = true),
            GemmCase(false, false, 9, 24, 31, 1f, 1f, batch = 6, shareC = true),          // C += A_p B_p, p = 0..5
            GemmCase(true, true, 200, 300, 40, 1f, 0.5f, batch = 3, padC = 2, offC = 3),  // big items: split inside each
            GemmCase(false, false, 6, 8, 5, 1f, 1f, batch = 7, overlapC = true),           // C matrices overlap: stays serial
        )
        for (case in cases) for (backend in listOf(simd1, simd3)) check(case, backend, reference)
    }

    test("property: random shapes, forms, scalars, layouts and batches on 1 and 3 threads") {
        val sizes = listOf(1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 15, 16, 17, 23, 24, 31, 32, 33, 47, 64, 65, 97, 129, 200, 385)
        val depths = listOf(1, 2, 3, 7, 8, 9, 16, 17, 31, 64, 100, 255, 256, 257, 389, 520)
        val arb = Arb.bind(
            Arb.boolean(), Arb.boolean(), Arb.element(sizes), Arb.element(sizes), Arb.element(depths),
            Arb.element(listOf(1f, -1f, 0.5f, 3f)), Arb.element(listOf(0f, 1f, -0.25f)), Arb.int(0..3),
            Arb.int(1..4),
        ) { ta, tb, m, n, k0, alpha, beta, pad, batch ->
            // Keep each case cheap for the scalar reference.
            val k = minOf(k0, maxOf(1, 3_000_000 / (m * n * batch)))
            GemmCase(ta, tb, m, n, k, alpha, beta, padA = pad, padB = 3 - pad, padC = pad, offA = pad, offB = 2 * pad,
                offC = 1, batch = batch, nanC = beta == 0f)
        }
        checkAll(120, PropTestConfig(seed = 20240611), arb, Arb.boolean()) { case, many ->
            check(case, if (many) simd3 else simd1, reference)
        }
    }
})

/** One gemmBatched call: the matrices live at the given offsets in arrays with padding rows between them. */
private data class GemmCase(
    val transA: Boolean, val transB: Boolean, val m: Int, val n: Int, val k: Int,
    val alpha: Float, val beta: Float,
    val padA: Int = 0, val padB: Int = 0, val padC: Int = 0,
    val offA: Int = 0, val offB: Int = 0, val offC: Int = 0,
    val batch: Int = 1, val shareA: Boolean = false, val shareB: Boolean = false, val shareC: Boolean = false,
    val overlapC: Boolean = false, val nanC: Boolean = false,
) {
    val lda = maxOf(1, (if (transA) m else k) + padA)
    val ldb = maxOf(1, (if (transB) k else n) + padB)
    val ldc = n + padC
    private fun extent(rows: Int, cols: Int, ld: Int) = if (rows == 0 || cols == 0) 0 else (rows - 1) * ld + cols
    val extentA = extent(if (transA) k else m, if (transA) m else k, lda)
    val extentB = extent(if (transB) n else k, if (transB) k else n, ldb)
    val extentC = extent(m, n, ldc)
    val strideA = if (shareA) 0 else extentA + 3
    val strideB = if (shareB) 0 else extentB + 5
    val strideC = when {
        shareC -> 0
        overlapC -> ldc // each C starts one row below the last
        else -> extentC + 2
    }
    fun size(off: Int, stride: Int, extent: Int) = off + (batch - 1) * stride + extent + 4
}

/** Runs the case on simd and reference; asserts every element of C (padding included) within the bound. */
private fun check(case: GemmCase, simd: Backend, reference: Backend): FloatArray = with(case) {
    val rnd = Random(case.hashCode())
    val a = FloatArray(size(offA, strideA, extentA)) { rnd.nextFloat() * 2 - 1 }
    val b = FloatArray(size(offB, strideB, extentB)) { rnd.nextFloat() * 2 - 1 }
    val c0 = FloatArray(size(offC, strideC, extentC)) { if (nanC) Float.NaN else rnd.nextFloat() * 2 - 1 }

    fun run(backend: Backend, a: FloatArray, b: FloatArray, c: FloatArray, alpha: Float, beta: Float): FloatArray {
        val ct = HostTensor(c.copyOf(), c.size)
        backend.gemmBatched(transA, transB, m, n, k, alpha, HostTensor(a, a.size), offA, lda, strideA,
            HostTensor(b, b.size), offB, ldb, strideB, beta, ct, offC, ldc, strideC, batch)
        return ct.data
    }

    val want = run(reference, a, b, c0, alpha, beta)
    val got = run(simd, a, b, c0, alpha, beta)
    val absC = FloatArray(c0.size) { if (c0[it].isNaN()) 0f else abs(c0[it]) }
    val mag = run(reference, FloatArray(a.size) { abs(a[it]) }, FloatArray(b.size) { abs(b[it]) }, absC, abs(alpha), abs(beta))
    val u = Math.ulp(1f) / 2 // 2^-24
    val roundings = (k + 8) * (if (shareC || overlapC) batch else 1)
    for (i in want.indices) {
        if (want[i].isNaN() && got[i].isNaN()) continue
        val bound = 2.0 * roundings * u * mag[i]
        withClue("$case: element $i simd=${got[i]} reference=${want[i]} bound=$bound") {
            (abs(got[i].toDouble() - want[i].toDouble()) <= bound) shouldBe true
        }
    }
    got
}
