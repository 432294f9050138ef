package org.maejvm.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.util.SplittableRandom
import org.maejvm.data.FloatImage
import org.maejvm.data.InMemoryDataset
import org.maejvm.data.Normalization
import org.maejvm.model.MaeConfig
import org.maejvm.ops.ReferenceBackend

/** 16 x 16 gray images of 4 x 4 patches, width 8, one block. */
private val TINY = MaeConfig(16, 4, 1, 8, 1, 2, 8, 1, 2, 2.0, false)

/** Two classes a linear probe can tell apart: a bright left half, or a bright right half, plus noise. */
private fun halves(n: Int, seed: Long): InMemoryDataset {
    val rng = SplittableRandom(seed)
    val labels = IntArray(n) { it % 2 }
    val images = List(n) { i ->
        FloatImage(FloatArray(256) { p ->
            val left = (p % 16) < 8
            val bright = if (labels[i] == 0) left else !left
            (if (bright) 0.8f else 0.2f) + 0.1f * rng.nextFloat()
        }, 1, 16, 16)
    }
    return InMemoryDataset(images, labels, listOf("left", "right"), Normalization.HALF)
}

class DownstreamTrainerTest : FunSpec({
    val be = ReferenceBackend()
    val train = halves(64, 1)
    val val_ = halves(32, 2)

    test("a cached linear probe learns two separable classes and writes best/last checkpoints, log, eval.json, CSV") {
        val dir = tempdir().toPath()
        val config = DownstreamConfig.linprobe().epochs(20).batchSize(32).warmupEpochs(2.0)
            .outputDir(dir.toString()).build()
        val built = DownstreamTrainer.newClassifier(config, TINY, 2, null, be)
        val r = DownstreamTrainer(config, built.model(), train, val_, 1.0).run()
        r.best().top1() shouldBeGreaterThan 0.8
        for (f in listOf("checkpoint-best.safetensors", "checkpoint-last.safetensors", "log.txt", "eval.json", "confusion.csv")) {
            Files.exists(dir.resolve(f)) shouldBe true
        }
        val lines = Files.readAllLines(dir.resolve("log.txt"))
        lines.size shouldBe 20
        lines[0] shouldContain "\"test_acc1\""
        Files.readAllLines(dir.resolve("confusion.csv"))[0] shouldBe "true\\predicted,left,right"
        // The best checkpoint rebuilds the classifier: same evaluation.
        val c = DownstreamCheckpoint.read(dir.resolve("checkpoint-best.safetensors"))
        c.classNames() shouldBe listOf("left", "right")
        val again = DownstreamTrainer(config.toBuilder().outputDir(null).build(), c.newModel(be), train, val_, 1.0)
        again.evaluate().top1() shouldBe r.best().top1()
    }

    test("fine-tuning 2 epochs equals 1 epoch + resume for 1 more, weight for weight") {
        val base = DownstreamConfig.finetune().epochs(2).batchSize(16).warmupEpochs(0.5).dropPath(0.1)
            .mixup(0.8).cutmix(1.0)
        val d1 = tempdir().toPath()
        val straight = DownstreamTrainer.newClassifier(base.outputDir(d1.toString()).build(), TINY, 2, null, be).model()
        DownstreamTrainer(base.outputDir(d1.toString()).build(), straight, train, val_, 1.0).run()

        val d2 = tempdir().toPath()
        val c1 = base.outputDir(d2.toString()).epochs(2).build()
        val first = DownstreamTrainer.newClassifier(c1, TINY, 2, null, be).model()
        val stopAfter = 2 // of the 4 steps of an epoch (64 / 16): a stop mid-epoch
        var steps = 0
        val t1 = DownstreamTrainer(c1, first, train, val_, 1.0)
        t1.listener(object : DownstreamTrainer.Listener {
            override fun step(epoch: Int, step: Int, loss: Float, lr: Double) { steps++ }
        }).stopWhen { steps >= stopAfter }.run().stopped() shouldBe true
        val resumedModel = DownstreamTrainer.newClassifier(c1, TINY, 2, null, be).model()
        DownstreamTrainer(c1, resumedModel, train, val_, 1.0).resume(d2.resolve(DownstreamTrainer.LAST)).run()
        val a = straight.parameters().stateDict()
        val b = resumedModel.parameters().stateDict()
        a.keys shouldBe b.keys
        for (k in a.keys) (k to a[k]!!.data.toList()) shouldBe (k to b[k]!!.data.toList())
    }

    test("attentive probing on cached token features: the loss falls, the classes separate, eval matches the checkpoint") {
        val dir = tempdir().toPath()
        val config = DownstreamConfig.attnprobe().epochs(12).batchSize(16).warmupEpochs(1.0).lr(0.1)
            .outputDir(dir.toString()).build()
        val model = DownstreamTrainer.newClassifier(config, TINY, 2, null, be).model()
        val losses = ArrayList<Double>()
        val r = DownstreamTrainer(config, model, train, val_, 1.0).listener(object : DownstreamTrainer.Listener {
            override fun epochEnd(result: DownstreamTrainer.EpochResult) { losses += result.trainLoss() }
        }).run()
        losses.size shouldBe 12
        losses.takeLast(3).average() shouldBeLessThan 0.7 * losses.first()
        r.best().top1() shouldBeGreaterThan 0.8
        Files.readAllLines(dir.resolve("log.txt")).size shouldBe 12
        val c = DownstreamCheckpoint.read(dir.resolve("checkpoint-best.safetensors"))
        c.classifier().head() shouldBe org.maejvm.model.ClassifierConfig.Head.ATTENTIVE
        c.tensors().keys.filter { it.startsWith("optimizer.momentum_buffer.") }.size shouldBe model.headParameters().size
        val again = DownstreamTrainer(config.toBuilder().outputDir(null).build(), c.newModel(be), train, val_, 1.0)
        again.evaluate().top1() shouldBe r.best().top1()
    }

    for (cache in listOf(true, false)) {
        test("attentive probing (cache_features $cache): 2 epochs equal a run stopped mid-epoch and resumed, weight for weight") {
            val base = DownstreamConfig.attnprobe().epochs(2).batchSize(16).warmupEpochs(0.5).cacheFeatures(cache)
                .cropMinScale(0.5)
            val d1 = tempdir().toPath()
            val c0 = base.outputDir(d1.toString()).build()
            val straight = DownstreamTrainer.newClassifier(c0, TINY, 2, null, be).model()
            DownstreamTrainer(c0, straight, train, val_, 1.0).run()

            val d2 = tempdir().toPath()
            val c1 = base.outputDir(d2.toString()).build()
            var steps = 0
            val first = DownstreamTrainer.newClassifier(c1, TINY, 2, null, be).model()
            DownstreamTrainer(c1, first, train, val_, 1.0).listener(object : DownstreamTrainer.Listener {
                override fun step(epoch: Int, step: Int, loss: Float, lr: Double) { steps++ }
            }).stopWhen { steps >= 6 }.run().stopped() shouldBe true // epoch 2, step 2 of 4
            val resumed = DownstreamTrainer.newClassifier(c1, TINY, 2, null, be).model()
            DownstreamTrainer(c1, resumed, train, val_, 1.0).resume(d2.resolve(DownstreamTrainer.LAST)).run()
            val a = straight.parameters().stateDict()
            val b = resumed.parameters().stateDict()
            a.keys shouldBe b.keys
            a.getValue("fc_norm.num_batches_tracked").ints.toList() shouldBe listOf(8) // 2 epochs x 4 steps
            fun values(t: org.maejvm.tensor.HostTensor) = t.data?.toList() ?: t.ints!!.toList()
            for (k in a.keys) (k to values(a.getValue(k))) shouldBe (k to values(b.getValue(k)))
        }
    }

    test("the fine-tuning recipe follows the image size: light augmentation up to 32 px, the official one above") {
        val small = DownstreamConfig.finetuneFor(28).build()
        listOf(small.cropScale(), small.reprob(), small.layerDecay(), small.blr()) shouldBe listOf(0.35, 0.0, 0.85, 1e-2)
        small.aa() shouldBe null
        val official = DownstreamConfig.finetuneFor(224).build()
        listOf(official.cropScale(), official.reprob(), official.layerDecay(), official.blr()) shouldBe listOf(0.08, 0.25, 0.75, 1e-3)
        official.aa() shouldBe "rand-m9-mstd0.5-inc1"
        // A config written before crop_min_scale existed reads back with the official crop.
        val old = DownstreamConfig.fromJson(official.toJson().replace(",\"crop_min_scale\":null", ""))
        old.cropScale() shouldBe 0.08
        shouldThrow<IllegalArgumentException> { DownstreamConfig.finetune().cropMinScale(0.0).build() }.message shouldContain
            "crop_min_scale must be in (0, 1], got 0.0"
    }

    test("bad settings are refused with every problem named") {
        shouldThrow<IllegalArgumentException> {
            DownstreamConfig.finetune().epochs(0).batchSize(15).mixup(0.8).build()
        }.message shouldBe "bad downstream config: epochs must be >= 1, got 0; Mixup/CutMix need an even batch_size, got 15"
        shouldThrow<java.nio.file.NoSuchFileException> {
            DownstreamCheckpoint.read(tempdir().toPath().resolve("none.safetensors"))
        }
    }
})
