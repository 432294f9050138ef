package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.awt.image.BufferedImage
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.nio.file.Files
import java.nio.file.Path
import java.util.SplittableRandom
import javax.imageio.ImageIO

/** Generated image files; pixel (x, y) of the RGB test image has channels (x * 40, y * 50, 255 - x * 20). */
object TestImages {
    fun rgb(w: Int, h: Int, type: Int = BufferedImage.TYPE_INT_RGB): BufferedImage {
        val img = BufferedImage(w, h, type)
        for (y in 0 until h) for (x in 0 until w) {
            val argb = (0x80 shl 24) or ((x * 40 % 256) shl 16) or ((y * 50 % 256) shl 8) or (255 - x * 20)
            img.setRGB(x, y, argb)
        }
        return img
    }

    fun gray(w: Int, h: Int): BufferedImage {
        val img = BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY)
        for (y in 0 until h) for (x in 0 until w) img.raster.setSample(x, y, 0, (x * 17 + y * 29) % 256)
        return img
    }

    fun noise(w: Int, h: Int, seed: Long): BufferedImage {
        val rng = SplittableRandom(seed)
        val img = BufferedImage(w, h, BufferedImage.TYPE_INT_RGB)
        for (y in 0 until h) for (x in 0 until w) img.setRGB(x, y, rng.nextInt(1 shl 24))
        return img
    }

    fun encode(img: BufferedImage, format: String): ByteArray {
        val out = ByteArrayOutputStream()
        check(ImageIO.write(img, format, out)) { "no ImageIO writer for $format" }
        return out.toByteArray()
    }

    fun write(path: Path, bytes: ByteArray): Path {
        Files.createDirectories(path.parent)
        return Files.write(path, bytes)
    }
}

