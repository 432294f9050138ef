package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.nio.file.Files

class Cifar10Test : FunSpec({
    val dir = tempdir().toPath()
    // Record r: label (r * 3) % 10; byte at CHW position p is (r + 5 * p) % 256.
    fun records(n: Int, first: Int): ByteArray {
        val out = ByteArray(n * Cifar10.RECORD)
        for (r in 0 until n) {
            out[r * Cifar10.RECORD] = (((first + r) * 3) % 10).toByte()
            for (p in 0 until 3072) out[r * Cifar10.RECORD + 1 + p] = ((first + r + 5 * p) % 256).toByte()
        }
        return out
    }

    test("records decode to 3x32x32 CHW planes and their labels, across files") {
        val a = Files.write(dir.resolve("data_batch_a.bin"), records(3, 0))
        val b = Files.write(dir.resolve("data_batch_b.bin"), records(2, 3))
        val ds = Cifar10(listOf(a, b), Cifar10.CLASSES)
        ds.size() shouldBe 5
        ds.numClasses() shouldBe 10
        for (r in 0 until 5) {
            val s = ds.read(r)
            s.label() shouldBe (r * 3) % 10
            s.image().channels() shouldBe 3
            // Red plane first, then green (offset 1024), then blue (offset 2048).
            s.image().get(0, 0, 0) shouldBe (r % 256) / 255f
            s.image().get(1, 0, 0) shouldBe ((r + 5 * 1024) % 256) / 255f
            s.image().get(2, 31, 31) shouldBe ((r + 5 * 3071) % 256) / 255f
        }
        ds.describe(4) shouldBe "data_batch_b.bin#1"
    }

    test("train() reads data_batch_1..5 and class names from batches.meta.txt") {
        val d = Files.createDirectories(dir.resolve("cifar-10-batches-bin"))
        for (i in 1..5) Files.write(d.resolve("data_batch_$i.bin"), records(1, i))
        Files.writeString(d.resolve("batches.meta.txt"), Cifar10.CLASSES.joinToString("\n", postfix = "\n\n"))
        val ds = Cifar10.train(d)
        ds.size() shouldBe 5
        ds.classNames() shouldBe Cifar10.CLASSES
        ds.read(0).label() shouldBe 3
        shouldThrow<IOException> { Cifar10.test(d) }.message shouldContain "test_batch.bin not found"
    }

    test("a file that is not whole records is refused with its size") {
        val bad = Files.write(dir.resolve("bad.bin"), ByteArray(3073 + 10))
        shouldThrow<IOException> { Cifar10(listOf(bad), Cifar10.CLASSES) }.message shouldContain
            "3083 bytes is not a whole number of 3073-byte"
    }

    test("a label outside the classes is refused") {
        val rec = records(1, 0)
        rec[0] = 12
        val bad = Files.write(dir.resolve("badlabel.bin"), rec)
        shouldThrow<IOException> { Cifar10(listOf(bad), Cifar10.CLASSES) }.message shouldContain "label 12"
    }
})
