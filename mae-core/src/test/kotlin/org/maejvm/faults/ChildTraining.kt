package org.maejvm.faults

import java.nio.file.Files
import java.nio.file.Path
import kotlin.system.exitProcess
import org.maejvm.train.PretrainConfig
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns
import org.maejvm.train.TrainingEvent

/**
 * A pretraining run in a JVM of its own, for the fault tests (they kill it or starve it of disk). Arguments: the
 * output folder and the number of epochs. It resumes from checkpoint-last when the folder has one, saves a
 * checkpoint after every step, prints `saved <global step>` once a save is complete, `finished` at the end, and
 * `error: <message>` with exit code 3 when the run fails.
 */
object ChildTraining {
    fun config(out: Path, epochs: Int): PretrainConfig =
        TinyRuns.config(out, epochs).toBuilder().saveEverySteps(1).keepLast(3).build()

    @JvmStatic
    fun main(args: Array<String>) {
        val out = Path.of(args[0])
        val trainer = Pretrainer(config(out, args[1].toInt()), TinyRuns.source(), TinyRuns.backend())
        trainer.listener { e ->
            if (e is TrainingEvent.CheckpointSaved) {
                println("saved ${e.globalStep()}")
                System.out.flush()
            }
        }
        try {
            val last = out.resolve(Pretrainer.LAST)
            if (Files.exists(last)) trainer.resume(last)
            trainer.run()
            println("finished")
        } catch (e: Exception) {
            println("error: ${e.message}")
            System.out.flush()
            exitProcess(3)
        }
    }

    /** The java command line that runs [main] with this test class path. */
    fun command(out: Path, epochs: Int): List<String> {
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        // Small and quick to start: no perf-data file, C1 only (the run is short), a small heap.
        return listOf(java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-cp", cp,
            ChildTraining::class.java.name, out.toString(), epochs.toString())
    }
}
