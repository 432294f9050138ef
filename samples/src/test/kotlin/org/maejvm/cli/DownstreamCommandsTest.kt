package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.PrintWriter
import java.io.StringWriter
import java.nio.file.Files
import org.maejvm.data.FashionMnist
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.AdamW
import org.maejvm.train.Checkpoint
import org.maejvm.train.PretrainConfig

private fun mae(vararg args: String): Triple<Int, String, String> {
    val cli = MaeCli.commandLine()
    val out = StringWriter(); val err = StringWriter()
    cli.out = PrintWriter(out, true); cli.err = PrintWriter(err, true)
    return Triple(cli.execute(*args), out.toString(), err.toString())
}

private val haveFashionMnist = runCatching { FashionMnist.locate(false) }.isSuccess

class DownstreamCommandsTest : FunSpec({
    test("finetune, linprobe and eval --help list their options") {
        val (c1, ft, _) = mae("finetune", "--help")
        c1 shouldBe 0
        for (o in listOf("--checkpoint", "--data", "--layer-decay", "--drop-path", "--smoothing", "--mixup", "--cutmix",
            "--aa", "--reprob", "--resume", "--output-dir", "--epochs", "--blr")) ft shouldContain o
        mae("linprobe", "--help").second shouldContain "--no-cache-features"
        mae("attnprobe", "--help").second shouldContain "--no-cache-features"
        ft shouldContain "--crop-scale"
        ft shouldContain "--recipe"
        mae("finetune", "--recipe", "huge").third shouldContain "--recipe must be auto, official or small, got 'huge'"
        mae("eval", "--help").second shouldContain "confusion.csv"
    }

    test("eval refuses a pretraining checkpoint and says what to do").config(enabled = haveFashionMnist) {
        val dir = tempdir().toPath()
        val be = ReferenceBackend()
        val config = PretrainConfig.builder().model("mae_vit_tiny_fmnist").epochs(1).build()
        val model = MaeModel(config.modelConfig(), be, 4)
        val ckpt = dir.resolve("checkpoint-last.safetensors")
        Checkpoint.save(ckpt, config, Checkpoint.Position(1, 0, 1), model, AdamW.forMae(model.parameters(), 0.05f))
        mae("eval", "--checkpoint", ckpt.toString()).third shouldContain "it is a pretraining checkpoint"

        // A linear probe of that encoder on 64 images, then eval of its best checkpoint on 32 test images.
        val out = dir.resolve("lp")
        val (code, text, err) = mae("linprobe", "--checkpoint", ckpt.toString(), "--limit", "64", "--val-limit", "32",
            "--batch-size", "32", "--epochs", "2", "--output-dir", out.toString(), "--backend", "reference", "--no-progress")
        (code to err) shouldBe (0 to "")
        text shouldContain "epoch 2: train loss"
        Files.readAllLines(out.resolve("log.txt")).size shouldBe 2
        val evalDir = dir.resolve("ev")
        val (c2, t2, e2) = mae("eval", "--checkpoint", out.resolve("checkpoint-best.safetensors").toString(), "--limit", "32",
            "--output-dir", evalDir.toString(), "--backend", "reference", "--no-progress")
        (c2 to e2) shouldBe (0 to "")
        t2 shouldContain "* Acc@1"
        Files.readAllLines(evalDir.resolve("confusion.csv"))[0] shouldContain "true\\predicted,T-shirt/top,Trouser"

        // The attentive probe of the same encoder, stopped after its first epoch and resumed; eval rebuilds the probe.
        val ap = dir.resolve("ap")
        val (c3, t3, e3) = mae("attnprobe", "--checkpoint", ckpt.toString(), "--limit", "64", "--val-limit", "32",
            "--batch-size", "32", "--epochs", "1", "--output-dir", ap.toString(), "--backend", "reference", "--no-progress")
        (c3 to e3) shouldBe (0 to "")
        t3 shouldContain "attentive probing on 64 images"
        val (c4, t4, e4) = mae("attnprobe", "--resume", ap.resolve("checkpoint-last.safetensors").toString(), "--epochs", "2",
            "--limit", "64", "--val-limit", "32", "--backend", "reference", "--no-progress")
        (c4 to e4) shouldBe (0 to "")
        t4 shouldContain "epoch 2: train loss"
        Files.readAllLines(ap.resolve("log.txt")).size shouldBe 2
        val (c5, t5, e5) = mae("eval", "--checkpoint", ap.resolve("checkpoint-best.safetensors").toString(), "--limit", "32",
            "--output-dir", dir.resolve("ap-ev").toString(), "--backend", "reference", "--no-progress")
        (c5 to e5) shouldBe (0 to "")
        t5 shouldContain "* Acc@1"
    }
})
