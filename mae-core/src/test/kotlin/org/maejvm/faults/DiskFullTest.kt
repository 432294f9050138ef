package org.maejvm.faults

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.nio.file.Path
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import org.maejvm.train.Checkpoint
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns

/**
 * Disk full while saving. A real full disk needs privileges to make; instead the child runs under `ulimit -f`
 * (RLIMIT_FSIZE, unprivileged), so a write past the limit fails with EFBIG ("File too large") exactly where a
 * full disk fails with ENOSPC: inside the checkpoint write. The JVM ignores SIGXFSZ, so the process lives on and
 * must report the failure, stop, and leave the last good checkpoint as it was.
 */
class DiskFullTest : FunSpec({
    val bash = Path.of("/bin/bash")
    val unix = Files.isExecutable(bash) && System.getProperty("os.name").lowercase().contains("linux")

    test("a checkpoint that cannot be written stops training with the file named; the last good one is intact")
        .config(enabled = unix) {
            val dir = tempdir().toPath()
            Pretrainer(ChildTraining.config(dir, 1), TinyRuns.source(), TinyRuns.backend()).run()
            val last = dir.resolve(Pretrainer.LAST)
            val before = Files.readAllBytes(last)
            val filesBefore = dir.listDirectoryEntries().map { it.name }.sorted()
            val limitKb = 12
            before.size shouldBeGreaterThan limitKb * 1024 // a checkpoint does not fit, the log does

            val command = listOf(bash.toString(), "-c", "ulimit -f $limitKb && exec \"$@\"", "bash") +
                ChildTraining.command(dir, 3)
            val child = Child(command)
            val out = child.rest()
            val error = out.single { it.startsWith("error: ") }
            child.process.exitValue() shouldBe 3
            error shouldContain "cannot save checkpoint ${dir.resolve("checkpoint-step-5.safetensors")}"
            error shouldContain "File too large"
            error shouldContain "training stopped; the last good checkpoint is $last"

            Files.readAllBytes(last).contentEquals(before) shouldBe true
            Checkpoint.read(last).position() shouldBe Checkpoint.Position(1, 0, 4)
            dir.listDirectoryEntries().map { it.name }.sorted() shouldBe filesBefore // no half file, no temporary
        }
})
