package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.parity.CaeParityCheck
import org.maejvm.parity.ParityCheck
import java.nio.file.Files
import java.nio.file.Path

/** The PyTorch CAE fixtures on the SIMD backend (1 and 2 threads) within 1e-4. */
class SimdCaeParityTest : FunSpec({
    val root = Path.of("../mae-core/src/test/resources/fixtures/cae")
    val fixtures = Files.list(root).use { s -> s.filter { Files.isDirectory(it) }.sorted().toList() }

    test("fixtures are present") { fixtures.size shouldBeGreaterThan 1 }

    for (threads in listOf(1, 2)) {
        for (dir in fixtures) {
            test("${dir.fileName} on $threads thread(s) matches PyTorch") {
                SimdBackend(threads).use { be ->
                    val results = CaeParityCheck.run(dir, be, ParityCheck.FAST_TOLERANCE)
                    results.filter { !it.ok() }.joinToString("\n") { "${it.name()}: rel ${it.maxRel()} abs ${it.maxAbs()}" } shouldBe ""
                }
            }
        }
    }
})
