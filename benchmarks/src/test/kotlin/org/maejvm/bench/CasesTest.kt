package org.maejvm.bench

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import org.maejvm.bench.jmh.OpsJmh
import org.maejvm.ops.ReferenceBackend
import org.openjdk.jmh.annotations.Param

class CasesTest : FunSpec({

    test("the JMH op list names exactly the cases of OpCases") {
        val params = OpsJmh::class.java.getField("op").getAnnotation(Param::class.java).value.toList()
        params shouldBe OpCases.all(OpCases.Size.TINY, false).map { it.id() }
    }

    test("every case runs on the reference backend at the tiny size") {
        val ref = ReferenceBackend()
        for (c in OpCases.all(OpCases.Size.TINY, true)) {
            c.setup().apply(ref).run()
            (c.work() > 0) shouldBe true
        }
    }

    test("GEMM layers given as MxKxN run in their three forms; a malformed one is named") {
        val cases = GemmCase.parseLayers(listOf("544x384x1536", " 37X96x83 "))
        cases.map { it.shape() } shouldBe listOf(
            "544x384x1536 fwd NT", "544x384x1536 dX NN", "544x384x1536 dW TN",
            "37x96x83 fwd NT", "37x96x83 dX NN", "37x96x83 dW TN")
        for (bad in listOf("544x384", "544x0x10", "ax1x2", "1x2x3x4")) {
            val e = io.kotest.assertions.throwables.shouldThrow<IllegalArgumentException> { GemmCase.parseLayers(listOf(bad)) }
            e.message!!.startsWith("GEMM layer '$bad' is not MxKxN") shouldBe true
        }
    }

    test("the three GEMM forms compute a Linear layer's forward, dX and dW") {
        // Layer with M=3 rows, K=4 in, N=5 out; W stored [N, K].
        val bigM = 3; val bigK = 4; val bigN = 5
        val x = OpCases.randomFloats(bigM * bigK, 1)
        val w = OpCases.randomFloats(bigN * bigK, 2)
        val dy = OpCases.randomFloats(bigM * bigN, 3)
        val ref = ReferenceBackend()
        fun run(form: GemmCase.Form, a: FloatArray, b: FloatArray): FloatArray {
            val c = GemmCase(bigM, bigK, bigN, form)
            val out = ref.zeros(c.m() * c.n())
            ref.gemm(c.transA(), c.transB(), c.m(), c.n(), c.k(), 1f, ref.fromHost(a, a.size), 0, c.lda(),
                ref.fromHost(b, b.size), 0, c.ldb(), 0f, out, 0, c.n())
            (c.flops()) shouldBe 2.0 * bigM * bigK * bigN
            return ref.toHost(out)
        }
        val y = run(GemmCase.Form.FWD, x, w)
        val dx = run(GemmCase.Form.DX, dy, w)
        val dw = run(GemmCase.Form.DW, dy, x)
        for (i in 0 until bigM) for (o in 0 until bigN) {
            var s = 0.0; for (j in 0 until bigK) s += x[i * bigK + j] * w[o * bigK + j]
            Math.abs(y[i * bigN + o] - s) shouldBeLessThan 1e-5
        }
        for (i in 0 until bigM) for (j in 0 until bigK) {
            var s = 0.0; for (o in 0 until bigN) s += dy[i * bigN + o] * w[o * bigK + j]
            Math.abs(dx[i * bigK + j] - s) shouldBeLessThan 1e-5
        }
        for (o in 0 until bigN) for (j in 0 until bigK) {
            var s = 0.0; for (i in 0 until bigM) s += dy[i * bigN + o] * x[i * bigK + j]
            Math.abs(dw[o * bigK + j] - s) shouldBeLessThan 1e-5
        }
    }

    test("a slow call is timed once after one warm-up call") {
        var calls = 0
        val t = Measure.time({ calls++; Thread.sleep(30) }, 0.02, 0.0)
        calls shouldBe 2
        t.calls() shouldBe 1
        (t.bestNanos() > 25e6) shouldBe true
    }

    test("paired timing alternates the two bodies and keeps their speed ratio") {
        val order = StringBuilder()
        var pauses = 0
        val pair = Measure.timePair({ order.append('a'); Thread.sleep(4) }, { order.append('b'); Thread.sleep(12) },
            { pauses++ }, 0.1, 0.0)
        val timed = order.toString().dropWhile { it == 'a' }.dropWhile { it == 'b' }
        // After both warm-ups the samples alternate (each after one untimed call): runs of a then runs of b,
        // one pause after each b run.
        timed.matches(Regex("(a+b+)+")) shouldBe true
        pauses shouldBe Regex("a+b+").findAll(timed).count() + 1
        (pair.speedup() in 1.5..4.5) shouldBe true  // 3 when sleeps are exact; best-of keeps it near
    }
})
