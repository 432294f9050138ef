package org.maejvm.bench

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.core.test.Enabled
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.lang.foreign.Arena
import java.lang.foreign.ValueLayout
import org.maejvm.bench.blas.DebianOpenBlas
import org.maejvm.bench.blas.JavacppOpenBlas
import org.maejvm.bench.blas.Sgemm
import org.maejvm.ops.ReferenceBackend

/** Both OpenBLAS bindings against the reference backend on small GEMMs with every transpose combination. */
class SgemmTest : FunSpec({
    val debianMissing = if (DebianOpenBlas.locate().isPresent) null
    else "Debian's OpenBLAS is not installed (${DebianOpenBlas.PACKAGE_HINT}); skipping the FFM binding"

    val bindings: List<Pair<String, () -> Sgemm>> = listOf(
        "debian" to { DebianOpenBlas.load() },
        "javacpp" to { JavacppOpenBlas.load() },
    )

    for ((name, load) in bindings) {
        val skip = if (name == "debian") debianMissing else null
        for (transA in listOf(false, true)) for (transB in listOf(false, true)) {
            test("$name sgemm transA=$transA transB=$transB matches the reference backend")
                .config(enabledOrReasonIf = { if (skip == null) Enabled.enabled else Enabled.disabled(skip) }) {
                    val blas = load()
                    // Odd sizes, padded leading dimensions, alpha and beta both in play.
                    val m = 7; val n = 5; val k = 9; val pad = 3
                    val lda = (if (transA) m else k) + pad
                    val ldb = (if (transB) k else n) + pad
                    val ldc = n + pad
                    val a = OpCases.randomFloats((if (transA) k else m) * lda, 1)
                    val b = OpCases.randomFloats((if (transB) n else k) * ldb, 2)
                    val c0 = OpCases.randomFloats(m * ldc, 3)
                    val alpha = 0.75f; val beta = -1.5f

                    val ref = ReferenceBackend()
                    val tc = ref.fromHost(c0.copyOf(), c0.size)
                    ref.gemm(transA, transB, m, n, k, alpha, ref.fromHost(a, a.size), 0, lda, ref.fromHost(b, b.size), 0, ldb,
                        beta, tc, 0, ldc)
                    val expected = ref.toHost(tc)

                    val viaArrays = c0.copyOf()
                    blas.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, viaArrays, ldc)
                    maxDiff(viaArrays, expected) shouldBeLessThan 1e-5

                    Arena.ofConfined().use { arena ->
                        val sc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, *c0)
                        blas.sgemm(transA, transB, m, n, k, alpha, arena.allocateFrom(ValueLayout.JAVA_FLOAT, *a), lda,
                            arena.allocateFrom(ValueLayout.JAVA_FLOAT, *b), ldb, beta, sc, ldc)
                        maxDiff(sc.toArray(ValueLayout.JAVA_FLOAT), expected) shouldBeLessThan 1e-5
                    }
                    // Padding columns of C are outside the matrix and must be left alone.
                    for (i in 0 until m) for (j in n until ldc) viaArrays[i * ldc + j] shouldBe c0[i * ldc + j]
                }
        }

        test("$name thread count is set and read back")
            .config(enabledOrReasonIf = { if (skip == null) Enabled.enabled else Enabled.disabled(skip) }) {
                val blas = load()
                blas.setThreads(1)
                blas.threads() shouldBe 1
                val all = Runtime.getRuntime().availableProcessors()
                blas.setThreads(all)
                blas.threads() shouldBe all
                blas.describe() shouldContain "OpenBLAS"
            }
    }

    test("a leading dimension below the column count is refused before the native call") {
        val blas = JavacppOpenBlas.load()
        val e = shouldThrow<IllegalArgumentException> {
            blas.sgemm(false, false, 4, 4, 4, 1f, FloatArray(16), 3, FloatArray(16), 4, 0f, FloatArray(16), 4)
        }
        e.message shouldContain "leading dimension of A (3)"
    }

    test("a buffer too short for the matrix is refused") {
        val blas = JavacppOpenBlas.load()
        val e = shouldThrow<IllegalArgumentException> {
            blas.sgemm(false, false, 4, 4, 4, 1f, FloatArray(16), 4, FloatArray(15), 4, 0f, FloatArray(16), 4)
        }
        e.message shouldContain "B (4x4, ld 4) needs 64 bytes"
    }

    test("the two builds are separate libraries, each answering for itself")
        .config(enabledOrReasonIf = { if (debianMissing == null) Enabled.enabled else Enabled.disabled(debianMissing) }) {
            val debian = DebianOpenBlas.load()
            val javacpp = JavacppOpenBlas.load()
            debian.setThreads(1)
            javacpp.setThreads(2)
            debian.threads() shouldBe 1
            javacpp.threads() shouldBe 2
        }
})

private fun maxDiff(x: FloatArray, y: FloatArray): Double {
    x.size shouldBe y.size
    var d = 0.0
    for (i in x.indices) d = maxOf(d, Math.abs(x[i].toDouble() - y[i]))
    return d
}
