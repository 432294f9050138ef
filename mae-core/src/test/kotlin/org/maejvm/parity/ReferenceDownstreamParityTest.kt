package org.maejvm.parity

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import org.maejvm.ops.ReferenceBackend
import java.nio.file.Path

/** The downstream PyTorch fixtures replayed on the reference backend within 1e-5 (infinity-norm relative error). */
class ReferenceDownstreamParityTest : FunSpec({
    val parity = DownstreamParity(ReferenceBackend(), ParityCheck.REFERENCE_TOLERANCE, Path.of("src/test/resources/fixtures/downstream"))

    fun check(results: List<TensorComparison>, atLeast: Int) {
        results.size shouldBeGreaterThan atLeast - 1
        DownstreamParity.failures(results) shouldBe ""
    }

    test("ViT classifier, global pool + fc_norm, drop path with given masks: logits, mixed-target loss, every gradient") {
        check(parity.classifier("vit-gap"), 36)
    }
    test("ViT classifier, cls token + BatchNorm1d head: logits, gradients through BatchNorm, running stats, eval logits") {
        check(parity.classifier("vit-cls-bn"), 25)
    }
    test("BatchNorm1d with and without affine: forward, backward, running statistics, eval") { check(parity.batchNorm(), 12) }
    test("cross-entropy with soft targets and label smoothing") { check(parity.crossEntropy(), 6) }
    test("LARS: two steps, weight decay and trust ratio only for 2-d parameters") { check(parity.lars(), 6) }
    test("attentive probe (CAE AttentiveBlock + MLP + linear head): logits, loss, every gradient") { check(parity.attentiveProbe(), 20) }
    test("CAE attentive probe as the ATTENTIVE head: logits, loss, gradients, fc_norm statistics, eval, two SGD steps") {
        check(parity.attentiveProbeCae(), 40)
    }
    test("layer-wise lr decay: lr scales, weight-decay groups and two AdamW steps") { check(parity.layerDecay(), 100) }
})
