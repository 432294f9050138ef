package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.SplittableRandom
import kotlin.math.abs
import org.maejvm.data.Mixup
import org.maejvm.ops.ReferenceBackend

/** The classifier's ATTENTIVE head: CAE's probe over every token of a frozen encoder. */
class AttentiveClassifierTest : FunSpec({
    val be = ReferenceBackend()
    val enc = MaeConfig(8, 2, 3, 8, 2, 2, 8, 1, 2, 2.0, false)
    val rng = SplittableRandom(7)
    val imgs = be.fromHost(FloatArray(3 * 3 * 64) { rng.nextGaussian().toFloat() }, 3, 3, 8, 8)

    test("the probe reads every token after the encoder's norm: the features equal MaeModel.encode's latent") {
        val mae = MaeModel(enc, be, 3)
        val model = VitClassifier(ClassifierConfig.attentive(enc, 5), be, 1)
        model.featureShape().toList() shouldBe listOf(17, 8)
        val report = EncoderWeights.load(model, mae.parameters().stateDict())
        report.unexpected().shouldBeEmpty()
        model.train(false)
        val got = be.toHost(model.forwardFeatures(imgs))
        val want = be.toHost(mae.encode(imgs))
        got.indices.maxOf { abs(got[it] - want[it]) }.toDouble() shouldBe (0.0 plusOrMinus 1e-5)
        // forward = head on those features, in eval mode
        val logits = be.toHost(model.forward(imgs))
        val again = be.toHost(model.forwardHead(be.fromHost(got, 3, 17, 8)))
        logits.toList() shouldBe again.toList()
    }

    test("a step trains only the probe: encoder gradients stay absent, every probe parameter gets one") {
        val model = VitClassifier(ClassifierConfig.attentive(enc, 5), be, 2)
        model.encoderFrozen() shouldBe true
        model.trainableParameters() shouldBe model.headParameters()
        model.headParameters().map { it.name() }.filter { !it.startsWith("attentive_blocks.") } shouldBe
            listOf("query_token", "head.weight", "head.bias")
        // CAE starts the query at 0, where norm1_q's weight has no gradient (its input is normalised to 0): move it.
        be.upload(FloatArray(8) { rng.nextGaussian().toFloat() }, model.parameters().get("query_token").value())
        model.train(true)
        val logits = model.forward(imgs)
        val d = be.zeros(*logits.shape())
        be.softmaxCrossEntropy(logits, be.fromHost(Mixup.smoothedOneHot(intArrayOf(0, 3, 4), 5, 0.0), 3, 5), d)
        model.backward(d)
        for (p in model.headParameters()) (p.name() to be.toHost(p.grad()).any { it != 0f }) shouldBe (p.name() to true)
        for (p in model.parameters().trainable().filter { it !in model.headParameters() }) {
            (p.name() to be.toHost(p.grad()).all { it == 0f }) shouldBe (p.name() to true)
        }
        shouldThrow<IllegalStateException> { model.freezeEncoder(false) }.message shouldContain "frozen encoder"
    }

    test("configs the probe cannot read are refused by name") {
        shouldThrow<IllegalArgumentException> { ClassifierConfig.attentive(enc, 5).withGlobalPool(true).validate() }
            .message shouldContain "global_pool must be false"
        val model = VitClassifier(ClassifierConfig.attentive(enc, 5), be, 2)
        shouldThrow<IllegalArgumentException> { model.forwardHead(be.zeros(3, 8)) }.message shouldContain "[B, 17, 8]"
    }
})
