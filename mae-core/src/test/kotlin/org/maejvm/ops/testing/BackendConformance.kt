package org.maejvm.ops.testing

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.factory.TestFactory
import io.kotest.core.spec.style.funSpec
import io.kotest.matchers.string.shouldContain
import io.kotest.property.Arb
import io.kotest.property.PropTestConfig
import io.kotest.property.arbitrary.arbitrary
import io.kotest.property.checkAll
import org.maejvm.ops.AdamWParams
import org.maejvm.ops.AttentionShape
import org.maejvm.ops.Backend
import org.maejvm.ops.ReferenceBackend
import org.maejvm.ops.RowView
import kotlin.math.abs

/** Fixed seed of every property check, so a run is reproducible. */
const val CONFORMANCE_SEED = 20_240_611L

/**
 * The backend conformance suite: every op of [Backend] on [make]'s backend against [ReferenceBackend], on random
 * shapes (odd and prime sizes, sizes below a vector, single rows, and a case per op big enough to be split
 * over threads), plus argument validation. Tolerances are stated per op; [looseness] multiplies all non-exact
 * ones for a backend with looser arithmetic (a GPU's). Include it once per backend configuration:
 *
 * ```
 * class MyBackendConformanceTest : FunSpec({ include(backendConformanceTests("mine") { MyBackend() }) })
 * ```
 */
