package org.maejvm.simd

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.maejvm.ops.AttentionShape
import org.maejvm.ops.Backend
import org.maejvm.ops.RowView
import org.maejvm.ops.testing.RandomData

/**
 * Ops whose output rows do not depend on how rows are split over threads must give bit-identical results on
 * any thread count; a race (two tasks writing one element, a shared scratch buffer) shows up as a difference.
 */
class SimdThreadsTest : FunSpec({

    /** One MAE-encoder-like pass: layerNorm, attention forward and backward on a packed qkv, GELU. */
    fun run(be: Backend, seed: Long): List<FloatArray> {
        val d = RandomData(seed)
        val b = 4
        val t = 50
        val heads = 3
        val hd = 64
        val w = heads * hd
        val s = AttentionShape.self(b, heads, t, hd)
        val x = be.fromHost(d.normal(b * t * w), b * t, w)
        val ln = be.zeros(b * t, w)
        be.layerNormForward(x, be.fromHost(d.normal(w), w), be.fromHost(d.normal(w), w), 1e-6f, ln, be.zeros(b * t), be.zeros(b * t))
        val qkv = be.fromHost(d.normal(b * t * 3 * w), b * t, 3 * w)
        val out = be.zeros(b * t, w)
        val lse = be.zeros(b * heads * t)
        val q = RowView(qkv, 0, 3 * w)
        val k = RowView(qkv, w, 3 * w)
        val v = RowView(qkv, 2 * w, 3 * w)
        be.attentionForward(s, q, k, v, RowView.of(out), lse)
        val dqkv = be.zeros(b * t, 3 * w)
        be.attentionBackward(s, q, k, v, RowView.of(out), RowView.of(be.fromHost(d.normal(b * t * w), b * t, w)), lse,
            RowView(dqkv, 0, 3 * w), RowView(dqkv, w, 3 * w), RowView(dqkv, 2 * w, 3 * w))
        val g = be.zeros(b * t, w)
        be.geluForward(ln, g)
        return listOf(ln, out, lse, dqkv, g).map { be.toHost(it) }
    }

    test("1, 2 and 3 threads agree bit for bit on row-parallel ops, repeatedly") {
        val expected = SimdBackend(1).use { run(it, 7) }
        for (threads in listOf(2, 3)) {
            SimdBackend(threads).use { be ->
                repeat(3) {
                    val got = run(be, 7)
                    val names = listOf("layerNorm", "attention out", "lse", "dqkv", "gelu")
                    for (i in expected.indices) withClue("${names[i]} on $threads threads") { got[i].contentEquals(expected[i]) shouldBe true }
                }
            }
        }
    }
})
