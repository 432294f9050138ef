package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.PrintWriter
import java.io.StringWriter
import java.nio.file.Files
import org.maejvm.data.FashionMnist
import org.maejvm.train.Checkpoint

private fun run(vararg args: String): Triple<Int, String, String> {
    val cli = MaeCli.commandLine()
    val out = StringWriter(); val err = StringWriter()
    cli.out = PrintWriter(out, true); cli.err = PrintWriter(err, true)
    return Triple(cli.execute(*args), out.toString(), err.toString())
}

private val haveFashionMnist = runCatching { FashionMnist.locate(false) }.isSuccess

class PretrainCommandTest : FunSpec({
    test("pretrain --help lists the official options and the small presets") {
        val (code, out, _) = run("pretrain", "--help")
        code shouldBe 0
        for (o in listOf("--data", "--model", "--config", "--epochs", "--batch-size", "--blr", "--mask-ratio",
            "--norm-pix-loss", "--accum-iter", "--output", "--resume", "--backend", "--threads", "--seed")) out shouldContain o
        out shouldContain "mae_vit_tiny_fmnist"
        run("demo", "--help").first shouldBe 0
    }

    test("bad values give one error line naming them") {
        val (code, _, err) = run("pretrain", "--epochs", "0", "--data", "fashion-mnist")
        code shouldBe 1
        err shouldContain "epochs must be >= 1, got 0"
        run("pretrain", "--data", "/nonexistent-folder").third shouldContain "not a folder"
    }

    test("pretrain on a Fashion-MNIST subset writes checkpoints and log, and resumes").config(enabled = haveFashionMnist) {
        val dir = tempdir().toPath()
        val (code, out, err) = run("pretrain", "--data", "fashion-mnist", "--limit", "64", "--batch-size", "32",
            "--epochs", "2", "--lr", "1e-3", "--output", dir.toString(), "--backend", "reference", "--no-progress",
            "--log-freq", "1")
        (code to err) shouldBe (0 to "")
        out shouldContain "epoch 2/2: loss"
        Files.exists(dir.resolve("checkpoint-1.safetensors")) shouldBe true
        Files.readAllLines(dir.resolve("log.txt")).size shouldBe 6
        Files.exists(dir.resolve("log.png")) shouldBe true
        val last = dir.resolve("checkpoint-last.safetensors")
        val (code2, out2, _) = run("pretrain", "--resume", last.toString(), "--epochs", "3", "--data", "fashion-mnist",
            "--limit", "64", "--backend", "reference", "--no-progress")
        code2 shouldBe 0
        out2 shouldContain "resumed from"
        Checkpoint.read(last).position().epoch() shouldBe 3
    }
})
