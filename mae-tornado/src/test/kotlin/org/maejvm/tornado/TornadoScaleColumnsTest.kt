package org.maejvm.tornado

import io.kotest.core.spec.style.FunSpec
import org.maejvm.ops.Backend
import org.maejvm.ops.ReferenceBackend
import org.maejvm.ops.testing.Buffers
import org.maejvm.ops.testing.RandomData
import org.maejvm.ops.testing.Tol
import org.maejvm.ops.testing.assertClose
import kotlin.math.abs

/**
 * scaleColumns and its backward (layer scale), which the shared conformance suite does not cover yet, on device
 * kernels against the reference backend: in place too, with and without dgamma.
 */
class TornadoScaleColumnsTest : FunSpec({
    val reference = ReferenceBackend()
    for ((rows, cols) in listOf(1 to 1, 3 to 7, 37 to 64, 301 to 17, 2 to 131)) {
        test("$rows x $cols: out exact, dx exact, dgamma within cond 2e-6 of the summed magnitudes") {
            val d = RandomData(rows * 1000L + cols)
            val n = rows * cols
            val x = d.normal(n)
            val dy = d.normal(n)
            val g0 = d.normal(cols)
            val bufs = Buffers(mapOf("x" to x, "g" to d.normal(cols), "out" to FloatArray(n), "dy" to dy, "dx" to FloatArray(n),
                "dg" to g0, "y" to x, "dy2" to dy))
            fun run(b: Backend): Map<String, FloatArray> {
                val t = bufs.on(b)
                b.scaleColumns(t["x"].view(rows, cols), t["g"], t["out"])
                b.scaleColumns(t["y"].view(rows, cols), t["g"], t["y"])
                b.scaleColumnsBackward(t["dy"], t["x"].view(rows, cols), t["g"], t["dx"], t["dg"])
                b.scaleColumnsBackward(t["dy2"], t["x"].view(rows, cols), t["g"], t["dy2"], null)
                return t.download()
            }
            val e = run(reference)
            TornadoBackend(0).use { be ->
                val a = run(be)
                for (k in listOf("out", "y", "dx", "dy2")) assertClose("scaleColumns $k", a.getValue(k), e.getValue(k), Tol.EXACT)
                val mag = DoubleArray(cols) { j -> abs(g0[j].toDouble()) + (0 until rows).sumOf { r -> abs(dy[r * cols + j] * x[r * cols + j].toDouble()) } }
                assertClose("scaleColumns dgamma", a.getValue("dg"), e.getValue("dg"), Tol(1e-7, cond = 2e-6), mag)
            }
        }
    }
})
