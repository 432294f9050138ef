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

class PretrainCaeCommandTest : FunSpec({
    test("--method, --mask-strategy and the CAE options are listed; bad values are named") {
        val (code, out, _) = run("pretrain", "--help")
        code shouldBe 0
        for (o in listOf("--method", "--mask-strategy", "--align-loss-weight", "--base-momentum", "--drop-path",
            "--cae-decoder-embed-dim")) out shouldContain o
        run("pretrain", "--mask-strategy", "blocks", "--data", "fashion-mnist").third shouldContain "known: random, block, grid, focus"
        run("pretrain", "--mask-strategy", "grid", "--mask-ratio", "0.5", "--data", "fashion-mnist").third shouldContain "0.75"
        run("pretrain", "--method", "byol", "--data", "fashion-mnist").third shouldContain "method must be 'mae' or 'cae'"
        run("pretrain", "--align-loss-weight", "1", "--data", "fashion-mnist").third shouldContain "need --method cae"
        run("pretrain", "--drop-path", "0.2", "--data", "fashion-mnist").third shouldContain "need --method cae"
        run("pretrain", "--method", "cae", "--drop-path", "1.5", "--data", "fashion-mnist").third shouldContain "drop_path must be in [0, 1)"
        run("pretrain", "--method", "cae", "--cae-decoder-embed-dim", "30", "--data", "fashion-mnist").third shouldContain
            "multiple of 4"
    }

    test("pretrain --method cae trains with block masking at ratio 0.5 and saves encoder, teacher and neck").config(enabled = haveFashionMnist) {
        val dir = tempdir().toPath()
        val (code, out, err) = run("pretrain", "--method", "cae", "--data", "fashion-mnist", "--limit", "32",
            "--batch-size", "16", "--epochs", "1", "--lr", "1e-3", "--output", dir.toString(), "--backend", "reference",
            "--no-progress", "--drop-path", "0.2", "--cae-decoder-embed-dim", "64")
        (code to err) shouldBe (0 to "")
        out shouldContain "CAE mae_vit_tiny_fmnist (block masking, ratio 0.5)"
        out shouldContain "epoch 1/1: loss"
        val ck = Checkpoint.read(dir.resolve("checkpoint-last.safetensors"))
        ck.config().isCae() shouldBe true
        ck.config().caeConfig().dropPath() shouldBe 0.2
        ck.config().caeConfig().decoderEmbedDim() shouldBe 64
        ck.tensors().getValue("encoder_to_decoder.weight").shape().toList() shouldBe listOf(64, 96)
        for (k in listOf("teacher.cls_token", "encoder.blocks.0.gamma_1", "pretext_neck.regressor_blocks.0.cross_attn.q_bias")) {
            ck.tensors().containsKey(k) shouldBe true
        }
    }
})
