package org.maejvm.ops

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import org.maejvm.tensor.Tensor
import java.util.Random
import kotlin.math.abs
import kotlin.math.ln
import kotlin.math.sqrt

/**
 * Finite-difference checks of every backward in the reference backend.
 *
 * For an op y = f(x) and a random projection w, J(x) = sum(w * f(x)) is evaluated in double from the float32
 * output; its central difference (J(x + h e_i) - J(x - h e_i)) / (2h), one input element at a time, must agree
 * with the analytic gradient the backward returns for dout = w. The error measure is
 * max_i |analytic_i - numeric_i| / max_i |numeric_i|: a wrong sign or a missing term gives O(1), float32 central
 * differences with h = 1e-2 give 1e-5..1e-4 here (truncation h^2 f'''/6 plus rounding of J / 2h), so
 * [TOL] = 2e-3 leaves room without hiding a real bug. All through the public Backend API (upload / toHost).
 */
class GradientCheckTest : FunSpec({
    val be: Backend = ReferenceBackend()

    test("layerNorm backward: dx, dgamma, dbeta (dgamma, dbeta accumulate)") {
        for ((rows, cols) in listOf(1 to 5, 4 to 7, 3 to 33)) {
            val rnd = Random(11L * rows + cols)
            val x = gaussian(rnd, rows * cols)
            val gamma = gaussian(rnd, cols, mean = 1.0)
            val beta = gaussian(rnd, cols)
            val w = gaussian(rnd, rows * cols)
            val eps = 1e-6f
            val out = be.zeros(rows, cols)
            val mean = be.zeros(rows)
            val rstd = be.zeros(rows)
            fun objective(): Double {
                be.layerNormForward(be.fromHost(x, rows, cols), be.fromHost(gamma, cols), be.fromHost(beta, cols), eps, out, mean, rstd)
                return dot(w, be.toHost(out))
            }
            objective() // leaves mean and rstd of the unperturbed x for the backward
            val prior = gaussian(rnd, cols) // already in dgamma/dbeta: the backward must add to it
            val dx = be.zeros(rows, cols)
            val dgamma = be.fromHost(prior, cols)
            val dbeta = be.fromHost(prior, cols)
            be.layerNormBackward(be.fromHost(w, rows, cols), be.fromHost(x, rows, cols), be.fromHost(gamma, cols), mean, rstd, dx, dgamma, dbeta)
            val shape = "[$rows, $cols]"
            expectGradient("layerNorm dx $shape", be.toHost(dx), numericGradient(x, ::objective))
            expectGradient("layerNorm dgamma $shape", minus(be.toHost(dgamma), prior), numericGradient(gamma, ::objective))
            expectGradient("layerNorm dbeta $shape", minus(be.toHost(dbeta), prior), numericGradient(beta, ::objective))
        }
    }

    test("GELU backward, also in place (dx = dout)") {
        val rnd = Random(2)
        val n = 37
        // spread over [-4, 4] plus points near 0, where GELU bends most
        val x = FloatArray(n) { if (it < 30) (8.0 * it / 29 - 4.0 + 0.05 * rnd.nextGaussian()).toFloat() else (0.1 * rnd.nextGaussian()).toFloat() }
        val w = gaussian(rnd, n)
        val out = be.zeros(n)
        fun objective(): Double {
            be.geluForward(be.fromHost(x, n), out)
            return dot(w, be.toHost(out))
        }
        val numeric = numericGradient(x, ::objective)
        val dx = be.zeros(n)
        be.geluBackward(be.fromHost(x, n), be.fromHost(w, n), dx)
        expectGradient("gelu dx", be.toHost(dx), numeric)
        val inPlace = be.fromHost(w, n)
        be.geluBackward(be.fromHost(x, n), inPlace, inPlace)
        expectGradient("gelu dx in place", be.toHost(inPlace), numeric)
    }

    test("self-attention backward on a packed qkv buffer: dq, dk, dv") {
        for ((batch, heads, tokens, headDim) in listOf(listOf(1, 1, 1, 3), listOf(2, 3, 5, 4), listOf(1, 2, 7, 5))) {
            val s = AttentionShape.self(batch, heads, tokens, headDim)
            val c = s.width()
            val rowLen = 3 * c // one token's [q | k | v], as the output of MAE's qkv Linear
            val rnd = Random(100L + batch * 7 + tokens)
            val qkv = gaussian(rnd, batch * tokens * rowLen, sigma = 1.5) // peaky enough that softmax is far from uniform
            val w = gaussian(rnd, batch * tokens * c)
            val out = be.zeros(batch * tokens, c)
            val lse = be.zeros(batch * heads * tokens)
            fun views(t: Tensor) = Triple(RowView(t, 0, rowLen), RowView(t, c, rowLen), RowView(t, 2 * c, rowLen))
            fun objective(): Double {
                val (q, k, v) = views(be.fromHost(qkv, batch * tokens, rowLen))
                be.attentionForward(s, q, k, v, RowView.of(out), lse)
                return dot(w, be.toHost(out))
            }
            objective()
            val qkvT = be.fromHost(qkv, batch * tokens, rowLen)
            val (q, k, v) = views(qkvT)
            val dqkv = be.zeros(batch * tokens, rowLen)
            val (dq, dk, dv) = views(dqkv)
            be.attentionBackward(s, q, k, v, RowView.of(out), RowView.of(be.fromHost(w, batch * tokens, c)), lse, dq, dk, dv)
            expectGradient("self-attention dqkv $s", be.toHost(dqkv), numericGradient(qkv, ::objective))
        }
    }

    test("cross-attention backward with strided k/v views: dq, dk, dv") {
        for ((batch, heads, queryLen, keyLen, headDim) in listOf(listOf(1, 1, 3, 2, 2), listOf(2, 3, 3, 7, 4), listOf(3, 2, 5, 2, 3))) {
            val s = AttentionShape.cross(batch, heads, queryLen, keyLen, headDim)
            val c = s.width()
            val kvStride = 2 * c + 1 // one padding float per row: views must honour the stride
            val rnd = Random(200L + batch * 7 + queryLen * 3 + keyLen)
            val q = gaussian(rnd, batch * queryLen * c, sigma = 1.5)
            val kv = gaussian(rnd, batch * keyLen * kvStride, sigma = 1.5)
            val w = gaussian(rnd, batch * queryLen * c)
            val out = be.zeros(batch * queryLen, c)
            val lse = be.zeros(batch * heads * queryLen)
            fun objective(): Double {
                val kvT = be.fromHost(kv, batch * keyLen * kvStride)
                val qT = be.fromHost(q, batch * queryLen, c)
                be.attentionForward(s, RowView.of(qT), RowView(kvT, 0, kvStride), RowView(kvT, c, kvStride), RowView.of(out), lse)
                return dot(w, be.toHost(out))
            }
            val numericQ = numericGradient(q, ::objective)
            val numericKv = numericGradient(kv, ::objective)
            objective()
            val kvT = be.fromHost(kv, batch * keyLen * kvStride)
            val dq = be.zeros(batch * queryLen, c)
            val dkv = be.zeros(batch * keyLen * kvStride)
            val dout = be.fromHost(w, batch * queryLen, c)
            be.attentionBackward(
                s, RowView.of(be.fromHost(q, batch * queryLen, c)), RowView(kvT, 0, kvStride), RowView(kvT, c, kvStride),
                RowView.of(out), RowView.of(dout), lse, RowView.of(dq), RowView(dkv, 0, kvStride), RowView(dkv, c, kvStride),
            )
            expectGradient("cross-attention dq $s", be.toHost(dq), numericQ)
            expectGradient("cross-attention dk, dv $s", be.toHost(dkv), numericKv) // padding: both 0
        }
    }

    test("scatterAddRows is the adjoint of gatherRows: <gather(x), y> = <x, scatter(y)>") {
        for ((batch, rows, kept, width) in listOf(listOf(1, 1, 1, 1), listOf(2, 9, 4, 5), listOf(3, 6, 8, 3))) {
            val rnd = Random(300L + rows * 10 + kept)
            // random indices, repeats included (kept may exceed rows), which scatter must accumulate
            val index = IntArray(batch * kept) { rnd.nextInt(rows) }
            val x = gaussian(rnd, batch * rows * width)
            val y = gaussian(rnd, batch * kept * width)
            val idx = be.fromHost(index, batch, kept)
            val gathered = be.zeros(batch * kept, width)
            be.gatherRows(be.fromHost(x, batch * rows, width), idx, gathered)
            val scattered = be.zeros(batch * rows, width)
            be.scatterAddRows(be.fromHost(y, batch * kept, width), idx, scattered)
            val lhs = dot(y, be.toHost(gathered))
            val rhs = dot(x, be.toHost(scattered))
            withClue("batch=$batch rows=$rows kept=$kept width=$width: <gather(x), y> = $lhs, <x, scatter(y)> = $rhs") {
                abs(lhs - rhs) shouldBeLessThan 1e-5 * (1.0 + abs(lhs))
            }
            // and scatter adds to what dst already holds
            val prior = gaussian(rnd, batch * rows * width)
            val acc = be.fromHost(prior, batch * rows, width)
            be.scatterAddRows(be.fromHost(y, batch * kept, width), idx, acc)
            expectGradient("scatterAddRows accumulates", minus(be.toHost(acc), prior), be.toHost(scattered).toDoubles(), tol = 1e-6)
        }
    }

    for (normPix in listOf(false, true)) {
        test("maskedMse backward, normPix=$normPix") {
            for ((batch, patches, dim) in listOf(listOf(1, 2, 2), listOf(2, 5, 7), listOf(3, 4, 12))) {
                val rnd = Random(400L + patches * 13 + dim + (if (normPix) 1 else 0))
                val pred = gaussian(rnd, batch * patches * dim)
                val target = gaussian(rnd, batch * patches * dim, mean = 0.3, sigma = 2.0)
                // about 3/4 masked, at least one patch per batch so the loss is defined
                val mask = FloatArray(batch * patches) { if (it % patches == 0 || rnd.nextDouble() < 0.75) 1f else 0f }
                val dLoss = 1.7f // the backward must scale by the upstream gradient
                val targetT = be.fromHost(target, batch, patches, dim)
                val maskT = be.fromHost(mask, batch, patches)
                fun objective(): Double = dLoss.toDouble() * be.maskedMseForward(be.fromHost(pred, batch, patches, dim), targetT, maskT, normPix)
                val dpred = be.zeros(batch, patches, dim)
                be.maskedMseBackward(be.fromHost(pred, batch, patches, dim), targetT, maskT, normPix, dLoss, dpred)
                val grad = be.toHost(dpred)
                expectGradient("maskedMse dpred [$batch, $patches, $dim] normPix=$normPix", grad, numericGradient(pred, ::objective))
                for (r in mask.indices) if (mask[r] == 0f) {
                    withClue("unmasked patch $r gets no gradient") { (0 until dim).maxOf { abs(grad[r * dim + it]) }.toDouble() shouldBe 0.0 }
                }
            }
        }
    }

    test("softmaxCrossEntropy with soft targets: dlogits and the loss itself") {
        for ((n, classes) in listOf(1 to 2, 4 to 9, 3 to 17)) {
            val rnd = Random(500L + n * 31 + classes)
            val logits = gaussian(rnd, n * classes, sigma = 2.0)
            // soft rows (label smoothing / mixup style): positive, summing to 1
            val targets = FloatArray(n * classes) { rnd.nextFloat() + 0.05f }
            for (r in 0 until n) {
                val s = (0 until classes).sumOf { targets[r * classes + it].toDouble() }
                for (j in 0 until classes) targets[r * classes + j] = (targets[r * classes + j] / s).toFloat()
            }
            val targetsT = be.fromHost(targets, n, classes)
            fun objective(): Double = be.softmaxCrossEntropy(be.fromHost(logits, n, classes), targetsT, null).toDouble()
            val dlogits = be.zeros(n, classes)
            val loss = be.softmaxCrossEntropy(be.fromHost(logits, n, classes), targetsT, dlogits)
            expectGradient("softmaxCrossEntropy dlogits [$n, $classes]", be.toHost(dlogits), numericGradient(logits, ::objective))
            // -mean_n sum_c y log softmax, from the definition
            var expected = 0.0
            for (r in 0 until n) {
                val row = (0 until classes).map { logits[r * classes + it].toDouble() }
                val logZ = ln(row.sumOf { kotlin.math.exp(it) })
                expected -= (0 until classes).sumOf { targets[r * classes + it] * (row[it] - logZ) }
            }
            loss.toDouble() shouldBe (expected / n plusOrMinus 1e-6 * abs(expected / n))
        }
    }

    test("gemm: gradients of sum(W * C) w.r.t. A and B through the transposed gemms, all transposes") {
        val (m, n, k) = Triple(5, 3, 7)
        val alpha = 0.7f
        val beta = -0.4f
        for (transA in listOf(false, true)) for (transB in listOf(false, true)) {
            val rnd = Random(600L + (if (transA) 2 else 0) + (if (transB) 1 else 0))
            val aRows = if (transA) k else m
            val aCols = if (transA) m else k
            val bRows = if (transB) n else k
            val bCols = if (transB) k else n
            val lda = aCols + 2 // padded leading dimensions: the padding must get no gradient
            val ldb = bCols + 1
            val a = gaussian(rnd, aRows * lda)
            val b = gaussian(rnd, bRows * ldb)
            val c0 = gaussian(rnd, m * n)
            val w = gaussian(rnd, m * n)
            val c = be.zeros(m, n)
            fun objective(): Double {
                be.upload(c0, c)
                be.gemm(transA, transB, m, n, k, alpha, be.fromHost(a, aRows * lda), 0, lda, be.fromHost(b, bRows * ldb), 0, ldb, beta, c, 0, n)
                return dot(w, be.toHost(c))
            }
            // dC = W. With Â = op(A), B̂ = op(B): dÂ = alpha dC B̂ᵀ and dB̂ = alpha Âᵀ dC; stored transposed when trans is set.
            val dC = be.fromHost(w, m, n)
            val aT = be.fromHost(a, aRows * lda)
            val bT = be.fromHost(b, bRows * ldb)
            val dA = be.zeros(aRows * lda)
            val dB = be.zeros(bRows * ldb)
            if (!transA) be.gemm(false, !transB, m, k, n, alpha, dC, 0, n, bT, 0, ldb, 0f, dA, 0, lda)
            else be.gemm(transB, true, k, m, n, alpha, bT, 0, ldb, dC, 0, n, 0f, dA, 0, lda)
            if (!transB) be.gemm(!transA, false, k, n, m, alpha, aT, 0, lda, dC, 0, n, 0f, dB, 0, ldb)
            else be.gemm(true, transA, n, k, m, alpha, dC, 0, n, aT, 0, lda, 0f, dB, 0, ldb)
            val label = "gemm transA=$transA transB=$transB"
            expectGradient("$label dA", be.toHost(dA), numericGradient(a, ::objective))
            expectGradient("$label dB", be.toHost(dB), numericGradient(b, ::objective))
            expectGradient("$label dC0", FloatArray(m * n) { beta * w[it] }, numericGradient(c0, ::objective))
        }
    }

    test("softmax forward: closed-form values, stable for large logits") {
        val x = floatArrayOf(
            0f, ln(2f), ln(3f),              // exp = 1, 2, 3 -> 1/6, 1/3, 1/2
            1000f, 1000f, 1000f + ln(2f),    // overflows exp without the max shift -> 1/4, 1/4, 1/2
            -5f, -5f, -5f,                   // uniform
        )
        val expected = doubleArrayOf(1.0 / 6, 1.0 / 3, 0.5, 0.25, 0.25, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3)
        val out = be.zeros(3, 3)
        be.softmax(be.fromHost(x, 3, 3), out)
        // row 2: 1000 + ln 2 rounds to float32 within 3.1e-5, which moves the result by < 1e-5
        be.toHost(out).forEachIndexed { i, p -> withClue("softmax[$i]") { p.toDouble() shouldBe (expected[i] plusOrMinus 2e-5) } }
        val one = be.zeros(1, 1)
        be.softmax(be.fromHost(floatArrayOf(-3f), 1, 1), one)
        be.toHost(one)[0] shouldBe 1f
    }

    test("layerNorm forward: closed-form values") {
        // row 0: mean 2.5, biased variance 1.25; row 1 is constant, so xhat = 0 and out = beta
        val x = floatArrayOf(1f, 2f, 3f, 4f, 3f, 3f, 3f, 3f)
        val gamma = floatArrayOf(1f, 2f, -1f, 0.5f)
        val beta = floatArrayOf(0f, 1f, 0f, -1f)
        val eps = 1e-6f
        val out = be.zeros(2, 4)
        val mean = be.zeros(2)
        val rstd = be.zeros(2)
        be.layerNormForward(be.fromHost(x, 2, 4), be.fromHost(gamma, 4), be.fromHost(beta, 4), eps, out, mean, rstd)
        val r0 = 1.0 / sqrt(1.25 + eps) // 0.8944268...
        val expected = doubleArrayOf(-1.5 * r0, -0.5 * r0 * 2 + 1, 0.5 * r0 * -1, 1.5 * r0 * 0.5 - 1, 0.0, 1.0, 0.0, -1.0)
        be.toHost(out).forEachIndexed { i, v -> withClue("out[$i]") { v.toDouble() shouldBe (expected[i] plusOrMinus 1e-6) } }
        be.toHost(mean)[0].toDouble() shouldBe (2.5 plusOrMinus 1e-7)
        be.toHost(mean)[1].toDouble() shouldBe (3.0 plusOrMinus 1e-7)
        be.toHost(rstd)[0].toDouble() shouldBe (r0 plusOrMinus 1e-6)
        be.toHost(rstd)[1].toDouble() shouldBe (1.0 / sqrt(eps.toDouble()) plusOrMinus 1e-3) // 1000
    }
})

