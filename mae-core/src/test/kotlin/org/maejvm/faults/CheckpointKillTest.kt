package org.maejvm.faults

import io.kotest.assertions.fail
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.longs.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import kotlin.random.Random
import org.maejvm.io.Safetensors
import org.maejvm.tensor.HostTensor
import org.maejvm.train.Checkpoint
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns

/** Tensors by name, compared by bit pattern. */
internal fun sameTensors(a: Map<String, HostTensor>, b: Map<String, HostTensor>): Boolean =
    a.keys == b.keys && a.all { (k, t) ->
        val u = b.getValue(k)
        t.shape().contentEquals(u.shape()) && java.util.Arrays.equals(t.data, u.data) && java.util.Arrays.equals(t.ints, u.ints)
    }

/** A child process whose stdout lines are collected on a thread, so the test can wait for one with a deadline. */
internal class Child(command: List<String>) {
    val process: Process = ProcessBuilder(command).redirectErrorStream(true).start()
    val lines = LinkedBlockingQueue<String>()
    val all = ArrayList<String>()

    init {
        Thread {
            try {
                process.inputStream.bufferedReader().forEachLine { lines.add(it) }
            } catch (e: java.io.IOException) {
                // a killed child's pipe can be closed under a pending read when the JDK reaps the process
                // ("Stream closed"): that is the end of its output too, and must not leave the test waiting
            } finally {
                lines.add(EOF)
            }
        }.apply { isDaemon = true }.start()
    }

    /** The next line, or null at the end of output; fails after [seconds]. */
    fun next(seconds: Long = 120): String? {
        val l = lines.poll(seconds, TimeUnit.SECONDS) ?: fail("child printed nothing for $seconds s; so far: $all")
        if (l == EOF) return null
        all += l
        return l
    }

    /** Everything still to come, once the process has ended. */
    fun rest(): List<String> {
        process.waitFor(120, TimeUnit.SECONDS) shouldBe true
        while (next() != null) Unit
        return all
    }

    companion object {
        const val EOF = "\u0000eof"
    }
}

/**
 * SIGKILL while checkpoints are being written, round after round: whatever the moment, every checkpoint file left
 * loads and holds exactly the state the uninterrupted run had at its step (runs are deterministic, so that state
 * is known), checkpoint-last is never older than the last save the child reported as done, and the next run
 * resumes from it and finishes with the uninterrupted run's final weights.
 */
class CheckpointKillTest : FunSpec({
    val epochs = 25 // 100 steps, each followed by a step checkpoint and checkpoint-last, plus epoch checkpoints

    test("checkpoints survive SIGKILL at random moments, across several kill-and-resume rounds") {
        val refDir = tempdir().toPath()
        Pretrainer(ChildTraining.config(refDir, epochs).toBuilder().keepLast(10_000).build(), TinyRuns.source(),
            TinyRuns.backend()).run()
        val reference = refDir.listDirectoryEntries("checkpoint-*.safetensors").filter { it.name != Pretrainer.LAST }
            .associate { Safetensors.readMetadata(it).getValue("global_step").toLong() to Safetensors.read(it) }
        val finalStep = reference.keys.max()

        val dir = tempdir().toPath()
        val rng = Random(20261123)
        var kills = 0
        var leftovers = 0
        var acknowledged = -1L
        var finished = false
        while (!finished) {
            val child = Child(ChildTraining.command(dir, epochs))
            if (kills < 6) {
                // wait until it is saving, then kill it a random moment later: mostly in the middle of a write
                var line = child.next()
                while (line != null && !line.startsWith("saved ") && line != "finished") line = child.next()
                Thread.sleep(rng.nextLong(0, 120))
                child.process.destroyForcibly() // SIGKILL
                kills++
            }
            val out = child.rest()
            out.filter { it.startsWith("error") } shouldBe emptyList()
            finished = "finished" in out
            out.filter { it.startsWith("saved ") }.maxOfOrNull { it.removePrefix("saved ").toLong() }
                ?.let { acknowledged = maxOf(acknowledged, it) }
            leftovers += dir.listDirectoryEntries(".*.tmp").size

            // every checkpoint on disk is whole and is the reference state of its step
            val files = dir.listDirectoryEntries("checkpoint-*.safetensors")
            files.map { it.name } shouldNotBe emptyList<String>()
            for (f in files) withClue("${f.name} after kill $kills") {
                val c = Checkpoint.read(f)
                val g = c.position().globalStep()
                sameTensors(c.tensors(), reference.getValue(g)) shouldBe true
            }
            val last = Checkpoint.read(dir.resolve(Pretrainer.LAST)).position().globalStep()
            withClue("checkpoint-last must not be older than the last save the child reported") {
                last shouldBeGreaterThanOrEqual acknowledged
            }
        }
        println("checkpoint kill test: $kills kills, $leftovers temporary files found after kills (removed on resume)")
        dir.listDirectoryEntries(".*.tmp") shouldBe emptyList()
        val end = Checkpoint.read(dir.resolve(Pretrainer.LAST))
        end.position().globalStep() shouldBe finalStep
        sameTensors(end.tensors(), reference.getValue(finalStep)) shouldBe true
    }
})
