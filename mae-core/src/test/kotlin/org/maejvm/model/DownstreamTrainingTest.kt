package org.maejvm.model

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import org.maejvm.data.Batch
import org.maejvm.data.Mixup
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.Lars
import org.maejvm.optim.LayerDecay
import org.maejvm.tensor.Tensor
import java.util.SplittableRandom

/**
 * The pieces train together as docs/DOWNSTREAM-MODEL.md shows: on a tiny separable task (the class is which image
 * half is brighter) fine-tuning with layer-decayed AdamW + Mixup, linear probing with LARS on a frozen encoder and
 * the attentive probe all drive the loss down.
 */
class DownstreamTrainingTest : FunSpec({
    val be = ReferenceBackend()
    val enc = MaeConfig(8, 4, 3, 16, 2, 2, 8, 1, 2, 2.0, false)

    fun batch(rng: SplittableRandom, n: Int): Batch {
        val per = 3 * 8 * 8
        val labels = IntArray(n) { rng.nextInt(2) }
        val px = FloatArray(n * per) { i ->
            val img = i / per
            val x = i % 8
            val bright = (x < 4) == (labels[img] == 0)
            (rng.nextGaussian() * 0.5 + if (bright) 1.0 else -1.0).toFloat()
        }
        return Batch(px, n, 3, 8, 8, labels, IntArray(n) { it })
    }

    fun loss(logits: Tensor, targets: FloatArray, d: Tensor?) = be.softmaxCrossEntropy(logits, be.fromHost(targets, *logits.shape()), d)

    test("fine-tuning (layer decay AdamW, Mixup/CutMix, label smoothing, drop path) lowers the held-out loss") {
        val model = VitClassifier(ClassifierConfig.finetune(enc, 2, 0.1), be, 1)
        val opt = LayerDecay.adamw(be, model.trainableParameters(), enc.depth(), 0.05f, 0.75)
        val mixup = Mixup(Mixup.Config.official(2), 2)
        val rng = SplittableRandom(3)
        val heldOut = batch(SplittableRandom(99), 32)
        fun evalLoss(): Double {
            model.train(false)
            return loss(model.forward(heldOut), Mixup.smoothedOneHot(heldOut.labels(), 2, 0.0), null).toDouble()
        }
        val before = evalLoss()
        for (step in 0 until 80) {
            model.train(true)
            model.reseed(step.toLong())
            val m = mixup.apply(batch(rng, 16))
            val logits = model.forward(m.batch())
            val d = be.zeros(*logits.shape())
            loss(logits, m.targets(), d)
            model.parameters().zeroGrad()
            model.backward(d)
            opt.step(3e-3f)
        }
        val after = evalLoss()
        withClue("held-out loss $before -> $after") { after shouldBeLessThan 0.7 * before }
    }

    test("linear probing (frozen encoder, cached features, BatchNorm head, LARS) lowers the loss; the encoder stays as it was") {
        val model = VitClassifier(ClassifierConfig.linprobe(enc, 2), be, 4)
        model.freezeEncoder(true)
        val opt = Lars.official(be, model.trainableParameters(), 0f)
        val qkv = be.toHost(model.parameters().get("blocks.0.attn.qkv.weight").value())
        val rng = SplittableRandom(5)
        val data = batch(rng, 32)
        val targets = Mixup.smoothedOneHot(data.labels(), 2, 0.0)
        model.train(true)
        val f = model.forwardFeatures(be.fromHost(data.images(), *data.shape()))
        val features = be.fromHost(be.toHost(f), *f.shape()) // a frozen encoder's features can be computed once
        var first = 0.0
        var last = 0.0
        // LARS moves a weight by about lr * 0.001 * |w| per step: the official linear probe runs at lr ~6 (blr 0.1 x 16384 / 256).
        for (step in 0 until 80) {
            val logits = model.forwardHead(features)
            val d = be.zeros(*logits.shape())
            last = loss(logits, targets, d).toDouble()
            if (step == 0) first = last
            model.parameters().zeroGrad()
            model.backward(d)
            opt.step(5f)
        }
        withClue("training loss $first -> $last") { last shouldBeLessThan 0.8 * first }
        be.toHost(model.parameters().get("blocks.0.attn.qkv.weight").value()).toList() shouldBe qkv.toList()
    }

    test("the attentive probe on frozen MAE features lowers the loss") {
        val mae = MaeModel(enc, be, 6)
        val probe = AttentiveProbe(be, enc.embedDim(), enc.numHeads(), 2.0, 2, 7)
        val opt = LayerDecay.adamw(be, probe.parameters().trainable(), 1, 0f, 1.0)
        val data = batch(SplittableRandom(8), 32)
        val latent = be.fromHost(be.toHost(mae.encode(be.fromHost(data.images(), *data.shape()))), 32, 5, 16)
        val targets = Mixup.smoothedOneHot(data.labels(), 2, 0.0)
        var first = 0.0
        var last = 0.0
        for (step in 0 until 30) {
            val logits = probe.forwardPatches(latent)
            val d = be.zeros(*logits.shape())
            last = loss(logits, targets, d).toDouble()
            if (step == 0) first = last
            probe.parameters().zeroGrad()
            probe.backward(d)
            opt.step(3e-3f)
        }
        withClue("training loss $first -> $last") { last shouldBeLessThan 0.7 * first }
    }
})
