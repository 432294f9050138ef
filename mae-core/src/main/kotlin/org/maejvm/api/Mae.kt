package org.maejvm.api

import java.nio.file.Path
import java.util.concurrent.Executors
import java.util.concurrent.atomic.AtomicBoolean
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.produce
import kotlinx.coroutines.channels.trySendBlocking
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.channelFlow
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.maejvm.data.Batch
import org.maejvm.model.MaeModel
import org.maejvm.ops.Backend
import org.maejvm.train.EpochSource
import org.maejvm.train.GradientSync
import org.maejvm.train.MaskingNoise
import org.maejvm.train.PretrainConfig
import org.maejvm.train.Pretrainer
import org.maejvm.train.TrainingEvent
import org.maejvm.tensor.Tensor
import org.maejvm.viz.Reconstruction

/**
 * The Kotlin entry point: MAE pretraining as a cold [Flow] of [TrainingEvent]s. Nothing runs until the flow is
 * collected; collecting trains on a dedicated training thread (the backend brings its own compute threads);
 * cancelling the collector asks the loop to stop at the next point where no gradient is pending, where it saves a
 * checkpoint, and the collection returns only once that checkpoint is written.
 */
object Mae {
    /**
     * Pretrains a model of [config] on [data] with [backend], continuing from [resume] when given.
     * Errors of the run (a diverging loss, unreadable data) are thrown to the collector.
     */
    fun pretrain(
        config: PretrainConfig,
        data: EpochSource,
        backend: Backend,
        resume: Path? = null,
        sync: GradientSync = GradientSync.NONE,
        noise: MaskingNoise = MaskingNoise.PER_STEP,
    ): Flow<TrainingEvent> = channelFlow {
        val stop = AtomicBoolean(false)
        val trainer = Pretrainer(config, data, backend)
            .gradientSync(sync)
            .maskingNoise(noise)
            .stopWhen { stop.get() }
            // After cancellation the channel is closed: the send fails at once and the loop goes on to its save.
            .listener { event -> channel.trySendBlocking(event) }
        val executor = Executors.newSingleThreadExecutor { r -> Thread(r, "mae-pretrain").apply { isDaemon = true } }
        val dispatcher = executor.asCoroutineDispatcher()
        try {
            val run = async(dispatcher) {
                resume?.let { trainer.resume(it) }
                trainer.run()
            }
            try {
                run.await()
            } catch (e: CancellationException) {
                // The loop is blocking code that cancellation cannot interrupt: ask it to stop, wait for its save.
                stop.set(true)
                withContext(NonCancellable) { run.join() }
                throw e
            }
        } finally {
            dispatcher.close()
        }
    }

    /**
     * An [EpochSource] over flows: [epoch] gives a cold flow of the batches of an epoch (e.g. the data loader's),
     * [stepsPerEpoch] their planned number. The training thread reads the flow through a small buffer.
     */
    fun epochSource(stepsPerEpoch: Int, epoch: (Int) -> Flow<Batch>): EpochSource = object : EpochSource {
        override fun stepsPerEpoch(): Int = stepsPerEpoch
        override fun epoch(epoch: Int): EpochSource.EpochIterator = FlowIterator(epoch(epoch))
    }
}

/** A blocking iterator over a flow, collected in the background; [close] cancels the collection. */
private class FlowIterator(flow: Flow<Batch>) : EpochSource.EpochIterator {
    private val scope = CoroutineScope(Dispatchers.IO + SupervisorJob())
    private val channel = scope.produce(capacity = 2) { flow.collect { send(it) } }
    private var pending: Batch? = null
    private var done = false

    override fun hasNext(): Boolean {
        if (pending != null) return true
        if (done) return false
        val result = runBlocking { channel.receiveCatching() }
        pending = result.getOrNull()
        if (pending == null) {
            done = true
            scope.cancel()
            result.exceptionOrNull()?.let { throw it }
        }
        return pending != null
    }

    override fun next(): Batch {
        if (!hasNext()) throw NoSuchElementException("the epoch has no more batches")
        return pending!!.also { pending = null }
    }

    override fun remove() = throw UnsupportedOperationException("batches cannot be removed")

    override fun close() {
        done = true
        pending = null
        scope.cancel()
    }
}

/**
 * Reconstructs [imgs] ([B, C, H, W] on the model's backend) with [maskRatio] of the patches masked, masking drawn
 * from [seed]; runs on [Dispatchers.Default] (CPU work) and returns the images and the four-panel pictures.
 */
suspend fun MaeModel.reconstruct(imgs: Tensor, maskRatio: Double = 0.75, seed: Long = 0): Reconstruction =
    withContext(Dispatchers.Default) { Reconstruction.run(this@reconstruct, imgs, maskRatio, seed) }

/**
 * Encoder features of [imgs] without any masking: a host copy of the latent [B, 1 + L, D] (row 0 of each image
 * is the cls token), for retrieval, clustering or probing.
 */
suspend fun MaeModel.features(imgs: Tensor): FloatArray =
    withContext(Dispatchers.Default) { backend().toHost(encode(imgs)) }
