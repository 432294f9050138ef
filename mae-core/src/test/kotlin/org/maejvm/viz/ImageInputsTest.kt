package org.maejvm.viz

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.data.Normalization
import java.awt.image.BufferedImage
import java.nio.file.Files
import javax.imageio.ImageIO
import kotlin.math.abs

class ImageInputsTest : FunSpec({

    test("a grey PNG keeps its stored values (no linear-grey brightening) and is normalised with mean/std") {
        val dir = tempdir().toPath()
        val img = BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY)
        for (y in 0 until 16) for (x in 0 until 16) img.raster.setSample(x, y, 0, (y * 16 + x) % 256)
        ImageIO.write(img, "png", dir.resolve("g.png").toFile())
        val batch = ImageInputs.read(dir, 1, 16, 4, Normalization.of(0.5f, 0.25f))
        batch.count() shouldBe 1
        for (i in 0 until 256) {
            val expected = (i / 255.0 - 0.5) / 0.25
            abs(batch.images()[i] - expected) shouldBeLessThan 1e-4
        }
    }

    test("larger pictures are resized on the short side and centre-cropped: a uniform picture stays uniform") {
        val dir = tempdir().toPath()
        val img = BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until 32) for (x in 0 until 64) img.setRGB(x, y, if (x < 8 || x >= 56) 0xFF0000 else 0x336699)
        ImageIO.write(img, "png", dir.resolve("wide.png").toFile())
        val batch = ImageInputs.read(dir.resolve("wide.png"), 3, 16, 1, Normalization(floatArrayOf(0f, 0f, 0f), floatArrayOf(1f, 1f, 1f)))
        // 64 x 32 -> 32 x 16, centre 16 x 16 = source columns 16..47; the bicubic kernel (4 source px at this
        // scale) reaches columns 12..51, clear of the red bands at the sides.
        for (i in 0 until 256) {
            abs(batch.images()[i] - 0x33 / 255.0) shouldBeLessThan 1e-3
            abs(batch.images()[256 + i] - 0x66 / 255.0) shouldBeLessThan 1e-3
            abs(batch.images()[512 + i] - 0x99 / 255.0) shouldBeLessThan 1e-3
        }
    }

    test("a folder without readable images is an error that names it and the unreadable files") {
        val dir = tempdir().toPath()
        Files.writeString(dir.resolve("fake.jpg"), "not a jpeg")
        val e = shouldThrow<java.io.IOException> { ImageInputs.read(dir, 3, 16, 4, Normalization.IMAGENET) }
        e.message shouldContain "no readable images in $dir"
        e.message shouldContain "fake.jpg"
    }
})