/** Max |analytic - numeric| relative to max |numeric|; see the class comment. */
private const val TOL = 2e-3

/** Finite-difference step: float32 inputs of order 1, so rounding of x +- h costs < 1e-5 relative. */
private const val H = 1e-2f

/**
 * Central differences of [objective] w.r.t. every element of [x] (mutated in place, restored after). The
 * actual step is taken from the rounded float32 values, so rounding of x +- h does not bias the quotient.
 */
private fun numericGradient(x: FloatArray, objective: () -> Double): DoubleArray = DoubleArray(x.size) { i ->
    val orig = x[i]
    x[i] = orig + H
    val xp = x[i].toDouble()
    val jp = objective()
    x[i] = orig - H
    val xm = x[i].toDouble()
    val jm = objective()
    x[i] = orig
    (jp - jm) / (xp - xm)
}

private fun expectGradient(what: String, analytic: FloatArray, numeric: DoubleArray, tol: Double = TOL) {
    analytic.size shouldBe numeric.size
    val scale = numeric.maxOf { abs(it) }
    var worst = 0
    for (i in analytic.indices) if (abs(analytic[i] - numeric[i]) > abs(analytic[worst] - numeric[worst])) worst = i
    val err = abs(analytic[worst] - numeric[worst]) / scale
    withClue("$what: worst element $worst analytic ${analytic[worst]} numeric ${numeric[worst]}, relative error $err (tolerance $tol)") {
        scale shouldBeGreaterThan 1e-6 // a vanishing gradient would make the comparison vacuous
        err shouldBeLessThan tol
    }
}

private fun gaussian(rnd: Random, n: Int, mean: Double = 0.0, sigma: Double = 1.0) =
    FloatArray(n) { (mean + sigma * rnd.nextGaussian()).toFloat() }

private fun dot(a: FloatArray, b: FloatArray): Double {
    require(a.size == b.size) { "dot: sizes ${a.size} and ${b.size} differ" }
    var s = 0.0
    for (i in a.indices) s += a[i].toDouble() * b[i]
    return s
}

private fun minus(a: FloatArray, b: FloatArray) = FloatArray(a.size) { a[it] - b[it] }

private fun FloatArray.toDoubles() = DoubleArray(size) { this[it].toDouble() }
