package org.maejvm.train

import java.nio.file.Path
import java.util.SplittableRandom
import org.maejvm.data.Batch
import org.maejvm.model.MaeConfig
import org.maejvm.ops.ReferenceBackend

/** Tiny models and data shared by the training tests: fast on the reference backend. */
object TinyRuns {
    /** 8x8 gray images, 2x2 patches (16 tokens), width-8 encoder and decoder of one block each. */
    val model: MaeConfig = MaeConfig(8, 2, 1, 8, 1, 2, 8, 1, 2, 2.0, false)

    /** [n] images with smooth structure (a random plane plus noise), so the loss has something to learn. */
    fun images(n: Int, seed: Long = 7): FloatArray {
        val rng = SplittableRandom(seed)
        val out = FloatArray(n * 64)
        for (i in 0 until n) {
            val a = rng.nextGaussian(); val b = rng.nextGaussian(); val c = rng.nextGaussian()
            for (y in 0 until 8) for (x in 0 until 8) {
                out[i * 64 + y * 8 + x] = (a * x / 8 + b * y / 8 + c + 0.1 * rng.nextGaussian()).toFloat()
            }
        }
        return out
    }

    fun source(n: Int = 16, batch: Int = 4, seed: Long = 3): EpochSource =
        EpochSource.inMemory(images(n), n, 1, 8, 8, batch, seed)

    /** Batches cut in fixed order from [images], [per] images each, with dataset indices. */
    fun fixedBatches(images: FloatArray, n: Int, per: Int): List<Batch> = (0 until n / per).map { b ->
        val x = images.copyOfRange(b * per * 64, (b + 1) * per * 64)
        Batch(x, per, 1, 8, 8, IntArray(per), IntArray(per) { b * per + it })
    }

    fun config(out: Path?, epochs: Int = 3, batch: Int = 4, accum: Int = 1): PretrainConfig =
        PretrainConfig.builder().model(model).modelName("tiny-test").epochs(epochs).batchSize(batch).accumIter(accum)
            .blr(1e-2).warmupEpochs(1.0).minLr(1e-4).seed(11).outputDir(out).keepLast(2).logFreq(1).build()

    fun backend() = ReferenceBackend()
}
