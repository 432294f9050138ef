package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.parity.DownstreamParity
import org.maejvm.parity.ParityCheck
import org.maejvm.parity.TensorComparison
import java.nio.file.Path

/** The downstream PyTorch fixtures replayed on the SIMD backend (1 and 2 threads) within 1e-4. */
class SimdDownstreamParityTest : FunSpec({
    val root = Path.of("../mae-core/src/test/resources/fixtures/downstream")

    fun check(results: List<TensorComparison>) {
        results.size shouldBeGreaterThan 5
        DownstreamParity.failures(results) shouldBe ""
    }

    for (threads in listOf(1, 2)) {
        test("$threads thread(s): classifiers (global pool + drop path; cls + BatchNorm head), BatchNorm1d, CE, LARS, layer decay, attentive probes (+ SGD)") {
            SimdBackend(threads).use { be ->
                val parity = DownstreamParity(be, ParityCheck.FAST_TOLERANCE, root)
                check(parity.classifier("vit-gap"))
                check(parity.classifier("vit-cls-bn"))
                check(parity.batchNorm())
                check(parity.crossEntropy())
                check(parity.lars())
                check(parity.layerDecay())
                check(parity.attentiveProbe())
                check(parity.attentiveProbeCae())
            }
        }
    }
})
