package org.maejvm.api

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.types.shouldBeInstanceOf
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.io.path.exists
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import org.maejvm.data.Batch
import org.maejvm.train.Checkpoint
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns
import org.maejvm.train.TrainingDivergedException
import org.maejvm.train.TrainingEvent

class MaeApiTest : FunSpec({

    test("the flow is cold and reports Started, Steps, EpochEnds, CheckpointSaved, Finished in order") {
        val dir = tempdir().toPath()
        val flow = Mae.pretrain(TinyRuns.config(dir, epochs = 2), TinyRuns.source(), TinyRuns.backend())
        dir.resolve("log.txt").exists() shouldBe false // nothing ran before collection
        val events = flow.toList()
        events.first().shouldBeInstanceOf<TrainingEvent.Started>()
        val kinds = events.map { it.javaClass.simpleName }
        kinds shouldContainExactly listOf("Started", "Step", "Step", "Step", "Step", "EpochEnd", "CheckpointSaved",
            "Step", "Step", "Step", "Step", "EpochEnd", "CheckpointSaved", "Finished")
        val end = events.last() as TrainingEvent.Finished
        end.stopped shouldBe false
        end.globalStep shouldBe 8
    }

    test("cancelling the collector stops training after saving a checkpoint") {
        val dir = tempdir().toPath()
        val c = TinyRuns.config(dir, epochs = 50).toBuilder().saveFreq(0).build()
        val steps = Mae.pretrain(c, TinyRuns.source(), TinyRuns.backend())
            .filterIsInstance<TrainingEvent.Step>().take(3).toList()
        steps.size shouldBe 3
        // toList returned: the training thread has finished, and it left a resumable checkpoint behind
        val last = dir.resolve(Pretrainer.LAST)
        last.exists() shouldBe true
        val ck = Checkpoint.read(last)
        ck.position().globalStep() shouldBeGreaterThanOrEqual 3L
        ck.position().epoch() shouldBeGreaterThanOrEqual 0
        (ck.position().globalStep() < 50 * 4) shouldBe true
        // and it resumes
        val resumed = Mae.pretrain(c.toBuilder().epochs(ck.position().epoch() + 1).build(), TinyRuns.source(),
            TinyRuns.backend(), resume = last).toList()
        (resumed.first() as TrainingEvent.Started).globalStep shouldBe ck.position().globalStep()
        (resumed.last() as TrainingEvent.Finished).stopped shouldBe false
    }

    test("a diverging run throws to the collector") {
        val c = TinyRuns.config(null, epochs = 1, batch = 2).toBuilder().minLr(0.0).build()
        val nan = Batch(FloatArray(2 * 64) { Float.NaN }, 2, 1, 8, 8, IntArray(2), intArrayOf(0, 1))
        val data = Mae.epochSource(1) { flow { emit(nan) } }
        shouldThrow<TrainingDivergedException> { Mae.pretrain(c, data, TinyRuns.backend()).toList() }
            .message shouldBe "Loss is NaN at epoch 0 step 0, stopping training"
    }

    test("flows as data: epochSource reads each epoch's flow") {
        val batches = TinyRuns.fixedBatches(TinyRuns.images(8), 8, 4)
        val data = Mae.epochSource(2) { flow { batches.forEach { emit(it) } } }
        val steps = Mae.pretrain(TinyRuns.config(null, epochs = 2), data, TinyRuns.backend())
            .filterIsInstance<TrainingEvent.Step>().toList()
        steps.map { it.epoch to it.step } shouldContainExactly listOf(0 to 0, 0 to 1, 1 to 0, 1 to 1)
    }

    test("Java facade: start, requestStop saves a checkpoint, await returns the summary") {
        val dir = tempdir().toPath()
        val seen = CopyOnWriteArrayList<TrainingEvent>()
        val run = Pretraining.start(TinyRuns.config(dir, epochs = 50).toBuilder().saveFreq(0).build(),
            TinyRuns.source(), TinyRuns.backend(), null) { seen.add(it) }
        while (seen.count { it is TrainingEvent.Step } < 2) Thread.sleep(5)
        val end = run.stopAndAwait()
        end.stopped shouldBe true
        // Where the stop lands is timing: mid-epoch it writes checkpoint-step-N, at an epoch end the epoch's own
        // checkpoint-E is the one. Either way the last checkpoint written holds the final step.
        Checkpoint.read(end.lastCheckpoint).position().globalStep() shouldBe end.globalStep
        Checkpoint.read(dir.resolve(Pretrainer.LAST)).position().globalStep() shouldBe end.globalStep
        seen.last() shouldBe end
        seen.filterIsInstance<TrainingEvent.CheckpointSaved>().last().path() shouldBe end.lastCheckpoint
    }
})
