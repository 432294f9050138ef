package org.maejvm.data

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.nio.file.Files
import java.nio.file.Path

class FashionMnistTest : FunSpec({
    test("a folder without the files names them and the one command to run") {
        val e = shouldThrow<IOException> { FashionMnist.train(tempdir().toPath()) }
        e.message shouldContain "sudo apt-get install -y dataset-fashion-mnist"
        e.message shouldContain "train-images-idx3-ubyte.gz"
    }

    test("reads files laid out like the Debian package, with Fashion-MNIST's classes and statistics") {
        val dir = tempdir().toPath()
        val pixel = { img: Int, pos: Int -> (img + pos) % 256 }
        IdxFiles.write(dir.resolve(FashionMnist.TRAIN_IMAGES), IdxFiles.images(4, 28, 28, pixel), true)
        IdxFiles.write(dir.resolve(FashionMnist.TRAIN_LABELS), IdxFiles.labels(intArrayOf(9, 0, 3, 9)), true)
        IdxFiles.write(dir.resolve(FashionMnist.TEST_IMAGES), IdxFiles.images(2, 28, 28, pixel), true)
        IdxFiles.write(dir.resolve(FashionMnist.TEST_LABELS), IdxFiles.labels(intArrayOf(1, 2)), true)
        val train = FashionMnist.train(dir)
        train.size() shouldBe 4
        train.classNames()[train.read(0).label()] shouldBe "Ankle boot"
        train.normalization() shouldBe Normalization.FASHION_MNIST
        FashionMnist.test(dir).read(1).label() shouldBe 2
    }

    // Only where the Debian package is installed; the tests above never need it.
    val installed = Path.of(FashionMnist.DEBIAN_DIR)
    test("the installed package: 60,000 + 10,000 images, 6,000 per class, mean pixel 0.2860")
        .config(enabled = FashionMnist.missing(installed).isEmpty()) {
            val train = FashionMnist.train(installed)
            val test = FashionMnist.test(installed)
            train.size() shouldBe 60_000
            test.size() shouldBe 10_000
            train.height() shouldBe 28
            (0 until 60_000).groupingBy { train.label(it) }.eachCount().values.toSet() shouldBe setOf(6000)
            var sum = 0.0
            for (i in 0 until 60_000) sum += train.read(i).image().data().sum()
            (sum / (60_000 * 784)) shouldBe (0.2860 plusOrMinus 0.0001)
        }
})
