package org.maejvm.load

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.longs.shouldBeLessThan
import io.kotest.matchers.shouldBe
import java.lang.management.ManagementFactory
import java.nio.file.Files
import java.nio.file.Path
import org.maejvm.data.DataLoader
import org.maejvm.data.ImageFolder
import org.maejvm.data.TestImages
import org.maejvm.train.EpochSource
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns
import org.maejvm.train.TrainingEvent

/**
 * A long stream of small images, a fraction of them corrupt, trained through end to end (ImageFolder, the data
 * loader with its workers and prefetch, the pretraining loop and its checkpoints): every corrupt file is skipped
 * and counted in every epoch, every good one is trained on, and the heap left after a full GC at each epoch's end
 * does not grow from one epoch to the next. The default run is small (seconds); `-Dmae.longTests=true` runs
 * 32,000 images for 5 epochs and prints the numbers recorded in docs/RELIABILITY.md.
 */
class LongStreamTest : FunSpec({
    val long = System.getProperty("mae.longTests") == "true"

    /** [n] 8x8 gray PNGs in 4 class folders, every [corruptEvery]-th one damaged in one of four ways. */
    fun writeImages(root: Path, n: Int, corruptEvery: Int): Int {
        val t = TestImages
        var corrupt = 0
        for (i in 0 until n) {
            val f = root.resolve("c${i % 4}/img$i.png")
            Files.createDirectories(f.parent)
            val good = t.encode(t.noise(8, 8, i.toLong()), "png")
            val bytes = if (i % corruptEvery == corruptEvery - 1) {
                corrupt++
                when ((i / corruptEvery) % 4) {
                    0 -> good.copyOf(good.size / 2) // truncated
                    1 -> ByteArray(0) // empty
                    2 -> "not a picture\n".toByteArray() // wrong content for the name
                    else -> good.copyOf().also { b -> b[18] = 0x7f; b[22] = 0x7f } // IHDR claims 32520 x 32520 pixels
                }
            } else good
            Files.write(f, bytes)
        }
        return corrupt
    }

    fun heapAfterGc(): Long {
        repeat(2) { System.gc() }
        return ManagementFactory.getMemoryMXBean().heapMemoryUsage.used
    }

    val n = if (long) 32_000 else 640
    val epochs = if (long) 5 else 3
    val batch = 64

    test("$n images with every 20th corrupt: $epochs epochs trained through, corrupt ones skipped, heap flat") {
        val root = tempdir().toPath()
        val t0 = System.nanoTime()
        val corrupt = writeImages(root.resolve("data"), n, 20)
        val writeSeconds = (System.nanoTime() - t0) / 1e9
        val loader = DataLoader.forPretraining(ImageFolder(root.resolve("data"), 1), 8, batch, 5L)
        val config = TinyRuns.config(root.resolve("run"), epochs = epochs, batch = batch).toBuilder().logFreq(50).build()
        val ends = ArrayList<TrainingEvent.EpochEnd>()
        val heap = ArrayList<Long>()
        val trainer = Pretrainer(config, EpochSource.of(loader), TinyRuns.backend()).listener { e ->
            if (e is TrainingEvent.EpochEnd) {
                ends += e
                heap += heapAfterGc()
            }
        }
        val start = System.nanoTime()
        val done = trainer.run()
        val seconds = (System.nanoTime() - start) / 1e9
        val mb = heap.map { "%.1f".format(it / 1048576.0) }
        println("long stream: $n images ($corrupt corrupt) written in %.1f s; $epochs epochs in %.1f s (%.0f images/s);"
            .format(writeSeconds, seconds, n.toDouble() * epochs / seconds) +
            " heap after GC per epoch (MB): $mb; max heap ${Runtime.getRuntime().maxMemory() / 1048576} MB")

        done.stopped() shouldBe false
        ends.size shouldBe epochs
        for (e in ends) withClue("epoch ${e.epoch()}") {
            e.skippedImages() shouldBe corrupt.toLong()
            e.images() shouldBe (n - corrupt).toLong()
            e.meanLoss().isFinite() shouldBe true
        }
        // flat: after the first epoch (caches, compiled code, first checkpoint) the retained heap stays put
        val growthLimit = (if (long) 16L else 8L) shl 20
        for (k in 1 until heap.size) withClue("heap after epoch $k vs epoch 0: ${heap[k] - heap[0]} bytes") {
            heap[k] - heap[0] shouldBeLessThan growthLimit
        }
    }
})
