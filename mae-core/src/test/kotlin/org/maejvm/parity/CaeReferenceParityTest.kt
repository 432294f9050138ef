package org.maejvm.parity

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.ops.ReferenceBackend
import java.nio.file.Files
import java.nio.file.Path

/** The PyTorch CAE fixtures (loss terms, latents, prediction, gradients, EMA teacher) on the reference backend. */
class CaeReferenceParityTest : FunSpec({
    val root = Path.of("src/test/resources/fixtures/cae")
    val fixtures = Files.list(root).use { s -> s.filter { Files.isDirectory(it) }.sorted().toList() }

    test("fixtures are present") { fixtures.size shouldBeGreaterThan 1 }

    for (dir in fixtures) {
        test("${dir.fileName}: CAE step matches PyTorch within ${ParityCheck.REFERENCE_TOLERANCE}") {
            val results = CaeParityCheck.run(dir, ReferenceBackend(), ParityCheck.REFERENCE_TOLERANCE)
            results.size shouldBeGreaterThan 60
            results.filter { !it.ok() }.joinToString("\n") { "${it.name()}: rel ${it.maxRel()} abs ${it.maxAbs()}" } shouldBe ""
        }
    }
})
