package org.maejvm.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import org.maejvm.io.MalformedFileException

/** log.txt in an output folder may be anything: a resumed run must refuse or skip what it did not write. */
class TrainingLogTest : FunSpec({

    test("a log that is not UTF-8 text is refused with the file named, and left as it was") {
        val dir = tempdir().toPath()
        val log = dir.resolve(TrainingLog.FILE_NAME)
        val bytes = byteArrayOf(0xff.toByte(), 0xfe.toByte(), 0x00, 0x41)
        Files.write(log, bytes)
        val e = shouldThrow<MalformedFileException> { TrainingLog.open(dir, 10) }
        e.message shouldContain "log.txt"
        e.message shouldContain "not UTF-8"
        Files.readAllBytes(log).toList() shouldBe bytes.toList()
        shouldThrow<MalformedFileException> { TrainingLog.readSteps(log) }
    }

    test("lines that are not our JSON are skipped when reading and dropped when a resume truncates") {
        val dir = tempdir().toPath()
        val log = dir.resolve(TrainingLog.FILE_NAME)
        Files.writeString(log, """
            {"kind": "step", "global_step": 1, "loss": 0.5, "lr": 0.001}
            not json at all
            [1, 2, 3]
            {"kind": "step", "global_step": 7, "loss": 0.25, "lr": 0.002}
        """.trimIndent() + "\n")
        TrainingLog.readSteps(log).map { it.globalStep() } shouldBe listOf(1L, 7L)
        TrainingLog.open(dir, 5).close()
        TrainingLog.readSteps(log).map { it.globalStep() } shouldBe listOf(1L)
        Files.readAllLines(log).size shouldBe 1
    }
})
