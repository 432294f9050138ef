package org.maejvm.nn

import io.kotest.assertions.withClue
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import org.maejvm.ops.Backend
import org.maejvm.tensor.Tensor
import java.util.Random
import kotlin.math.abs

/**
 * Central finite differences of J = sum(w * layer(inputs)) for a layer with explicit backward: every element of
 * every input and every trainable parameter is perturbed in turn (float32 forward, h = 1e-2 as in the op checks),
 * and the analytic gradients from one backward with dout = w must agree to [tol] relative to the largest one.
 */
internal class LayerGradients(
    private val be: Backend,
    private val params: ParameterSet,
    /** Host values of the inputs; perturbed in place by the check. */
    private val inputs: List<Pair<FloatArray, IntArray>>,
    private val forward: (List<Tensor>) -> Tensor,
    /** Runs the backward for dout and returns the input gradients in the order of [inputs]. */
    private val backward: (Tensor) -> List<Tensor>,
) {
    /** [zero]: parameters whose gradient is zero by construction (checked to be so, analytic and numeric). */
    fun check(seed: Long, tol: Double = 2e-3, zero: Set<String> = emptySet()) {
        val rnd = Random(seed)
        fun run(): Tensor = forward(inputs.map { (v, s) -> be.fromHost(v, *s) })
        val out0 = run()
        val w = FloatArray(out0.size()) { rnd.nextGaussian().toFloat() }
        fun objective(): Double {
            val o = be.toHost(run())
            var s = 0.0
            for (i in o.indices) s += o[i].toDouble() * w[i]
            return s
        }
        params.zeroGrad()
        run()
        val dIn = backward(be.fromHost(w, *out0.shape())).map { be.toHost(it) }
        for ((i, input) in inputs.withIndex()) expect("input $i", dIn[i], numeric(input.first, ::objective), tol)
        for (p in params.trainable()) {
            val analytic = be.toHost(p.grad())
            val values = be.toHost(p.value())
            val numeric = numeric(values) { be.upload(values, p.value()); objective() }
            be.upload(values, p.value())
            if (p.name() in zero) {
                withClue("${p.name()} should have no gradient") {
                    analytic.maxOf { abs(it) }.toDouble() shouldBeLessThan 1e-6
                    numeric.maxOf { abs(it) } shouldBeLessThan 1e-4
                }
            } else {
                expect(p.name(), analytic, numeric, tol)
            }
        }
    }

    private fun numeric(x: FloatArray, objective: () -> Double) = DoubleArray(x.size) { i ->
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

    private fun expect(what: String, analytic: FloatArray, numeric: DoubleArray, tol: Double) {
        val scale = numeric.maxOf { abs(it) }
        var worst = 0
        for (i in analytic.indices) if (abs(analytic[i] - numeric[i]) > abs(analytic[worst] - numeric[worst])) worst = i
        val err = abs(analytic[worst] - numeric[worst]) / scale
        withClue("$what: worst element $worst analytic ${analytic[worst]} numeric ${numeric[worst]}, relative error $err") {
            scale shouldBeGreaterThan 1e-6
            err shouldBeLessThan tol
        }
    }

    companion object {
        private const val H = 1e-2f

        /** Fills every parameter (trainable or not) with N(mean, sigma) values, LayerNorm-like ones near 1. */
        fun randomize(be: Backend, params: ParameterSet, rnd: Random, sigma: Double = 0.5) {
            for (p in params.all()) {
                val ones = p.name().contains("norm") && p.name().endsWith("weight") || p.name().contains("gamma")
                val v = FloatArray(p.value().size()) { ((if (ones) 1.0 else 0.0) + sigma * rnd.nextGaussian()).toFloat() }
                be.upload(v, p.value())
            }
        }

        fun gaussian(rnd: Random, n: Int) = FloatArray(n) { rnd.nextGaussian().toFloat() }
    }
}
