package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.io.Safetensors
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.AdamW
import org.maejvm.train.Checkpoint
import org.maejvm.train.PretrainConfig
import org.maejvm.viz.ModelFiles
import org.maejvm.viz.Reconstruction
import org.maejvm.viz.ReconstructionGrid
import java.awt.image.BufferedImage
import java.io.DataOutputStream
import java.io.File
import java.io.PrintWriter
import java.io.StringWriter
import java.nio.file.Files
import java.nio.file.Path
import java.util.SplittableRandom
import java.util.zip.GZIPOutputStream
import javax.imageio.ImageIO
import org.maejvm.data.Normalization

private data class ReconstructRun(val code: Int, val out: String, val err: String)

private fun reconstruct(vararg args: String): ReconstructRun {
    val cli = MaeCli.commandLine()
    val out = StringWriter(); val err = StringWriter()
    cli.out = PrintWriter(out, true); cli.err = PrintWriter(err, true)
    val code = cli.execute("reconstruct", *args)
    return ReconstructRun(code, out.toString(), err.toString())
}

private fun pixels(img: BufferedImage): List<Int> =
    img.getRGB(0, 0, img.width, img.height, null, 0, img.width).map { it and 0xFFFFFF }

/** 16 x 16 images of 4 x 4 patches: the figure's panels are enlarged 7x to 112 px. */
private fun tiny(channels: Int, normPix: Boolean) = MaeConfig(16, 4, channels, 16, 1, 2, 16, 1, 2, 2.0, normPix)

private const val CONFIG_JSON = """{"img_size": 16, "patch_size": 4, "in_chans": 3, "embed_dim": 16, "depth": 1,
  "num_heads": 2, "decoder_embed_dim": 16, "decoder_depth": 1, "decoder_num_heads": 2, "mlp_ratio": 2.0}"""

