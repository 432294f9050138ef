package org.maejvm.example

import kotlin.math.abs
import kotlin.random.Random
import kotlin.system.exitProcess
import org.maejvm.ops.Backend
import org.maejvm.ops.ReferenceBackend
import org.maejvm.simd.SimdBackend

/** y = LayerNorm(x · w) on [rows, n]; returns the matmul and the normalised result. */
fun matmulLayerNorm(backend: Backend, x: FloatArray, w: FloatArray, rows: Int, k: Int, n: Int): List<FloatArray> {
    val xw = backend.zeros(rows, n)
    val y = backend.zeros(rows, n)
    backend.matmul(backend.fromHost(x, rows, k), backend.fromHost(w, k, n), xw)
    val gamma = backend.fromHost(FloatArray(n) { 1f }, n)
    val beta = backend.zeros(n)
    backend.layerNormForward(xw, gamma, beta, 1e-6f, y, backend.zeros(rows), backend.zeros(rows))
    return listOf(backend.toHost(xw), backend.toHost(y))
}

fun main() {
    val (rows, k, n) = Triple(33, 70, 45)
    val random = Random(7)
    val x = FloatArray(rows * k) { random.nextFloat() * 2 - 1 }
    val w = FloatArray(k * n) { random.nextFloat() * 2 - 1 }

    val (got, threads) = SimdBackend().use { matmulLayerNorm(it, x, w, rows, k, n) to it.threads() }
    val want = ReferenceBackend().use { matmulLayerNorm(it, x, w, rows, k, n) }
    val maxDiff = got.zip(want).maxOf { (g, r) -> g.indices.maxOf { i -> abs(g[i] - r[i]) } }

    println("kotlin: matmul + layerNorm on simd ($threads threads), max |diff| vs reference = $maxDiff")
    if (!(maxDiff <= 1e-4f)) exitProcess(1)
}
