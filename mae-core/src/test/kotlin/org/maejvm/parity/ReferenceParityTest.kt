package org.maejvm.parity

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.ops.ReferenceBackend
import java.nio.file.Files
import java.nio.file.Path

/** Every PyTorch fixture replayed on the reference backend within 1e-5 (infinity-norm relative error). */
class ReferenceParityTest : FunSpec({
    val root = Path.of("src/test/resources/fixtures/mae")
    val fixtures = Files.list(root).use { s -> s.filter { Files.isDirectory(it) }.sorted().toList() }

    test("fixtures are present") { fixtures.size shouldBeGreaterThan 0 }

    for (dir in fixtures) {
        test("${dir.fileName}: loss, pred, mask, ids_restore, gradients and AdamW step match PyTorch") {
            val fx = ParityFixture.load(dir, null)
            val results = ParityCheck.run(fx, ReferenceBackend(), ParityCheck.REFERENCE_TOLERANCE)
            results.size shouldBeGreaterThan 4 + fx.weights().size
            results.filter { !it.ok() }.map { "${it.name()}: rel ${it.maxRel()} abs ${it.maxAbs()}" }.joinToString("\n") shouldBe ""
        }
        if (Files.exists(dir.resolve("model.pth"))) {
            test("${dir.fileName}: model.pth holds the same weights as model.safetensors") {
                val a = ParityFixture.load(dir, null).weights()
                val b = ParityFixture.load(dir, dir.resolve("model.pth")).weights()
                b.keys.sorted() shouldBe a.keys.sorted()
                a.keys.filter { k -> !a[k]!!.data.contentEquals(b[k]!!.data) }.shouldBeEmpty()
            }
        }
    }
})