fun backendConformanceTests(label: String, looseness: Double = 1.0, make: () -> Backend): TestFactory = funSpec {
    val reference = ReferenceBackend()
    fun tol(t: Tol) = t.times(looseness)

    /** Runs body on every edge case, then on [iterations] generated ones; a failure names its case. */
    suspend fun <C> cases(edge: List<C>, arb: Arb<C>, iterations: Int = 12, body: (C) -> Unit) {
        fun checked(c: C) = try {
            body(c)
        } catch (e: AssertionError) {
            throw AssertionError("$label, case $c: ${e.message}", e)
        }
        edge.forEach(::checked)
        checkAll(PropTestConfig(seed = CONFORMANCE_SEED, iterations = iterations), arb) { checked(it) }
    }

    suspend fun <T> withBackend(body: suspend (Backend) -> T): T {
        val backend = make()
        try {
            return body(backend)
        } finally {
            backend.close()
        }
    }

    // ------------------------------------------------------------------ shapes

    data class Mat(val rows: Int, val cols: Int, val seed: Long)

    val matEdges = listOf(Mat(1, 1, 1), Mat(1, 7, 2), Mat(1, 8, 3), Mat(1, 9, 4), Mat(3, 5, 5), Mat(2, 16, 6),
        Mat(5, 33, 7), Mat(7, 97, 8), Mat(1, 131, 9), Mat(13, 3, 10), Mat(301, 67, 11), Mat(37, 768, 12))
    val mats = arbitrary { rs ->
        val r = rs.random
        val cols = if (r.nextBoolean()) AWKWARD_SIZES.random(r) else 1 + r.nextInt(200)
        Mat(1 + r.nextInt(24), cols, r.nextLong())
    }

    context("$label matches the reference backend") {

        test("fill, copy and copyRows move data exactly") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val src = d.normal(n + 5)
                    val bufs = Buffers(mapOf("src" to src, "dst" to d.normal(n + 9), "rows" to d.normal(c.rows * (c.cols + 3) + 2)))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.copy(t["src"], 5, t["dst"], 4, n)
                        b.copyRows(c.rows, c.cols, RowView(t["src"], 1, c.cols), RowView(t["rows"], 2, c.cols + 3))
                        b.fill(t["src"], 2.5f)
                        return t.download()
                    }
                    val expected = run(reference)
                    val actual = run(be)
                    for (k in expected.keys) assertClose("copy/fill: $k", actual.getValue(k), expected.getValue(k), Tol.EXACT)
                }
            }
        }

        test("add, scale and axpy (outputs may alias inputs)") {
            withBackend { be ->
                cases(matEdges + Mat(1, 70_001, 13), mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val bufs = Buffers(mapOf("a" to d.normal(n), "b" to d.normal(n), "c" to d.normal(n), "y" to d.normal(n)))
                    fun run(b: Backend, op: String): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        when (op) {
                            "add" -> { b.add(t["a"], t["b"], t["c"]); b.add(t["a"], t["b"], t["a"]) }
                            "scale" -> b.scale(t["a"], -1.7f)
                            "axpy" -> b.axpy(0.37f, t["a"], t["y"])
                        }
                        return t.download()
                    }
                    for ((op, tolerance) in listOf("add" to Tol.EXACT, "scale" to Tol.EXACT, "axpy" to tol(Tol(1e-7, 1e-6)))) {
                        val expected = run(reference, op)
                        val actual = run(be, op)
                        for (k in expected.keys) assertClose("$op: $k", actual.getValue(k), expected.getValue(k), tolerance)
                    }
                }
            }
        }

        test("addBias, with a row bias and with a whole [T, D] tile") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    val batches = 1 + c.seed.mod(3).toInt()
                    val n = batches * c.rows * c.cols
                    val bufs = Buffers(mapOf("x" to d.normal(n), "row" to d.normal(c.cols), "tile" to d.normal(c.rows * c.cols)))
                    fun run(b: Backend): FloatArray {
                        val t = bufs.on(b)
                        b.addBias(t["x"], t["row"])
                        b.addBias(t["x"], t["tile"])
                        return b.toHost(t["x"])
                    }
                    assertClose("addBias", run(be), run(reference), Tol.EXACT)
                }
            }
        }

        test("biasGrad accumulates column sums (tolerance: cond 2e-6 of the summed magnitudes)") {
            withBackend { be ->
                cases(matEdges + Mat(4099, 17, 14), mats) { c ->
                    val d = RandomData(c.seed)
                    val dy = d.normal(c.rows * c.cols)
                    val db0 = d.normal(c.cols)
                    val bufs = Buffers(mapOf("dy" to dy, "db" to db0))
                    fun run(b: Backend): FloatArray {
                        val t = bufs.on(b)
                        b.biasGrad(t["dy"], t["db"])
                        return b.toHost(t["db"])
                    }
                    val mag = DoubleArray(c.cols) { j -> abs(db0[j].toDouble()) + (0 until c.rows).sumOf { abs(dy[it * c.cols + j].toDouble()) } }
                    assertClose("biasGrad", run(be), run(reference), tol(Tol(1e-7, cond = 2e-6)), mag)
                }
            }
        }

        test("layerNormForward (out abs 2e-6 + rel 2e-6; mean abs 1e-6 + rel 2e-6; rstd abs 1e-7 + rel 1e-6)") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    // rows far from zero mean, as activations often are: catches a one-pass variance
                    val x = d.normal(c.rows * c.cols).map { it * 2f + 3f }.toFloatArray()
                    val bufs = Buffers(mapOf("x" to x, "g" to d.normal(c.cols), "b" to d.normal(c.cols),
                        "out" to FloatArray(x.size), "mean" to FloatArray(c.rows), "rstd" to FloatArray(c.rows)))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.layerNormForward(t["x"].view(c.rows, c.cols), t["g"].view(c.cols), t["b"].view(c.cols), 1e-6f,
                            t["out"], t["mean"], t["rstd"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("layerNorm out", a.getValue("out"), e.getValue("out"), tol(Tol(2e-6, 2e-6)))
                    assertClose("layerNorm mean", a.getValue("mean"), e.getValue("mean"), tol(Tol(1e-6, 2e-6)))
                    assertClose("layerNorm rstd", a.getValue("rstd"), e.getValue("rstd"), tol(Tol(1e-7, 1e-6)))
                }
            }
        }

        test("layerNormBackward (dx abs 1e-6 + rel 1e-5; dgamma, dbeta cond 2e-6)") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val x = d.normal(n).map { it * 2f + 3f }.toFloatArray()
                    val g = d.normal(c.cols)
                    // mean and rstd from the reference forward, so both backwards see identical inputs
                    val fw = Buffers(mapOf("x" to x, "g" to g, "b" to FloatArray(c.cols), "out" to FloatArray(n),
                        "mean" to FloatArray(c.rows), "rstd" to FloatArray(c.rows))).on(reference)
                    reference.layerNormForward(fw["x"].view(c.rows, c.cols), fw["g"], fw["b"], 1e-6f, fw["out"], fw["mean"], fw["rstd"])
                    val saved = fw.download()
                    val dy = d.normal(n)
                    val dg0 = d.normal(c.cols)
                    val db0 = d.normal(c.cols)
                    val bufs = Buffers(mapOf("dy" to dy, "x" to x, "g" to g, "mean" to saved.getValue("mean"),
                        "rstd" to saved.getValue("rstd"), "dx" to FloatArray(n), "dg" to dg0, "db" to db0))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.layerNormBackward(t["dy"], t["x"].view(c.rows, c.cols), t["g"], t["mean"], t["rstd"], t["dx"], t["dg"], t["db"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    val mean = saved.getValue("mean")
                    val rstd = saved.getValue("rstd")
                    fun xhat(r: Int, j: Int) = (x[r * c.cols + j] - mean[r].toDouble()) * rstd[r]
                    val magG = DoubleArray(c.cols) { j -> abs(dg0[j].toDouble()) + (0 until c.rows).sumOf { r -> abs(dy[r * c.cols + j] * xhat(r, j)) } }
                    val magB = DoubleArray(c.cols) { j -> abs(db0[j].toDouble()) + (0 until c.rows).sumOf { r -> abs(dy[r * c.cols + j].toDouble()) } }
                    assertClose("layerNorm dx", a.getValue("dx"), e.getValue("dx"), tol(Tol(1e-6, 1e-5)))
                    assertClose("layerNorm dgamma", a.getValue("dg"), e.getValue("dg"), tol(Tol(1e-6, cond = 2e-6)), magG)
                    assertClose("layerNorm dbeta", a.getValue("db"), e.getValue("db"), tol(Tol(1e-6, cond = 2e-6)), magB)
                }
            }
        }

        test("GELU forward (abs 1e-7 + rel 1e-6) and backward (abs 1e-6 + rel 1e-5), in place too") {
            val special = floatArrayOf(-12f, -9f, -6f, -4.5f, -3f, -2f, -1f, -0.5f, -1e-3f, -1e-7f, 0f, 1e-7f, 1e-3f,
                0.5f, 1f, 2f, 3f, 4.5f, 6f, 9f, 12f)
            withBackend { be ->
                cases(matEdges + Mat(1, 70_001, 15), mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val x = d.normal(n, 3f)
                    for (i in 0 until minOf(n, special.size)) x[(i * 7919) % n] = special[i]
                    val bufs = Buffers(mapOf("x" to x, "out" to FloatArray(n), "dy" to d.normal(n), "dx" to FloatArray(n), "y" to x))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.geluForward(t["x"], t["out"])
                        b.geluBackward(t["x"], t["dy"], t["dx"])
                        b.geluForward(t["y"], t["y"])
                        b.geluBackward(t["x"], t["dy"], t["dy"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("gelu forward", a.getValue("out"), e.getValue("out"), tol(Tol(1e-7, 1e-6)))
                    assertClose("gelu forward in place", a.getValue("y"), e.getValue("y"), tol(Tol(1e-7, 1e-6)))
                    assertClose("gelu backward", a.getValue("dx"), e.getValue("dx"), tol(Tol(1e-6, 1e-5)))
                    assertClose("gelu backward in place", a.getValue("dy"), e.getValue("dy"), tol(Tol(1e-6, 1e-5)))
                }
            }
        }

        test("softmax (abs 1e-7 + rel 4e-6), in place too, with large logits") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val x = d.normal(n, 8f)
                    val bufs = Buffers(mapOf("x" to x, "out" to FloatArray(n), "y" to x.map { it + 80f }.toFloatArray()))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.softmax(t["x"].view(c.rows, c.cols), t["out"])
                        b.softmax(t["y"].view(c.rows, c.cols), t["y"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("softmax", a.getValue("out"), e.getValue("out"), tol(Tol(1e-7, 4e-6)))
                    assertClose("softmax in place", a.getValue("y"), e.getValue("y"), tol(Tol(1e-7, 4e-6)))
                }
            }
        }

        // ------------------------------------------------------------------ attention

        data class Attn(val batch: Int, val heads: Int, val tq: Int, val tk: Int, val hd: Int, val packed: Boolean,
                        val customScale: Boolean, val seed: Long)

        val attnEdges = listOf(
            Attn(1, 1, 1, 1, 1, true, false, 21), Attn(1, 1, 1, 5, 3, false, false, 22), Attn(2, 3, 5, 5, 7, true, false, 23),
            Attn(1, 2, 9, 9, 8, true, true, 24), Attn(2, 1, 3, 17, 16, false, false, 25), Attn(1, 2, 67, 67, 64, true, false, 26),
            Attn(1, 1, 131, 131, 20, true, false, 27), Attn(2, 2, 50, 197, 16, false, false, 28), Attn(1, 4, 33, 33, 80, true, false, 29),
            Attn(3, 2, 65, 13, 9, false, true, 30))
        val attns = arbitrary { rs ->
            val r = rs.random
            val packed = r.nextBoolean()
            val tq = if (r.nextBoolean()) AWKWARD_SIZES.filter { it <= 70 }.random(r) else 1 + r.nextInt(80)
            val tk = if (packed) tq else 1 + r.nextInt(80)
            val hd = listOf(1, 3, 8, 9, 16, 20, 24, 31, 64).random(r)
            Attn(1 + r.nextInt(3), 1 + r.nextInt(3), tq, tk, hd, packed, r.nextInt(4) == 0, r.nextLong())
        }

        /** Buffers and views of one attention case: packed qkv (self) or q plus packed kv (cross), padded outputs. */
        class AttnSetup(val c: Attn) {
            val w = c.heads * c.hd
            val shape = if (c.customScale) AttentionShape(c.batch, c.heads, c.tq, c.tk, c.hd, 0.37f)
            else AttentionShape.cross(c.batch, c.heads, c.tq, c.tk, c.hd)
            val d = RandomData(c.seed)
            val nq = c.batch * c.tq
            val nk = c.batch * c.tk
            // packed: qkv [B*T, 3W] with two spare columns and an offset; cross: q [B*Tq, W], kv [B*Tk, 2W]
            val qkvStride = 3 * w + 2
            val outOff = 3
            val outStride = w + 5
            val inputs: Map<String, FloatArray> = if (c.packed) {
                mapOf("qkv" to d.normal(1 + nq * qkvStride))
            } else {
                mapOf("q" to d.normal(nq * w), "kv" to d.normal(nk * 2 * w))
            }
            fun q(t: Buffers.Uploaded) = if (c.packed) t.view("qkv", 1, qkvStride) else t.view("q", 0, w)
            fun k(t: Buffers.Uploaded) = if (c.packed) t.view("qkv", 1 + w, qkvStride) else t.view("kv", 0, 2 * w)
            fun v(t: Buffers.Uploaded) = if (c.packed) t.view("qkv", 1 + 2 * w, qkvStride) else t.view("kv", w, 2 * w)
            fun out(t: Buffers.Uploaded) = t.view("out", outOff, outStride)
            // sentinel-filled outputs: what a kernel must not touch is compared too
            fun outputs() = mapOf("out" to FloatArray(outOff + nq * outStride) { 9f }, "lse" to FloatArray(c.batch * c.heads * c.tq) { 9f })
            fun gradOutputs(): Map<String, FloatArray> = if (c.packed) {
                mapOf("dqkv" to FloatArray(1 + nq * qkvStride) { 7f })
            } else {
                mapOf("dq" to FloatArray(nq * w) { 7f }, "dkv" to FloatArray(nk * 2 * w) { 7f })
            }
            fun dq(t: Buffers.Uploaded) = if (c.packed) t.view("dqkv", 1, qkvStride) else t.view("dq", 0, w)
            fun dk(t: Buffers.Uploaded) = if (c.packed) t.view("dqkv", 1 + w, qkvStride) else t.view("dkv", 0, 2 * w)
            fun dv(t: Buffers.Uploaded) = if (c.packed) t.view("dqkv", 1 + 2 * w, qkvStride) else t.view("dkv", w, 2 * w)
        }

        test("attentionForward, self (packed qkv) and cross (out abs 2e-6 + rel 2e-5; lse abs 1e-6 + rel 2e-6)") {
            withBackend { be ->
                cases(attnEdges, attns) { c ->
                    val s = AttnSetup(c)
                    val bufs = Buffers(s.inputs + s.outputs())
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.attentionForward(s.shape, s.q(t), s.k(t), s.v(t), s.out(t), t["lse"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("attention out", a.getValue("out"), e.getValue("out"), tol(Tol(2e-6, 2e-5)))
                    assertClose("attention lse", a.getValue("lse"), e.getValue("lse"), tol(Tol(1e-6, 2e-6)))
                }
            }
        }

        test("attentionBackward, self and cross (dq, dk, dv abs 5e-6 + rel 1e-4)") {
            withBackend { be ->
                cases(attnEdges, attns) { c ->
                    val s = AttnSetup(c)
                    // the reference forward's out and lse feed both backwards
                    val fw = Buffers(s.inputs + s.outputs()).on(reference)
                    reference.attentionForward(s.shape, s.q(fw), s.k(fw), s.v(fw), s.out(fw), fw["lse"])
                    val saved = fw.download()
                    val bufs = Buffers(s.inputs + s.gradOutputs() + mapOf("out" to saved.getValue("out"),
                        "lse" to saved.getValue("lse"), "dout" to s.d.normal(s.nq * s.w)))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        b.attentionBackward(s.shape, s.q(t), s.k(t), s.v(t), s.out(t), t.view("dout", 0, s.w), t["lse"],
                            s.dq(t), s.dk(t), s.dv(t))
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    for (k in s.gradOutputs().keys) assertClose("attention backward $k", a.getValue(k), e.getValue(k), tol(Tol(5e-6, 1e-4)))
                }
            }
        }

        // ------------------------------------------------------------------ masking

        data class Gather(val batch: Int, val rows: Int, val kept: Int, val width: Int, val repeats: Boolean, val seed: Long)

        val gatherEdges = listOf(Gather(1, 1, 1, 1, false, 31), Gather(2, 5, 3, 7, true, 32), Gather(1, 9, 9, 8, false, 33),
            Gather(3, 49, 12, 17, true, 34), Gather(2, 196, 49, 64, false, 35), Gather(64, 50, 50, 33, true, 36))
        val gathers = arbitrary { rs ->
            val r = rs.random
            val rows = 1 + r.nextInt(60)
            Gather(1 + r.nextInt(4), rows, 1 + r.nextInt(rows), AWKWARD_SIZES.random(r), r.nextBoolean(), r.nextLong())
        }

        fun indices(c: Gather, d: RandomData) = IntArray(c.batch * c.kept).also { idx ->
            for (b in 0 until c.batch) {
                val perm = (0 until c.rows).shuffled(d.random)
                for (j in 0 until c.kept) idx[b * c.kept + j] = if (c.repeats) d.int(0, c.rows) else perm[j]
            }
        }

        test("gatherRows (exact) and scatterAddRows with repeated indices (abs 1e-6 + rel 1e-6)") {
            withBackend { be ->
                cases(gatherEdges, gathers) { c ->
                    val d = RandomData(c.seed)
                    val idx = indices(c, d)
                    val full = c.batch * c.rows * c.width
                    val part = c.batch * c.kept * c.width
                    val bufs = Buffers(mapOf("src" to d.normal(full), "dst" to d.normal(part), "grad" to d.normal(part), "acc" to d.normal(full)))
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        val index = b.fromHost(idx, c.batch, c.kept)
                        b.gatherRows(t["src"], index, t["dst"])
                        b.scatterAddRows(t["grad"], index, t["acc"])
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("gatherRows", a.getValue("dst"), e.getValue("dst"), Tol.EXACT)
                    assertClose("scatterAddRows", a.getValue("acc"), e.getValue("acc"), tol(Tol(1e-6, 1e-6)))
                }
            }
        }

        data class Patch(val batch: Int, val channels: Int, val gh: Int, val gw: Int, val p: Int, val seed: Long)

        test("patchify, channels first and last (exact)") {
            withBackend { be ->
                val edges = listOf(Patch(1, 1, 1, 1, 1, 41), Patch(2, 3, 2, 3, 4, 42), Patch(1, 3, 14, 14, 16, 43), Patch(3, 2, 5, 1, 3, 44))
                val arb = arbitrary { rs ->
                    val r = rs.random
                    Patch(1 + r.nextInt(3), 1 + r.nextInt(4), 1 + r.nextInt(6), 1 + r.nextInt(6), 1 + r.nextInt(9), r.nextLong())
                }
                cases(edges, arb) { c ->
                    val h = c.gh * c.p
                    val w = c.gw * c.p
                    val feat = c.p * c.p * c.channels
                    val n = c.batch * c.gh * c.gw * feat
                    val img = RandomData(c.seed).normal(c.batch * c.channels * h * w)
                    for (last in listOf(false, true)) {
                        fun run(b: Backend): FloatArray {
                            val out = b.zeros(c.batch, c.gh * c.gw, feat)
                            b.patchify(b.fromHost(img, c.batch, c.channels, h, w), c.p, last, out)
                            check(out.size() == n)
                            return b.toHost(out)
                        }
                        assertClose("patchify(channelsLast=$last)", run(be), run(reference), Tol.EXACT)
                    }
                }
            }
        }

        // ------------------------------------------------------------------ losses

        data class Mse(val batch: Int, val patches: Int, val dim: Int, val normPix: Boolean, val seed: Long)

        test("maskedMse forward (rel 1e-6) and backward (abs 1e-9 + rel 3e-5), with and without norm_pix") {
            withBackend { be ->
                val edges = listOf(Mse(1, 1, 2, true, 51), Mse(1, 1, 1, false, 52), Mse(2, 7, 9, true, 53),
                    Mse(3, 49, 48, true, 54), Mse(4, 196, 768, true, 55), Mse(2, 5, 17, false, 56))
                val arb = arbitrary { rs ->
                    val r = rs.random
                    Mse(1 + r.nextInt(4), 1 + r.nextInt(50), 2 + r.nextInt(100), r.nextBoolean(), r.nextLong())
                }
                cases(edges, arb) { c ->
                    val d = RandomData(c.seed)
                    val rows = c.batch * c.patches
                    val n = rows * c.dim
                    val mask = FloatArray(rows) { if (d.random.nextFloat() < 0.75f) 1f else 0f }.also { it[d.int(0, rows)] = 1f }
                    val target = d.normal(n).map { it * 0.5f + 0.2f }.toFloatArray()
                    val bufs = Buffers(mapOf("pred" to d.normal(n), "target" to target, "mask" to mask, "g" to FloatArray(n) { 5f }))
                    fun run(b: Backend): Pair<Float, Map<String, FloatArray>> {
                        val t = bufs.on(b)
                        val pred = t["pred"].view(c.batch, c.patches, c.dim)
                        val tg = t["target"].view(c.batch, c.patches, c.dim)
                        val mk = t["mask"].view(c.batch, c.patches)
                        val loss = b.maskedMseForward(pred, tg, mk, c.normPix)
                        b.maskedMseBackward(pred, tg, mk, c.normPix, 0.7f, t["g"])
                        return loss to t.download()
                    }
                    val (le, e) = run(reference)
                    val (la, a) = run(be)
                    assertClose("maskedMse loss", la, le, tol(Tol(1e-8, 1e-6)))
                    assertClose("maskedMse grad", a.getValue("g"), e.getValue("g"), tol(Tol(1e-9, 3e-5)))
                }
            }
        }

        test("softmaxCrossEntropy with one-hot and soft targets (loss rel 2e-6; grad abs 1e-7 + rel 1e-5)") {
            withBackend { be ->
                cases(matEdges, mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val soft = d.distributions(c.rows, c.cols)
                    val hard = FloatArray(n).also { for (r in 0 until c.rows) it[r * c.cols + d.int(0, c.cols)] = 1f }
                    val bufs = Buffers(mapOf("z" to d.normal(n, 4f), "soft" to soft, "hard" to hard, "g" to FloatArray(n) { 3f }))
                    fun run(b: Backend): Triple<Float, Float, FloatArray> {
                        val t = bufs.on(b)
                        val z = t["z"].view(c.rows, c.cols)
                        val l1 = b.softmaxCrossEntropy(z, t["soft"].view(c.rows, c.cols), t["g"].view(c.rows, c.cols))
                        val l2 = b.softmaxCrossEntropy(z, t["hard"].view(c.rows, c.cols), null)
                        return Triple(l1, l2, b.toHost(t["g"]))
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("cross-entropy loss (soft)", a.first, e.first, tol(Tol(1e-8, 2e-6)))
                    assertClose("cross-entropy loss (one-hot)", a.second, e.second, tol(Tol(1e-8, 2e-6)))
                    assertClose("cross-entropy grad", a.third, e.third, tol(Tol(1e-7, 1e-5)))
                }
            }
        }

        // ------------------------------------------------------------------ optimizer and reductions

        test("adamw over several steps (param abs 1e-7 + rel 1e-6; moments rel 1e-6, m abs 1e-9)") {
            withBackend { be ->
                cases(matEdges + Mat(1, 70_001, 16), mats) { c ->
                    val d = RandomData(c.seed)
                    val n = c.rows * c.cols
                    val bufs = Buffers(mapOf("w" to d.normal(n), "m" to FloatArray(n), "v" to FloatArray(n)))
                    val grads = List(3) { d.normal(n, 0.1f) }
                    fun run(b: Backend): Map<String, FloatArray> {
                        val t = bufs.on(b)
                        for ((i, step) in listOf(1, 2, 10).withIndex()) {
                            b.adamw(t["w"], b.fromHost(grads[i], n), t["m"], t["v"], AdamWParams(1.5e-3f, 0.9f, 0.95f, 1e-8f, 0.05f, step))
                        }
                        return t.download()
                    }
                    val e = run(reference)
                    val a = run(be)
                    assertClose("adamw param", a.getValue("w"), e.getValue("w"), tol(Tol(1e-7, 1e-6)))
                    // abs 1e-9: 1e-7 of the ~1e-2 terms (1 - beta1) g, which can cancel to a small m; a device that
                    // fuses beta1 m + (1 - beta1) g into an FMA is 1 ulp of the terms away there (PoCL: 8e-10)
                    assertClose("adamw m", a.getValue("m"), e.getValue("m"), tol(Tol(1e-9, 1e-6)))
                    assertClose("adamw v", a.getValue("v"), e.getValue("v"), tol(Tol(1e-14, 1e-6)))
                }
            }
        }

        test("sum and sumSquares (cond 5e-7 of the summed magnitudes)") {
            withBackend { be ->
                cases(matEdges + Mat(1, 100_003, 17), mats) { c ->
                    val x = RandomData(c.seed).normal(c.rows * c.cols).map { it + 0.3f }.toFloatArray()
                    val mag = x.sumOf { abs(it.toDouble()) }
                    val sq = x.sumOf { it.toDouble() * it }
                    val tr = reference.fromHost(x, x.size)
                    val tb = be.fromHost(x, x.size)
                    assertClose("sum", be.sum(tb), reference.sum(tr), tol(Tol(1e-7, cond = 5e-7)), mag)
                    assertClose("sumSquares", be.sumSquares(tb), reference.sumSquares(tr), tol(Tol(1e-7, cond = 5e-7)), sq)
                }
            }
        }

        // ------------------------------------------------------------------ GEMM

        data class Gemm(val transA: Boolean, val transB: Boolean, val m: Int, val n: Int, val k: Int, val alpha: Float,
                        val beta: Float, val batch: Int, val shareB: Boolean, val seed: Long)

        test("gemm with transposes, alpha/beta, padding and batches (cond (k + 2) * 1.2e-7 of sum |alpha a b| + |beta c|)") {
            withBackend { be ->
                val edges = listOf(Gemm(false, false, 1, 1, 1, 1f, 0f, 1, false, 61), Gemm(false, true, 1, 17, 9, 1f, 0f, 1, false, 62),
                    Gemm(true, false, 13, 1, 5, -0.5f, 1f, 2, false, 63), Gemm(true, true, 8, 8, 8, 2f, 0.7f, 1, false, 64),
                    Gemm(false, false, 9, 31, 1, 1f, 1f, 3, true, 65), Gemm(false, true, 97, 67, 131, 1f, 0f, 2, true, 66),
                    Gemm(true, false, 64, 130, 77, 1f, 0f, 1, false, 67))
                val arb = arbitrary { rs ->
                    val r = rs.random
                    fun size() = if (r.nextBoolean()) AWKWARD_SIZES.filter { it <= 70 }.random(r) else 1 + r.nextInt(70)
                    Gemm(r.nextBoolean(), r.nextBoolean(), size(), size(), size(), listOf(1f, -0.5f, 2.3f).random(r),
                        listOf(0f, 1f, 0.7f).random(r), 1 + r.nextInt(3), r.nextBoolean(), r.nextLong())
                }
                cases(edges, arb, iterations = 16) { c ->
                    val d = RandomData(c.seed)
                    val aRows = if (c.transA) c.k else c.m
                    val aCols = if (c.transA) c.m else c.k
                    val bRows = if (c.transB) c.n else c.k
                    val bCols = if (c.transB) c.k else c.n
                    val lda = aCols + d.int(0, 3)
                    val ldb = bCols + d.int(0, 3)
                    val ldc = c.n + d.int(0, 3)
                    val offA = d.int(0, 4)
                    val offB = d.int(0, 4)
                    val offC = d.int(0, 4)
                    val strideA = aRows * lda + d.int(0, 3)
                    val strideB = if (c.shareB) 0 else bRows * ldb + d.int(0, 3)
                    val strideC = c.m * ldc + d.int(0, 3)
                    val a = d.normal(offA + c.batch * strideA)
                    val b = d.normal(offB + maxOf(1, c.batch * strideB + if (c.shareB) bRows * ldb else 0))
                    // with beta == 0, C must not be read: NaNs there must not reach the result
                    val c0 = if (c.beta == 0f) FloatArray(offC + c.batch * strideC) { Float.NaN } else d.normal(offC + c.batch * strideC)
                    fun run(be: Backend): FloatArray {
                        val t = Buffers(mapOf("a" to a, "b" to b, "c" to c0)).on(be)
                        be.gemmBatched(c.transA, c.transB, c.m, c.n, c.k, c.alpha, t["a"], offA, lda, strideA,
                            t["b"], offB, ldb, strideB, c.beta, t["c"], offC, ldc, strideC, c.batch)
                        return be.toHost(t["c"])
                    }
                    val mag = DoubleArray(c0.size)
                    for (p in 0 until c.batch) for (i in 0 until c.m) for (j in 0 until c.n) {
                        var s = 0.0
                        for (l in 0 until c.k) {
                            val av = if (c.transA) a[offA + p * strideA + l * lda + i] else a[offA + p * strideA + i * lda + l]
                            val bv = if (c.transB) b[offB + p * strideB + j * ldb + l] else b[offB + p * strideB + l * ldb + j]
                            s += abs(av.toDouble() * bv)
                        }
                        val ci = offC + p * strideC + i * ldc + j
                        mag[ci] = abs(c.alpha.toDouble()) * s + if (c.beta == 0f) 0.0 else abs(c.beta.toDouble() * c0[ci])
                    }
                    assertClose("gemm", run(be), run(reference), tol(Tol(1e-30, cond = (c.k + 2) * 1.2e-7)), mag)
                }
            }
        }
    }

    // ------------------------------------------------------------------ validation

    context("$label validates arguments") {
        test("an empty batch is rejected with a message naming the op") {
            withBackend { be ->
                val empty = be.zeros(0, 8)
                val eight = be.zeros(8)
                fun rejects(op: String, call: () -> Unit) {
                    shouldThrow<IllegalArgumentException>(call).message shouldContain op
                }
                rejects("layerNormForward") { be.layerNormForward(empty, eight, eight, 1e-6f, be.zeros(0, 8), be.zeros(0), be.zeros(0)) }
                rejects("layerNormBackward") {
                    be.layerNormBackward(empty, be.zeros(0, 8), eight, be.zeros(0), be.zeros(0), be.zeros(0, 8), eight, be.zeros(8))
                }
                rejects("softmax") { be.softmax(empty, be.zeros(0, 8)) }
                rejects("softmaxCrossEntropy") { be.softmaxCrossEntropy(empty, be.zeros(0, 8), null) }
                rejects("maskedMseForward") { be.maskedMseForward(be.zeros(0, 4, 8), be.zeros(0, 4, 8), be.zeros(0, 4), false) }
                rejects("gatherRows") { be.gatherRows(be.zeros(4, 8), be.zerosInt(0, 2), be.zeros(0, 2, 8)) }
                rejects("scatterAddRows") { be.scatterAddRows(be.zeros(0, 2, 8), be.zerosInt(0, 2), be.zeros(4, 8)) }
            }
        }

        test("an out-of-range gather or scatter index is rejected, naming the op and the index") {
            withBackend { be ->
                val src = be.fromHost(FloatArray(2 * 5 * 3) { it.toFloat() }, 2, 5, 3)
                for (bad in listOf(5, -1, Int.MAX_VALUE)) {
                    val index = be.fromHost(intArrayOf(0, 1, 4, 2, bad, 3), 2, 3)
                    shouldThrow<IllegalArgumentException> { be.gatherRows(src, index, be.zeros(2, 3, 3)) }.message.let {
                        it shouldContain "gatherRows"
                        it shouldContain "$bad"
                    }
                    shouldThrow<IllegalArgumentException> { be.scatterAddRows(be.zeros(2, 3, 3), index, be.zeros(2, 5, 3)) }.message.let {
                        it shouldContain "scatterAddRows"
                        it shouldContain "$bad"
                    }
                }
            }
        }

        test("mismatched sizes and views too small for an attention shape are rejected") {
            withBackend { be ->
                shouldThrow<IllegalArgumentException> { be.add(be.zeros(3), be.zeros(4), be.zeros(3)) }.message shouldContain "add"
                val s = AttentionShape.self(1, 2, 4, 8)
                val qkv = be.zeros(4, 3 * 16)
                val v = RowView(qkv, 32, 48)
                shouldThrow<IllegalArgumentException> {
                    be.attentionForward(s, RowView(qkv, 0, 48), RowView(qkv, 16, 48), v, RowView(be.zeros(3, 16), 0, 16), be.zeros(8))
                }.message shouldContain "attentionForward"
            }
        }
    }
}
