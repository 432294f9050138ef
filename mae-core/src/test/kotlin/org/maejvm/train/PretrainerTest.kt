package org.maejvm.train

import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.exists
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import kotlin.math.abs
import kotlin.math.sqrt
import org.maejvm.data.Batch
import org.maejvm.io.MalformedWeightsException
import org.maejvm.io.Safetensors
import org.maejvm.tensor.HostTensor

/** Model weights and optimizer moments of a trainer, as host arrays by name. */
private fun Pretrainer.snapshot(): Map<String, FloatArray> {
    val be = model().backend()
    val out = LinkedHashMap<String, FloatArray>()
    model().parameters().all().forEach { out[it.name()] = be.toHost(it.value()) }
    optimizer().slots().forEach {
        out["m." + it.param().name()] = be.toHost(it.expAvg())
        out["v." + it.param().name()] = be.toHost(it.expAvgSq())
    }
    return out
}

/** Bit-for-bit equality (Arrays.equals on floats compares bit patterns), naming the first differing tensor. */
private fun shouldBeBitIdentical(a: Map<String, FloatArray>, b: Map<String, FloatArray>) {
    a.keys shouldBe b.keys
    for ((k, v) in a) withClue(k) { java.util.Arrays.equals(v, b.getValue(k)) shouldBe true }
}

