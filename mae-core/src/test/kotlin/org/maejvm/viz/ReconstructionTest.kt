package org.maejvm.viz

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.collections.shouldNotContain
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import java.awt.image.BufferedImage
import java.util.SplittableRandom
import javax.imageio.ImageIO
import kotlin.math.abs

/** A 16 x 16 image of 4 x 4 patches: 16 patches, 4 visible at mask ratio 0.75. */
internal fun tinyConfig(channels: Int, normPix: Boolean) =
    MaeConfig(16, 4, channels, 16, 1, 2, 16, 1, 2, 2.0, normPix)

class ReconstructionTest : FunSpec({
    val be = ReferenceBackend()

    fun images(batch: Int, channels: Int, seed: Long): FloatArray {
        val rng = SplittableRandom(seed)
        return FloatArray(batch * channels * 16 * 16) { rng.nextGaussian().toFloat() }
    }

    fun run(channels: Int, normPix: Boolean, batch: Int = 2, seed: Long = 3): Pair<MaeModel, Reconstruction> {
        val model = MaeModel(tinyConfig(channels, normPix), be, 11)
        val imgs = be.fromHost(images(batch, channels, 5), batch, channels, 16, 16)
        return model to Reconstruction.run(model, imgs, 0.75, seed)
    }

    test("the reconstruction is the model's prediction unpatchified (no norm_pix)") {
        val (model, r) = run(3, normPix = false)
        val patches = be.zeros(2, 16, 48)
        be.patchify(be.fromHost(r.reconstruction(), 2, 3, 16, 16), 4, true, patches)
        be.toHost(patches) shouldBe be.toHost(model.pred())
        r.loss() shouldBe model.loss()
        r.caption("tiny").size shouldBe 1
    }

    test("a norm_pix model's prediction is un-normalised with the statistics of each original patch") {
        val (model, r) = run(1, normPix = true)
        val target = be.zeros(2, 16, 16)
        be.patchify(be.fromHost(r.original(), 2, 1, 16, 16), 4, true, target)
        val expected = Unnormalize.perPatch(be.toHost(model.pred()), be.toHost(target), 16)
        val patches = be.zeros(2, 16, 16)
        be.patchify(be.fromHost(r.reconstruction(), 2, 1, 16, 16), 4, true, patches)
        be.toHost(patches) shouldBe expected
        r.normPixUndone() shouldBe true
        r.caption("tiny") shouldContain Reconstruction.NORM_PIX_NOTE
        run(1, normPix = false).second.caption("tiny") shouldNotContain Reconstruction.NORM_PIX_NOTE
    }

    test("the masking keeps int(L * (1 - ratio)) patches per image, and the same seed masks the same patches") {
        val (_, a) = run(1, normPix = false, seed = 42)
        val (_, b) = run(1, normPix = false, seed = 42)
        val (_, c) = run(1, normPix = false, seed = 43)
        for (img in 0 until 2) a.mask().slice(img * 16 until img * 16 + 16).count { it == 0f } shouldBe 4
        b.mask() shouldBe a.mask()
        b.reconstruction() shouldBe a.reconstruction()
        c.mask() shouldNotBe a.mask()
    }

    test("pasted equals the original on visible patches and the reconstruction on masked ones") {
        val (_, r) = run(3, normPix = true)
        val orig = r.original(); val rec = r.reconstruction(); val pasted = r.pasted()
        var visible = 0
        for (b in 0 until 2) for (ch in 0 until 3) for (y in 0 until 16) for (x in 0 until 16) {
            val at = ((b * 3 + ch) * 16 + y) * 16 + x
            if (r.visible(b, y, x)) {
                visible++
                pasted[at] shouldBe orig[at]
            } else {
                pasted[at] shouldBe rec[at]
            }
        }
        visible shouldBe 2 * 3 * 4 * 16 // 4 visible patches of 16 pixels per image and channel
    }

    test("the grid has four enlarged panels per image; pasted matches the original on visible patches") {
        val (_, r) = run(3, normPix = true)
        val mean = floatArrayOf(0.485f, 0.456f, 0.406f); val std = floatArrayOf(0.229f, 0.224f, 0.225f)
        val fig = ReconstructionGrid.render(r, mean, std, "tiny")
        val lay = fig.layout()
        lay.scale() shouldBe 7 // 16 px -> 112 px
        lay.width() shouldBe 2 * 12 + 4 * 112 + 3 * 8
        fig.image().width shouldBe lay.width()
        (fig.image().height > lay.panelY(1) + 112) shouldBe true

        val panels = r.panels(mean, std)
        for (row in 0 until 2) {
            fun at(col: Int, y: Int, x: Int) =
                fig.image().getRGB(lay.panelX(col) + x * 7 + 3, lay.panelY(row) + y * 7 + 3) and 0xFFFFFF
            var checked = 0
            for (y in 0 until 16) for (x in 0 until 16) {
                at(0, y, x) shouldBe (panels[row].original().getRGB(x, y) and 0xFFFFFF)
                at(2, y, x) shouldBe (panels[row].reconstruction().getRGB(x, y) and 0xFFFFFF)
                if (r.visible(row, y, x)) {
                    checked++
                    at(3, y, x) shouldBe at(0, y, x)
                    at(1, y, x) shouldBe at(0, y, x)
                } else {
                    at(3, y, x) shouldBe at(2, y, x)
                    at(1, y, x) shouldBe 0x808080 // MASK_GREY
                }
            }
            checked shouldBe 64
        }
    }

    test("original panels show the un-normalised pixels: x * std + mean, clipped and rounded") {
        val (_, r) = run(1, normPix = false, batch = 1)
        val orig = r.original()
        val picture = r.panels(floatArrayOf(0.286f), floatArrayOf(0.353f))[0].original()
        for (y in 0 until 16) for (x in 0 until 16) {
            val v = (orig[y * 16 + x] * 0.353 + 0.286).coerceIn(0.0, 1.0) * 255
            val grey = picture.getRGB(x, y) and 0xFF
            abs(grey - v) shouldBeLessThan 0.5001
            (picture.getRGB(x, y) shr 8 and 0xFF) shouldBe grey // grey: R = G = B
        }
    }

    test("rendering is deterministic and the PNG reads back with the same pixels") {
        val (_, r1) = run(1, normPix = true, seed = 9)
        val (_, r2) = run(1, normPix = true, seed = 9)
        val a = ReconstructionGrid.render(r1, floatArrayOf(0.286f), floatArrayOf(0.353f), null)
        val b = ReconstructionGrid.render(r2, floatArrayOf(0.286f), floatArrayOf(0.353f), null)
        pixels(a.image()) shouldBe pixels(b.image())
        val file = a.writePng(tempdir().toPath().resolve("sub/grid.png"))
        val back = ImageIO.read(file.toFile())
        pixels(back) shouldBe pixels(a.image())
    }

    test("long caption lines wrap within the figure instead of running off it") {
        val metrics = BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).createGraphics().getFontMetrics(ReconstructionGrid.CAPTION_FONT)
        val lines = ReconstructionGrid.wrap(Reconstruction.NORM_PIX_NOTE, metrics, 200)
        (lines.size > 1) shouldBe true
        lines.joinToString(" ") shouldBe Reconstruction.NORM_PIX_NOTE
        for (line in lines) (metrics.stringWidth(line) <= 200) shouldBe true
    }
})

private fun pixels(img: BufferedImage): List<Int> =
    img.getRGB(0, 0, img.width, img.height, null, 0, img.width).map { it and 0xFFFFFF }
