package org.maejvm.samples

import java.nio.file.Files
import kotlin.math.PI
import kotlin.math.sin
import kotlinx.coroutines.flow.collect
import kotlinx.coroutines.flow.onEach
import kotlinx.coroutines.flow.takeWhile
import kotlinx.coroutines.runBlocking
import org.maejvm.api.Mae
import org.maejvm.ops.Backends
import org.maejvm.train.EpochSource
import org.maejvm.train.PretrainConfig
import org.maejvm.train.TrainingEvent

/**
 * Pretrains a tiny MAE on generated stripes with the coroutine API: collect the flow of events, print the loss,
 * and stop early (cancelling the collection saves a checkpoint) once the loss is below a target.
 */
fun main() = runBlocking {
    val n = 256
    val side = 16
    // Stripes of random frequency and phase: enough structure for masked patches to be predictable.
    val rng = java.util.SplittableRandom(1)
    val images = FloatArray(n * side * side)
    for (i in 0 until n) {
        val f = 1 + rng.nextInt(4); val phase = rng.nextDouble() * 2 * PI; val vertical = rng.nextBoolean()
        for (y in 0 until side) for (x in 0 until side) {
            val t = if (vertical) x else y
            images[i * side * side + y * side + x] = sin(2 * PI * f * t / side + phase).toFloat()
        }
    }
    val out = Files.createTempDirectory("mae-kotlin-sample")
    val config = PretrainConfig.builder()
        .model(org.maejvm.model.MaeConfig(side, 4, 1, 64, 2, 4, 32, 1, 4, 4.0, false))
        .modelName("stripes-16px")
        .epochs(30).batchSize(32).lr(2e-3).warmupEpochs(2.0).outputDir(out).logFreq(4).build()
    val data = EpochSource.inMemory(images, n, 1, side, side, config.batchSize(), config.seed())
    Backends.create("simd", 0).use { backend ->
        Mae.pretrain(config, data, backend)
            .onEach { e ->
                when (e) {
                    is TrainingEvent.EpochEnd -> println("epoch ${e.epoch()}: loss %.4f".format(e.meanLoss()))
                    is TrainingEvent.CheckpointSaved -> println("  checkpoint ${e.path().fileName}")
                    is TrainingEvent.Finished -> println("finished after ${e.globalStep()} steps")
                    else -> {}
                }
            }
            // Stop once an epoch's mean loss is below 0.15: the flow's cancellation saves a checkpoint first.
            .takeWhile { !(it is TrainingEvent.EpochEnd && it.meanLoss() < 0.15) }
            .collect()
    }
    println("outputs in $out")
}