class PretrainerTest : FunSpec({

    test("training lowers the loss on the tiny model") {
        val steps = ArrayList<TrainingEvent.Step>()
        val c = TinyRuns.config(null, epochs = 8).toBuilder().lr(5e-3).build()
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).listener { if (it is TrainingEvent.Step) steps += it }.run()
        steps.size shouldBe 32
        val first = steps.take(4).map { it.loss.toDouble() }.average()
        val last = steps.takeLast(4).map { it.loss.toDouble() }.average()
        withClue("first $first last $last") { last shouldBeLessThan first * 0.8 }
    }

    test("lr follows the schedule, set at the start of each accumulation cycle") {
        val steps = ArrayList<TrainingEvent.Step>()
        val c = TinyRuns.config(null, epochs = 2, accum = 2)
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).listener { if (it is TrainingEvent.Step) steps += it }.run()
        val s = LrSchedule.of(c)
        // 4 steps per epoch, accum 2: lr is adjusted at steps 0 and 2 of each epoch
        steps.map { it.lr } shouldContainExactly listOf(s.at(0.0), s.at(0.0), s.at(0.5), s.at(0.5),
            s.at(1.0), s.at(1.0), s.at(1.5), s.at(1.5))
        steps.map { it.optimizerStepped } shouldContainExactly listOf(false, true, false, true, false, true, false, true)
        c.effectiveLr() shouldBe (1e-2 * 8 / 256)
    }

    test("accum_iter 2 with batch b equals one step with batch 2b (same samples, same masks)") {
        val n = 16
        val imgs = TinyRuns.images(n)
        val small = EpochSource.fixed(TinyRuns.fixedBatches(imgs, n, 4))
        val large = EpochSource.fixed(TinyRuns.fixedBatches(imgs, n, 8))
        // same effective batch (8) so the same lr; per-image noise so masks do not depend on the step
        val a = Pretrainer(TinyRuns.config(null, epochs = 3, batch = 4, accum = 2), small, TinyRuns.backend())
            .maskingNoise(MaskingNoise.PER_IMAGE)
        val b = Pretrainer(TinyRuns.config(null, epochs = 3, batch = 8, accum = 1), large, TinyRuns.backend())
            .maskingNoise(MaskingNoise.PER_IMAGE)
        a.run(); b.run()
        a.optimizer().stepCount() shouldBe 6
        b.optimizer().stepCount() shouldBe 6
        val wa = a.snapshot(); val wb = b.snapshot()
        var worst = 0.0
        var where = ""
        for ((k, v) in wa) {
            val u = wb.getValue(k)
            // The key bias (second third of qkv.bias) has a zero true gradient (it shifts a softmax row by a
            // constant), so its gradient is rounding noise that Adam blows up to lr-sized steps: not comparable.
            val skip = if (k.endsWith("attn.qkv.bias")) (v.size / 3 until 2 * v.size / 3) else IntRange.EMPTY
            for (i in v.indices) {
                if (i in skip) continue
                val d = abs(v[i] - u[i]).toDouble() / (1e-3 + abs(u[i]))
                if (d > worst) { worst = d; where = "$k[$i]: ${v[i]} vs ${u[i]}" }
            }
        }
        withClue("largest relative difference $worst at $where") { worst shouldBeLessThan 1e-3 }
        // and the runs did move the weights: the comparison is not between two untouched models
        val init = Pretrainer(TinyRuns.config(null), small, TinyRuns.backend()).snapshot()
        (init.getValue("blocks.0.attn.qkv.weight") contentEquals wa.getValue("blocks.0.attn.qkv.weight")) shouldBe false
    }

    for ((accum, stopAfter) in listOf(1 to 5, 2 to 5, 2 to 4)) {
        test("resume after a stop at step $stopAfter (accum_iter $accum) ends bit-identical to the uninterrupted run") {
            val dir = tempdir().toPath()
            val c = TinyRuns.config(dir, epochs = 3, accum = accum)
            val full = Pretrainer(c.toBuilder().outputDir(null as String?).build(), TinyRuns.source(), TinyRuns.backend())
            full.run()

            var done = 0
            val first = Pretrainer(c, TinyRuns.source(), TinyRuns.backend())
                .listener { if (it is TrainingEvent.Step) done++ }.stopWhen { done >= stopAfter }
            val stopped = first.run()
            stopped.stopped shouldBe true
            // the stop waits for the end of the accumulation cycle: mid-epoch (4 steps per epoch)
            val expectedSteps = (stopAfter + accum - 1) / accum * accum
            stopped.globalStep shouldBe expectedSteps.toLong()
            val last = dir.resolve(Pretrainer.LAST)
            Checkpoint.read(last).position() shouldBe Checkpoint.Position(expectedSteps / 4, expectedSteps % 4, expectedSteps.toLong())
            if (expectedSteps % 4 == 0) dir.resolve("checkpoint-${expectedSteps / 4 - 1}.safetensors").exists() shouldBe true

            val resumed = Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).resume(last)
            val end = resumed.run()
            end.stopped shouldBe false
            end.globalStep shouldBe 12
            resumed.optimizer().stepCount() shouldBe full.optimizer().stepCount()
            shouldBeBitIdentical(resumed.snapshot(), full.snapshot())
        }
    }

    test("resume from an epoch checkpoint is exact too, and the log reads as one run") {
        val dir = tempdir().toPath()
        val c = TinyRuns.config(dir, epochs = 3).toBuilder().keepLast(5).build()
        val full = Pretrainer(c.toBuilder().outputDir(null as String?).build(), TinyRuns.source(), TinyRuns.backend())
        full.run()
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).run()
        val resumed = Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).resume(dir.resolve("checkpoint-0.safetensors"))
        resumed.run()
        shouldBeBitIdentical(resumed.snapshot(), full.snapshot())
        // the log lines of epochs 1-2 written by the first run were dropped before the resumed run wrote its own
        val globals = TrainingLog.readSteps(dir.resolve(TrainingLog.FILE_NAME)).map { it.globalStep() }
        globals shouldContainExactly (1L..12L).toList()
    }

    test("checkpoints: official weight names, optimizer state, metadata; keep_last prunes") {
        val dir = tempdir().toPath()
        val c = TinyRuns.config(dir, epochs = 4).toBuilder().keepLast(2).build()
        val t = Pretrainer(c, TinyRuns.source(), TinyRuns.backend())
        val saved = ArrayList<Path>()
        t.listener { if (it is TrainingEvent.CheckpointSaved) saved.add(it.path()) }.run()
        saved.map { it.name } shouldContainExactly (0..3).map { "checkpoint-$it.safetensors" }
        dir.listDirectoryEntries("checkpoint-*").map { it.name }.sorted() shouldContainExactly
            listOf("checkpoint-2.safetensors", "checkpoint-3.safetensors", "checkpoint-last.safetensors")
        val tensors = Safetensors.read(dir.resolve("checkpoint-3.safetensors"))
        for (k in listOf("cls_token", "pos_embed", "mask_token", "decoder_pos_embed", "patch_embed.proj.weight",
            "blocks.0.attn.qkv.weight", "norm.weight", "decoder_embed.weight", "decoder_blocks.0.mlp.fc2.bias",
            "decoder_pred.weight", "optimizer.exp_avg.blocks.0.attn.qkv.weight",
            "optimizer.exp_avg_sq.decoder_pred.bias")) {
            withClue(k) { tensors.containsKey(k) shouldBe true }
        }
        val meta = Safetensors.readMetadata(dir.resolve("checkpoint-3.safetensors"))
        meta["epoch"] shouldBe "4"; meta["step"] shouldBe "0"; meta["global_step"] shouldBe "16"
        meta["optimizer_step"] shouldBe "16"; meta["seed"] shouldBe "11"
        PretrainConfig.fromJson(meta.getValue("config")) shouldBe c
        // the weights in the file are the trained ones
        val w = t.model().backend().toHost(t.model().parameters().get("decoder_pred.weight").value())
        (tensors.getValue("decoder_pred.weight").data contentEquals w) shouldBe true
        // checkpoint-last is a copy of the newest
        (Files.readAllBytes(dir.resolve(Pretrainer.LAST)) contentEquals Files.readAllBytes(dir.resolve("checkpoint-3.safetensors"))) shouldBe true
    }

    test("log.txt lines are JSON objects with the step and epoch fields; the plot is written") {
        val dir = tempdir().toPath()
        Pretrainer(TinyRuns.config(dir, epochs = 2).toBuilder().logFreq(2).build(), TinyRuns.source(), TinyRuns.backend()).run()
        val lines = Files.readAllLines(dir.resolve("log.txt"))
        val json = ObjectMapper()
        val nodes = lines.map { json.readTree(it) }
        nodes.count { it["kind"].asText() == "step" } shouldBe 4
        nodes.count { it["kind"].asText() == "epoch" } shouldBe 2
        for (n in nodes.filter { it["kind"].asText() == "step" }) {
            for (f in listOf("epoch", "step", "global_step", "loss", "lr", "images_per_sec")) withClue(f) { n.has(f) shouldBe true }
            n["loss"].asDouble().isFinite() shouldBe true
        }
        val epoch1 = nodes.last()
        epoch1["epoch"].asInt() shouldBe 1
        epoch1["train_loss"].asDouble().isFinite() shouldBe true
        val sched = LrSchedule.of(TinyRuns.config(dir, epochs = 2))
        epoch1["train_lr"].asDouble() shouldBe (listOf(1.0, 1.25, 1.5, 1.75).map { sched.at(it) }.average() plusOrMinus 1e-15)
        val png = Files.readAllBytes(dir.resolve(TrainingPlot.FILE_NAME))
        png.copyOfRange(1, 4).decodeToString() shouldBe "PNG"
    }

    test("a NaN loss stops the run naming epoch and step; the previous checkpoint stays loadable") {
        val dir = tempdir().toPath()
        val good = TinyRuns.fixedBatches(TinyRuns.images(16), 16, 4)
        val bad = good.mapIndexed { i, b -> if (i == 2) Batch(FloatArray(b.images().size) { Float.NaN }, 4, 1, 8, 8, b.labels(), b.indices()) else b }
        val data = object : EpochSource {
            override fun stepsPerEpoch() = 4
            override fun epoch(epoch: Int) = EpochSource.EpochIterator.of((if (epoch == 1) bad else good).iterator())
        }
        val c = TinyRuns.config(dir, epochs = 3)
        val e = shouldThrow<TrainingDivergedException> { Pretrainer(c, data, TinyRuns.backend()).run() }
        e.message shouldBe "Loss is NaN at epoch 1 step 2, stopping training"
        e.epoch() shouldBe 1; e.step() shouldBe 2
        dir.listDirectoryEntries("checkpoint-*").map { it.name }.sorted() shouldContainExactly
            listOf("checkpoint-0.safetensors", "checkpoint-last.safetensors")
        val ck = Checkpoint.read(dir.resolve(Pretrainer.LAST))
        ck.position() shouldBe Checkpoint.Position(1, 0, 4)
        val t = Pretrainer(c, EpochSource.fixed(good), TinyRuns.backend()).resume(dir.resolve(Pretrainer.LAST))
        t.model().parameters().trainable().all { p -> t.model().backend().toHost(p.value()).all { it.isFinite() } } shouldBe true
    }

    test("malformed checkpoints are rejected naming the problem") {
        val dir = tempdir().toPath()
        val c = TinyRuns.config(dir, epochs = 1)
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).run()
        val good = dir.resolve("checkpoint-0.safetensors")
        val tensors = Safetensors.read(good)
        val meta = Safetensors.readMetadata(good)
        fun variant(name: String, t: Map<String, HostTensor>, m: Map<String, String>): Path =
            dir.resolve(name).also { Safetensors.write(it, t, m) }
        fun resumeError(p: Path) = shouldThrow<MalformedWeightsException> {
            Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).resume(p)
        }.message!!

        resumeError(variant("missing.safetensors", tensors - "blocks.0.attn.proj.weight", meta)) shouldContain
            "missing tensor 'blocks.0.attn.proj.weight'"
        resumeError(variant("noopt.safetensors", tensors - "optimizer.exp_avg_sq.norm.bias", meta)) shouldContain
            "missing tensor 'optimizer.exp_avg_sq.norm.bias'"
        resumeError(variant("shape.safetensors", tensors + ("norm.weight" to HostTensor.zeros(9)), meta)) shouldContain
            "tensor 'norm.weight' is F32[9], expected F32[8]"
        resumeError(variant("json.safetensors", tensors, meta + ("config" to "{\"epochs\": 3,"))) shouldContain
            "metadata 'config' is bad"
        resumeError(variant("step.safetensors", tensors, meta + ("global_step" to "many"))) shouldContain
            "metadata 'global_step' must be an integer, got 'many'"
        resumeError(variant("plain.safetensors", tensors, mapOf())) shouldContain "not a pretraining checkpoint"
        val truncated = dir.resolve("truncated.safetensors")
        Files.write(truncated, Files.readAllBytes(good).copyOf(100))
        resumeError(truncated) shouldNotBe ""
        // a different model shape is refused before anything is loaded
        val other = c.toBuilder().model(TinyRuns.model.withNormPixLoss(false).let {
            org.maejvm.model.MaeConfig(8, 2, 1, 12, 1, 2, 8, 1, 2, 2.0, false) }).build()
        shouldThrow<IllegalArgumentException> { Pretrainer(other, TinyRuns.source(), TinyRuns.backend()).resume(good) }
            .message shouldContain "holds a model"
    }

    test("clip_grad scales the gradients to the given total L2 norm") {
        val t = Pretrainer(TinyRuns.config(null), TinyRuns.source(), TinyRuns.backend())
        val be = t.model().backend()
        val b = TinyRuns.fixedBatches(TinyRuns.images(4), 4, 4)[0]
        t.model().forward(be.fromHost(b.images(), 4, 1, 8, 8), FloatArray(4 * 16) { (it * 0.37f) % 1f }, 0.75)
        t.model().backward()
        fun norm() = sqrt(t.model().parameters().trainable().sumOf { p -> be.toHost(p.grad()).sumOf { it.toDouble() * it } })
        val before = norm()
        t.clipGradNorm(before * 10) shouldBe (before plusOrMinusRel 1e-5)
        norm() shouldBe (before plusOrMinusRel 1e-6) // under the limit: untouched
        t.clipGradNorm(before / 4)
        norm() shouldBe (before / 4 plusOrMinusRel 1e-4)
    }
})

private infix fun Double.plusOrMinusRel(rel: Double) = this plusOrMinus abs(this) * rel
