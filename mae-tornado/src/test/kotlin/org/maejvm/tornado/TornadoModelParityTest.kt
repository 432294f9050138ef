package org.maejvm.tornado

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.parity.CaeParityCheck
import org.maejvm.parity.DownstreamParity
import org.maejvm.parity.ParityCheck
import java.nio.file.Files
import java.nio.file.Path

/** The CAE and downstream (classifier, BatchNorm1d, cross-entropy, LARS, layer decay) PyTorch fixtures on the TornadoVM backend within 1e-4. */
class TornadoModelParityTest : FunSpec({
    val fixtures = Path.of("../mae-core/src/test/resources/fixtures")
    val cae = Files.list(fixtures.resolve("cae")).use { s -> s.filter { Files.isDirectory(it) }.sorted().toList() }

    test("CAE fixtures are present") { cae.size shouldBeGreaterThan 1 }

    for (dir in cae) {
        test("CAE ${dir.fileName}: one step matches PyTorch") {
            TornadoBackend(0).use { be ->
                val results = CaeParityCheck.run(dir, be, ParityCheck.FAST_TOLERANCE)
                results.size shouldBeGreaterThan 5
                results.filter { !it.ok() }.joinToString("\n") { "${it.name()}: rel ${it.maxRel()} abs ${it.maxAbs()}" } shouldBe ""
            }
        }
    }

    test("downstream: classifiers, BatchNorm1d, cross-entropy, LARS, layer decay match PyTorch") {
        TornadoBackend(0).use { be ->
            val parity = DownstreamParity(be, ParityCheck.FAST_TOLERANCE, fixtures.resolve("downstream"))
            for (results in listOf(parity.classifier("vit-gap"), parity.classifier("vit-cls-bn"), parity.batchNorm(),
                    parity.crossEntropy(), parity.lars(), parity.layerDecay())) {
                results.size shouldBeGreaterThan 0
                DownstreamParity.failures(results) shouldBe ""
            }
        }
    }
})
