package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.PrintWriter
import java.io.StringWriter
import org.maejvm.data.FashionMnist
import org.maejvm.eval.FeatureSet
import org.maejvm.eval.Pooling
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.AdamW
import org.maejvm.train.Checkpoint
import org.maejvm.train.PretrainConfig

private fun extract(vararg args: String): Triple<Int, String, String> {
    val cli = MaeCli.commandLine()
    val out = StringWriter(); val err = StringWriter()
    cli.out = PrintWriter(out, true); cli.err = PrintWriter(err, true)
    return Triple(cli.execute("extract", *args), out.toString(), err.toString())
}

private val haveFashionMnist = runCatching { FashionMnist.locate(false) }.isSuccess

class ExtractCommandTest : FunSpec({
    test("extract --help names the options") {
        val (code, out, _) = extract("--help")
        code shouldBe 0
        for (o in listOf("--checkpoint", "--data", "--split", "--out", "--pool", "--batch-size", "--limit")) out shouldContain o
    }

    test("a missing checkpoint and a bad pooling are one-line errors") {
        extract("--checkpoint", "/nonexistent.safetensors").third shouldContain "nonexistent.safetensors"
        extract("--checkpoint", "x", "--pool", "max").third shouldContain "unknown pooling 'max'; use cls or mean"
    }

    test("features of 10 Fashion-MNIST test images from a pretraining checkpoint").config(enabled = haveFashionMnist) {
        val dir = tempdir().toPath()
        val be = ReferenceBackend()
        val config = PretrainConfig.builder().model("mae_vit_tiny_fmnist").epochs(1).build()
        val model = MaeModel(config.modelConfig(), be, 4)
        val ckpt = dir.resolve("checkpoint-last.safetensors")
        Checkpoint.save(ckpt, config, Checkpoint.Position(1, 0, 1), model, AdamW.forMae(model.parameters(), 0.05f))
        val out = dir.resolve("f.safetensors")
        val (code, text, err) = extract("--checkpoint", ckpt.toString(), "--split", "val", "--limit", "10",
            "--batch-size", "4", "--pool", "mean", "--out", out.toString(), "--backend", "reference", "--no-progress")
        (code to err) shouldBe (0 to "")
        text shouldContain "features [10, ${config.modelConfig().embedDim()}]"
        val set = FeatureSet.load(out)
        set.count() shouldBe 10
        set.pool() shouldBe Pooling.MEAN
        set.labels().toList() shouldBe (0 until 10).map { FashionMnist.test().read(it).label() }
        set.classNames() shouldBe FashionMnist.CLASSES
        set.metadata()["checkpoint"] shouldBe "checkpoint-last.safetensors"
    }
})
