package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.GZIPOutputStream

/** Writes small IDX files like MNIST's (images 0x00000803, labels 0x00000801), gzipped or not. */
object IdxFiles {
    fun images(count: Int, rows: Int, cols: Int, pixel: (Int, Int) -> Int): ByteArray {
        val data = ByteArray(count * rows * cols) { pixel(it / (rows * cols), it % (rows * cols)).toByte() }
        return Idx.encode(intArrayOf(count, rows, cols), data)
    }

    fun labels(values: IntArray): ByteArray = Idx.encode(intArrayOf(values.size), ByteArray(values.size) {
        values[it].toByte()
    })

    fun write(path: Path, bytes: ByteArray, gzip: Boolean): Path {
        if (gzip) GZIPOutputStream(Files.newOutputStream(path)).use { it.write(bytes) } else Files.write(path, bytes)
        return path
    }
}

class IdxTest : FunSpec({
    val dir = tempdir().toPath()
    // Pixel value depends on image and position, so swapped images or rows would show.
    val pixel = { img: Int, pos: Int -> (img * 37 + pos * 11) % 256 }
    val labels = intArrayOf(3, 0, 9, 9, 1)

    for (gzip in listOf(false, true)) {
        val kind = if (gzip) "gzipped" else "plain"
        test("round trip of $kind images and labels") {
            val imgFile = IdxFiles.write(dir.resolve("img-$kind"), IdxFiles.images(5, 4, 3, pixel), gzip)
            val labFile = IdxFiles.write(dir.resolve("lab-$kind"), IdxFiles.labels(labels), gzip)
            val raw = Idx.readImages(imgFile)
            raw.dims().toList() shouldBe listOf(5, 4, 3)
            raw.at(2 * 12 + 7) shouldBe pixel(2, 7)

            val ds = IdxDataset(imgFile, labFile)
            ds.size() shouldBe 5
            ds.channels() shouldBe 1
            ds.classNames() shouldBe (0..9).map { it.toString() }
            for (i in 0 until 5) {
                val s = ds.read(i)
                s.label() shouldBe labels[i]
                s.image().height() shouldBe 4
                s.image().width() shouldBe 3
                for (p in 0 until 12) s.image().data()[p] shouldBe pixel(i, p) / 255f
            }
        }
    }

    test("the magic numbers are the documented ones") {
        val bytes = IdxFiles.images(1, 2, 2) { _, _ -> 0 }
        bytes.copyOfRange(0, 4).toList() shouldBe listOf<Byte>(0, 0, 8, 3)
        IdxFiles.labels(intArrayOf(1)).copyOfRange(0, 4).toList() shouldBe listOf<Byte>(0, 0, 8, 1)
        // Dimensions are big-endian: 258 = 0x00000102.
        Idx.encode(intArrayOf(258), ByteArray(258)).copyOfRange(4, 8).toList() shouldBe listOf<Byte>(0, 0, 1, 2)
    }

    test("a wrong magic number is reported with the valid ones") {
        val f = dir.resolve("bad-magic")
        Files.write(f, byteArrayOf(0, 0, 0x0d, 3, 0, 0, 0, 1))
        shouldThrow<IOException> { Idx.read(f) }.message shouldContain "magic 0x00000d03"
    }

    test("a truncated file says how many bytes are missing") {
        val full = IdxFiles.images(3, 4, 4) { _, _ -> 1 }
        val f = dir.resolve("short")
        Files.write(f, full.copyOf(full.size - 5))
        shouldThrow<IOException> { Idx.read(f) }.message shouldContain "need 48 bytes of data but only 43"
    }

    test("labels and images must agree in count, and a labels file is not an images file") {
        val imgFile = IdxFiles.write(dir.resolve("img3"), IdxFiles.images(3, 2, 2, pixel), true)
        val labFile = IdxFiles.write(dir.resolve("lab2"), IdxFiles.labels(intArrayOf(1, 2)), true)
        shouldThrow<IOException> { IdxDataset(imgFile, labFile) }.message shouldContain "has 2 labels but"
        shouldThrow<IOException> { Idx.readImages(labFile) }.message shouldContain "expected an IDX images file"
    }

    test("unlabelled images read with label -1") {
        val imgFile = IdxFiles.write(dir.resolve("img-unlabelled"), IdxFiles.images(2, 2, 2, pixel), false)
        val ds = IdxDataset(imgFile, null)
        ds.read(1).label() shouldBe -1
        ds.numClasses() shouldBe 0
    }
})