class ReconstructCommandTest : FunSpec({
    val be = ReferenceBackend()

    /** A checkpoint as the trainer writes it: model + optimizer tensors, the training config in the metadata. */
    fun trainingCheckpoint(dir: Path, channels: Int, normPix: Boolean): Path {
        val model = MaeModel(tiny(channels, false), be, 21)
        val config = PretrainConfig.builder().model(tiny(channels, normPix)).modelName("tiny_test").epochs(1).build()
        val file = dir.resolve("checkpoint-last.safetensors")
        Checkpoint.save(file, config, Checkpoint.Position(1, 0, 10), model, AdamW.forMae(model.parameters(), 0.05f))
        return file
    }

    fun writePictures(dir: Path): Path {
        val folder = Files.createDirectories(dir.resolve("imgs/class_a"))
        val rng = SplittableRandom(4)
        for ((name, size) in listOf("a.png" to (20 to 24), "b.jpg" to (16 to 16), "c.png" to (40 to 30))) {
            val img = BufferedImage(size.first, size.second, BufferedImage.TYPE_INT_RGB)
            for (y in 0 until img.height) for (x in 0 until img.width) img.setRGB(x, y, rng.nextInt(0x1000000))
            ImageIO.write(img, if (name.endsWith("png")) "png" else "jpeg", folder.resolve(name).toFile())
        }
        Files.writeString(folder.resolve("broken.png"), "not a picture")
        return dir.resolve("imgs")
    }

    test("a training checkpoint and a folder of pictures give the library's figure, broken files skipped") {
        val dir = tempdir().toPath()
        val ckpt = trainingCheckpoint(dir, 3, normPix = true)
        val imgs = writePictures(dir)
        val out = dir.resolve("out/grid.png")
        val run = reconstruct("--checkpoint", "$ckpt", "--images", "$imgs", "--out", "$out", "--backend", "reference",
            "--seed", "5", "--mask-ratio", "0.5")
        run.code shouldBe 0
        run.out shouldContain "wrote $out: 3 image(s)"
        run.out shouldContain "model tiny_test"
        run.out shouldContain "norm_pix_loss: predictions un-normalised per patch"
        run.out shouldContain "skipped ${imgs.resolve("class_a/broken.png")}"

        // The same steps through the library give the same pixels.
        val loaded = ModelFiles.load(ckpt, null, null, null, be)
        loaded.model().config().normPixLoss() shouldBe true
        val batch = org.maejvm.viz.ImageInputs.read(imgs, 3, 16, 8, Normalization.IMAGENET)
        val r = Reconstruction.run(loaded.model(), be.fromHost(batch.images(), 3, 3, 16, 16), 0.5, 5)
        val expected = ReconstructionGrid.render(r, Normalization.IMAGENET, "tiny_test")
        val written = ImageIO.read(out.toFile())
        written.width shouldBe 2 * 12 + 4 * 112 + 3 * 8
        pixels(written) shouldBe pixels(expected.image())
    }

    test("IDX images: the original panels show the stored bytes, at most --max-images rows") {
        val dir = tempdir().toPath()
        val ckpt = trainingCheckpoint(dir, 1, normPix = false)
        val bytes = ByteArray(5 * 16 * 16) { (it * 37 % 256).toByte() }
        val idx = dir.resolve("t10k-images-idx3-ubyte.gz")
        DataOutputStream(GZIPOutputStream(Files.newOutputStream(idx))).use { s ->
            s.writeInt(0x803); s.writeInt(5); s.writeInt(16); s.writeInt(16); s.write(bytes)
        }
        val out = dir.resolve("grid.png")
        val run = reconstruct("--checkpoint", "$ckpt", "--images", "$idx", "--out", "$out", "--backend", "reference",
            "--max-images", "2")
        run.code shouldBe 0
        run.out shouldContain "2 image(s)"
        val fig = ImageIO.read(out.toFile())
        val layout = ReconstructionGrid.render(
            Reconstruction.run(ModelFiles.load(ckpt, null, null, null, be).model(), be.zeros(2, 1, 16, 16), 0.75, 0),
            floatArrayOf(0f), floatArrayOf(1f), "x").layout()
        for (row in 0 until 2) for (y in 0 until 16) for (x in 0 until 16) {
            val v = bytes[(row * 16 + y) * 16 + x].toInt() and 0xFF
            fig.getRGB(layout.panelX(0) + 7 * x, layout.panelY(row) + 7 * y) and 0xFFFFFF shouldBe (v * 0x010101)
        }
    }

    test("weights without a config need --model or --config; the official .pth fixture loads with --config") {
        val dir = tempdir().toPath()
        val model = MaeModel(tiny(3, false), be, 3)
        val plain = dir.resolve("weights.safetensors")
        Safetensors.write(plain, model.parameters().stateDict(), emptyMap())
        val imgs = writePictures(dir)
        val preset = reconstruct("--checkpoint", "$plain", "--model", "mae_vit_tiny_fmnist", "--images", "$imgs",
            "--backend", "reference")
        preset.code shouldNotBe 0
        preset.err shouldContain "shapes differ" // a preset is found by name, and its shapes checked against the file
        val noConfig = reconstruct("--checkpoint", "$plain", "--images", "$imgs", "--backend", "reference",
            "--out", "${dir.resolve("x.png")}")
        noConfig.code shouldNotBe 0
        noConfig.err shouldContain "records no model config"
        noConfig.err shouldContain "--model"

        val cfg = dir.resolve("config.json"); Files.writeString(cfg, CONFIG_JSON)
        reconstruct("--checkpoint", "$plain", "--config", "$cfg", "--images", "$imgs", "--backend", "reference",
            "--out", "${dir.resolve("y.png")}").code shouldBe 0

        // The PyTorch-written fixture of mae-core (official names, {'model': ...} layout is covered by the io tests).
        val fixture = File("../mae-core/src/test/resources/fixtures/mae/tiny-rgb").absoluteFile.toPath()
        val pth = reconstruct("--checkpoint", "${fixture.resolve("model.pth")}", "--config", "${fixture.resolve("config.json")}",
            "--images", "$imgs", "--backend", "reference", "--out", "${dir.resolve("z.png")}")
        pth.err shouldBe ""
        pth.code shouldBe 0
    }

    test("missing or corrupt checkpoints, encoder-only weights and folders without images fail with clear messages") {
        val dir = tempdir().toPath()
        val imgs = writePictures(dir)
        val missing = reconstruct("--checkpoint", "${dir.resolve("nope.safetensors")}", "--images", "$imgs", "--model", "base")
        missing.code shouldNotBe 0
        missing.err shouldContain "nope.safetensors"
        missing.err shouldContain "checkpoint not found"

        val corrupt = dir.resolve("corrupt.safetensors")
        Files.write(corrupt, ByteArray(64) { 7 })
        val bad = reconstruct("--checkpoint", "$corrupt", "--images", "$imgs", "--backend", "reference")
        bad.code shouldNotBe 0
        bad.err shouldContain "corrupt.safetensors"

        val encoderOnly = dir.resolve("encoder.safetensors")
        val full = MaeModel(tiny(3, false), be, 3).parameters().stateDict()
        Safetensors.write(encoderOnly, full.filterKeys { !it.startsWith("decoder") && it != "mask_token" }, emptyMap())
        val cfg = dir.resolve("config.json"); Files.writeString(cfg, CONFIG_JSON)
        val enc = reconstruct("--checkpoint", "$encoderOnly", "--config", "$cfg", "--images", "$imgs", "--backend", "reference")
        enc.code shouldNotBe 0
        enc.err shouldContain "encoder-only checkpoint cannot reconstruct"

        val empty = Files.createDirectories(dir.resolve("empty"))
        Files.writeString(empty.resolve("notes.txt"), "no pictures here")
        val ckpt = trainingCheckpoint(dir, 3, normPix = false)
        val none = reconstruct("--checkpoint", "$ckpt", "--images", "$empty", "--backend", "reference")
        none.code shouldNotBe 0
        none.err shouldContain "no readable images in $empty"
    }
})