class ImageFolderTest : FunSpec({
    val root = tempdir().toPath()
    val t = TestImages
    t.write(root.resolve("ant/only.png"), t.encode(t.rgb(5, 4), "png"))
    t.write(root.resolve("cat/a.png"), t.encode(t.rgb(6, 5), "png"))
    t.write(root.resolve("cat/b.jpg"), t.encode(t.noise(40, 30, 1), "jpg"))
    t.write(root.resolve("cat/z_alpha.PNG"), t.encode(t.rgb(6, 5, BufferedImage.TYPE_INT_ARGB), "png"))
    t.write(root.resolve("cat/sub/c.png"), t.encode(t.gray(7, 3), "png"))
    val jpeg = t.encode(t.noise(64, 64, 2), "jpg")
    t.write(root.resolve("dog/truncated.jpg"), jpeg.copyOf(jpeg.size / 2))
    t.write(root.resolve("dog/empty.png"), ByteArray(0))
    t.write(root.resolve("dog/notes.png"), "this is text, not a PNG\n".toByteArray())
    t.write(root.resolve("dog/good.bmp"), t.encode(t.rgb(3, 3), "bmp"))
    t.write(root.resolve("dog/readme.txt"), "ignored: not an image extension".toByteArray())

    test("classes are the sorted folder names, files in torchvision's walk order") {
        val ds = ImageFolder(root)
        ds.classNames() shouldBe listOf("ant", "cat", "dog")
        (0 until ds.size()).map { ds.describe(it) } shouldContainExactly listOf(
            "ant/only.png", "cat/a.png", "cat/b.jpg", "cat/z_alpha.PNG", "cat/sub/c.png",
            "dog/empty.png", "dog/good.bmp", "dog/notes.png", "dog/truncated.jpg",
        )
        (0 until ds.size()).map { ds.label(it) } shouldContainExactly listOf(0, 1, 1, 1, 1, 2, 2, 2, 2)
    }

    test("PNG decodes exactly to RGB planes in [0, 1], alpha dropped") {
        val ds = ImageFolder(root)
        for (i in listOf(1, 3)) { // a.png (RGB) and z_alpha.PNG (RGBA)
            val img = ds.read(i).image()
            img.channels() shouldBe 3
            img.height() shouldBe 5
            img.width() shouldBe 6
            for (y in 0 until 5) for (x in 0 until 6) {
                img.get(0, y, x) shouldBe (x * 40 % 256) / 255f
                img.get(1, y, x) shouldBe (y * 50 % 256) / 255f
                img.get(2, y, x) shouldBe (255 - x * 20) / 255f
            }
        }
    }

    test("gray PNG is replicated to RGB, and kept as is with 1 channel; RGB becomes luma with 1 channel") {
        val rgb = ImageFolder(root).read(4).image()
        val gray = ImageFolder(root, 1)
        gray.channels() shouldBe 1
        val g = gray.read(4).image()
        g.channels() shouldBe 1
        for (y in 0 until 3) for (x in 0 until 7) {
            val v = ((x * 17 + y * 29) % 256) / 255f
            g.get(0, y, x) shouldBe v
            for (c in 0 until 3) rgb.get(c, y, x) shouldBe v
        }
        val luma = gray.read(1).image()
        luma.get(0, 2, 3) shouldBe ((0.299f * 120 + 0.587f * 100 + 0.114f * 195) / 255f plusOrMinus 1e-6f)
    }

    test("JPEG and BMP decode (JPEG within its compression error)") {
        val ds = ImageFolder(root)
        val jpg = ds.read(2).image()
        jpg.channels() shouldBe 3
        jpg.height() shouldBe 30
        jpg.width() shouldBe 40
        ds.read(6).image().get(0, 1, 2) shouldBe 80 / 255f
    }

    test("truncated JPEG, zero-byte file and text named .png are refused with a reason") {
        val ds = ImageFolder(root)
        shouldThrow<IOException> { ds.read(8) }.message shouldContain "JPEG"
        shouldThrow<IOException> { ds.read(5) }.message shouldContain "empty.png: empty file (0 bytes)"
        shouldThrow<IOException> { ds.read(7) }.message shouldContain "not an image format ImageIO can read"
    }

    test("the loader skips the three bad files, counts them and names them") {
        val reports = mutableListOf<DataStats>()
        val loader = DataLoader(ImageFolder(root), EvalTransform(8, Normalization.IMAGENET), batchSize = 4,
            shuffle = false, dropLast = false, workers = 2, statsListener = { reports.add(it) })
        val batches = loader.iterator(0).use { it.asSequence().toList() }
        // Batch 2 lost 2 of its 4 items; batch 3 lost its only item and is left out.
        batches.map { it.size() } shouldBe listOf(4, 2)
        batches.flatMap { it.indices().toList() } shouldBe listOf(0, 1, 2, 3, 4, 6)
        batches.flatMap { it.labels().toList() } shouldBe listOf(0, 1, 1, 1, 1, 2)
        reports.size shouldBe 1
        val s = reports[0]
        s.skipped() shouldBe 3
        s.delivered() shouldBe 6
        s.batches() shouldBe 2
        s.firstSkipped().map { it.name() } shouldBe listOf("dog/empty.png", "dog/notes.png", "dog/truncated.jpg")
        s.firstSkipped()[0].reason() shouldContain "empty file (0 bytes)"
        loader.lastStats shouldBe s
    }

    test("a CMYK JPEG (Pillow-made fixture) converts to RGB") {
        val bytes = ImageFolderTest::class.java.getResourceAsStream("/data/cmyk.jpg")!!.readAllBytes()
        val img = ImageDecoder.toFloat(ImageDecoder.decode(bytes), 3)
        fun px(c: Int, y: Int, x: Int) = img.get(c, y, x).toDouble()
        // Quadrants: white, cyan, magenta-ish, near black (see make_resize_fixtures.py).
        for (c in 0 until 3) px(c, 4, 4) shouldBeGreaterThan 0.9
        px(0, 4, 20) shouldBeLessThan 0.3
        px(1, 4, 20) shouldBeGreaterThan 0.5
        px(2, 4, 20) shouldBeGreaterThan 0.7
        px(1, 20, 4) shouldBeLessThan px(0, 20, 4) - 0.3
        for (c in 0 until 3) px(c, 20, 20) shouldBeLessThan 0.35
    }

    test("a missing folder or a folder without classes is refused") {
        shouldThrow<IOException> { ImageFolder(root.resolve("nope")) }.message shouldContain "does not exist"
        val emptyClass = tempdir().toPath()
        Files.createDirectories(emptyClass.resolve("x"))
        shouldThrow<IOException> { ImageFolder(emptyClass) }.message shouldContain "in class folder(s) [x]"
        shouldThrow<IllegalArgumentException> { ImageFolder(root, 2) }.message shouldBe
            "channels must be 1 (gray) or 3 (RGB), got 2"
    }
})
