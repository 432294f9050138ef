package org.maejvm.nn

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.ops.ReferenceBackend
import java.util.Random

class CrossAttentionTest : FunSpec({
    val be = ReferenceBackend()

    for (qkvBias in listOf(true, false)) {
        test("gradients of queries, keys, values and every parameter match finite differences (qkvBias=$qkvBias)") {
            val (b, nq, nk, c, heads) = listOf(2, 3, 5, 6, 2)
            val params = ParameterSet(be)
            val attn = CrossAttention(params, "cross_attn", c, heads, qkvBias)
            val rnd = Random(if (qkvBias) 1 else 2)
            LayerGradients.randomize(be, params, rnd)
            val inputs = listOf(
                LayerGradients.gaussian(rnd, b * nq * c) to intArrayOf(b, nq, c),
                LayerGradients.gaussian(rnd, b * nk * c) to intArrayOf(b, nk, c),
                LayerGradients.gaussian(rnd, b * nk * c) to intArrayOf(b, nk, c),
            )
            LayerGradients(be, params, inputs, { (xq, xk, xv) -> attn.forward(xq, xk, xv) }) { dy ->
                val dq = attn.backward(dy)
                listOf(dq, attn.keyGrad(), attn.valueGrad())
            }.check(seed = 7)
        }
    }

    test("official parameter names and shapes") {
        val params = ParameterSet(be)
        CrossAttention(params, "blocks.0.cross_attn", 8, 2, true)
        params.all().map { it.name() to it.shape().toList() } shouldBe listOf(
            "blocks.0.cross_attn.q.weight" to listOf(8, 8),
            "blocks.0.cross_attn.k.weight" to listOf(8, 8),
            "blocks.0.cross_attn.v.weight" to listOf(8, 8),
            "blocks.0.cross_attn.q_bias" to listOf(8),
            "blocks.0.cross_attn.v_bias" to listOf(8),
            "blocks.0.cross_attn.proj.weight" to listOf(8, 8),
            "blocks.0.cross_attn.proj.bias" to listOf(8),
        )
    }

    test("one query over one key returns proj(v(key)): softmax of a single score is 1") {
        val params = ParameterSet(be)
        val attn = CrossAttention(params, "a", 4, 2, true)
        val rnd = Random(3)
        LayerGradients.randomize(be, params, rnd)
        val key = LayerGradients.gaussian(rnd, 4)
        val out = be.toHost(attn.forward(be.fromHost(LayerGradients.gaussian(rnd, 4), 1, 1, 4), be.fromHost(key, 1, 1, 4), be.fromHost(key, 1, 1, 4)))
        fun host(n: String) = be.toHost(params.get(n).value())
        val wv = host("a.v.weight"); val bv = host("a.v_bias"); val wp = host("a.proj.weight"); val bp = host("a.proj.bias")
        val v = DoubleArray(4) { i -> bv[i] + (0 until 4).sumOf { j -> wv[i * 4 + j].toDouble() * key[j] } }
        val expected = DoubleArray(4) { i -> bp[i] + (0 until 4).sumOf { j -> wp[i * 4 + j] * v[j] } }
        for (i in 0 until 4) (kotlin.math.abs(out[i] - expected[i]) < 1e-5) shouldBe true
    }

    test("mismatched keys and values are refused with their shapes") {
        val attn = CrossAttention(ParameterSet(be), "a", 4, 2, true)
        val e = shouldThrow<IllegalArgumentException> { attn.forward(be.zeros(2, 3, 4), be.zeros(2, 5, 4), be.zeros(2, 4, 4)) }
        e.message shouldContain "keys and values"
        shouldThrow<IllegalArgumentException> { CrossAttention(ParameterSet(be), "a", 6, 4, true) }.message shouldContain "divisible"
    }
})
