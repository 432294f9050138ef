package org.maejvm.data

import java.util.function.Consumer
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.joinAll
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.maejvm.io.MalformedFileException

/**
 * Turns a [Dataset] into batches, epoch by epoch, the way `main_pretrain.py`'s `DataLoader` +
 * `DistributedSampler` do: a seeded permutation per epoch, an optional shard per rank, decoding and augmentation
 * in parallel on [workers] threads, a few batches prefetched ahead of the consumer.
 *
 * Everything a batch holds is a pure function of (seed, epoch, rank, worldSize): the permutation comes from
 * (seed, epoch), each sample's augmentation from (seed, epoch, index), and batches are emitted in plan order,
 * so 1 or N workers give identical batches.
 *
 * Unreadable items ([Dataset.read] throws) are skipped and counted; the batch then comes out smaller (it is not
 * refilled), and a batch with no readable item is left out. At the end of each fully collected epoch the
 * [DataStats] go to [statsListener] (or, when there is none and something was skipped, to the
 * `org.maejvm.data` System.Logger as a warning) and to [lastStats].
 *
 * Kotlin: collect [epoch]. Java: [iterator] (blocking, [AutoCloseable]) or [forEachBatch].
 */
class DataLoader @JvmOverloads constructor(
    val dataset: Dataset,
    val transform: Transform,
    val batchSize: Int,
    val seed: Long = 0L,
    val shuffle: Boolean = true,
    val dropLast: Boolean = true,
    val rank: Int = 0,
    val worldSize: Int = 1,
    val workers: Int = defaultWorkers(),
    /** Batches decoded ahead of the one the consumer is working on. */
    val prefetch: Int = 2,
    val statsListener: DataStatsListener? = null,
) {
    init {
        require(batchSize >= 1) { "batch size must be >= 1, got $batchSize" }
        require(workers >= 1) { "workers must be >= 1, got $workers" }
        require(prefetch >= 0) { "prefetch must be >= 0, got $prefetch" }
        require(worldSize >= 1 && rank in 0 until worldSize) {
            "shard needs worldSize >= 1 and 0 <= rank < worldSize, got rank=$rank worldSize=$worldSize"
        }
        transform.checkChannels(dataset.channels())
    }

    // Reads are blocking file I/O followed by CPU work: an IO view bounded to `workers` threads.
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO.limitedParallelism(workers)

    /** Statistics of the last fully collected epoch, or null before the first. */
    @Volatile
    var lastStats: DataStats? = null
        private set

    /** Number of batches [epoch] emits on this rank when nothing is skipped. */
    fun batchesPerEpoch(): Int = EpochPlan.batchCount(dataset.size(), batchSize, dropLast, rank, worldSize)

    /** The dataset indices of each batch of [epoch] on this rank, in emission order. */
    fun plan(epoch: Int): List<IntArray> =
        EpochPlan.plan(dataset.size(), batchSize, seed, epoch, shuffle, dropLast, rank, worldSize)

    /**
     * The batches of [epoch] as a cold flow: nothing is read until it is collected, cancelling the collector
     * stops the workers, and collecting it again gives the same batches.
     */
    @JvmSynthetic
    fun epoch(epoch: Int): Flow<Batch> = flow {
        val batches = plan(epoch)
        val stats = StatsBuilder(epoch, rank)
        coroutineScope {
            val inFlight = ArrayDeque<Deferred<Assembled>>()
            var next = 0
            fun startNext() {
                val indices = batches[next++]
                inFlight.addLast(async(dispatcher) { assemble(indices, epoch) })
            }
            while (next < batches.size && inFlight.size <= prefetch) startNext()
            while (inFlight.isNotEmpty()) {
                val done = inFlight.removeFirst().await()
                if (next < batches.size) startNext()
                stats.add(done)
                done.batch?.let { emit(it) }
            }
        }
        val finished = stats.build()
        lastStats = finished
        report(finished)
    }

    /** Java: a blocking iterator over the batches of [epoch]; close it to stop early. */
    fun iterator(epoch: Int): BatchIterator = BatchIterator(epoch(epoch))

    /** Java: runs [action] on every batch of [epoch] on the calling thread, blocking until the epoch is done. */
    fun forEachBatch(epoch: Int, action: Consumer<Batch>) {
        runBlocking { epoch(epoch).collect { action.accept(it) } }
    }

    private class Assembled(val batch: Batch?, val skipped: List<SkippedSample>, val planned: Int)

    /** Reads and transforms one batch, its samples split into contiguous chunks across the workers. */
    private suspend fun assemble(indices: IntArray, epoch: Int): Assembled = coroutineScope {
        val n = indices.size
        val channels = dataset.channels()
        val height = transform.outputHeight()
        val width = transform.outputWidth()
        val perImage = channels * height * width
        val images = FloatArray(n * perImage)
        val labels = IntArray(n)
        val failures = arrayOfNulls<String>(n)
        val chunks = minOf(workers, n)
        (0 until chunks).map { k ->
            launch {
                for (i in k * n / chunks until (k + 1) * n / chunks) {
                    failures[i] = load(indices[i], epoch, images, i * perImage, labels, i, channels)
                }
            }
        }.joinAll()
        val skipped = ArrayList<SkippedSample>()
        for (i in 0 until n) {
            failures[i]?.let { skipped.add(SkippedSample(indices[i], describe(indices[i]), it)) }
        }
        Assembled(compact(images, labels, indices, failures, skipped.size, channels, height, width), skipped, n)
    }

    /** Puts item [index] at slot [slot]; returns why it was skipped, or null. */
    private fun load(index: Int, epoch: Int, images: FloatArray, offset: Int, labels: IntArray, slot: Int,
                     channels: Int): String? {
        val sample = try {
            dataset.read(index)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            return if (e is MalformedFileException) e.detail() else "${e.javaClass.simpleName}: ${e.message}"
        }
        if (sample.image.channels != channels) {
            return "has ${sample.image.channels} channels, the dataset promises $channels"
        }
        transform.apply(sample.image, Seeds.forSample(seed, epoch, index), images, offset)
        labels[slot] = sample.label
        return null
    }

    private fun describe(index: Int): String = try {
        dataset.describe(index)
    } catch (e: Exception) {
        "#$index"
    }

    /** The batch without its failed slots (order kept), or null if nothing is left. */
    private fun compact(images: FloatArray, labels: IntArray, indices: IntArray, failures: Array<String?>,
                        failed: Int, channels: Int, height: Int, width: Int): Batch? {
        val n = indices.size
        if (failed == 0) return Batch(images, n, channels, height, width, labels, indices.copyOf())
        val kept = n - failed
        if (kept == 0) return null
        val perImage = channels * height * width
        val keptImages = FloatArray(kept * perImage)
        val keptLabels = IntArray(kept)
        val keptIndices = IntArray(kept)
        var k = 0
        for (i in 0 until n) {
            if (failures[i] != null) continue
            System.arraycopy(images, i * perImage, keptImages, k * perImage, perImage)
            keptLabels[k] = labels[i]
            keptIndices[k] = indices[i]
            k++
        }
        return Batch(keptImages, kept, channels, height, width, keptLabels, keptIndices)
    }

    private class StatsBuilder(val epoch: Int, val rank: Int) {
        var batches = 0
        var delivered = 0
        var skipped = 0
        val first = ArrayList<SkippedSample>()

        fun add(a: Assembled) {
            if (a.batch != null) {
                batches++
                delivered += a.batch.size
            }
            skipped += a.skipped.size
            for (s in a.skipped) if (first.size < DataStats.MAX_REPORTED) first.add(s)
        }

        fun build() = DataStats(epoch, rank, batches, delivered, skipped, first)
    }

    private fun report(stats: DataStats) {
        val listener = statsListener
        if (listener != null) {
            listener.onEpochEnd(stats)
        } else if (stats.skipped() > 0) {
            LOG.log(System.Logger.Level.WARNING, stats.summary())
        }
    }

    /** Fluent construction for Java callers. */
    class Builder(private val dataset: Dataset, private val transform: Transform) {
        private var batchSize = 64
        private var seed = 0L
        private var shuffle = true
        private var dropLast = true
        private var rank = 0
        private var worldSize = 1
        private var workers = defaultWorkers()
        private var prefetch = 2
        private var listener: DataStatsListener? = null

        fun batchSize(n: Int) = apply { batchSize = n }
        fun seed(s: Long) = apply { seed = s }
        fun shuffle(on: Boolean) = apply { shuffle = on }
        fun dropLast(on: Boolean) = apply { dropLast = on }
        fun shard(rank: Int, worldSize: Int) = apply { this.rank = rank; this.worldSize = worldSize }
        fun workers(n: Int) = apply { workers = n }
        fun prefetch(n: Int) = apply { prefetch = n }
        fun statsListener(l: DataStatsListener?) = apply { listener = l }
        fun build() = DataLoader(dataset, transform, batchSize, seed, shuffle, dropLast, rank, worldSize,
            workers, prefetch, listener)
    }

    companion object {
        private val LOG: System.Logger = System.getLogger("org.maejvm.data")

        /** All available processors: decoding should keep up with a training step that also wants them. */
        @JvmStatic
        fun defaultWorkers(): Int = Runtime.getRuntime().availableProcessors()

        @JvmStatic
        fun builder(dataset: Dataset, transform: Transform): Builder = Builder(dataset, transform)

        /**
         * The `main_pretrain.py` pipeline: MAE's RandomResizedCrop + flip at [inputSize], the dataset's
         * normalisation, shuffled, drop-last.
         */
        @JvmStatic
        @JvmOverloads
        fun forPretraining(dataset: Dataset, inputSize: Int, batchSize: Int, seed: Long = 0L): DataLoader =
            DataLoader(dataset, TrainTransform.mae(inputSize, dataset.normalization()), batchSize, seed)

        /**
         * The `main_finetune.py` evaluation pipeline: resize + centre crop at [inputSize], the dataset's
         * normalisation, in dataset order, keeping the last short batch (every item is evaluated once).
         */
        @JvmStatic
        fun forEvaluation(dataset: Dataset, inputSize: Int, batchSize: Int): DataLoader =
            DataLoader(dataset, EvalTransform(inputSize, dataset.normalization()), batchSize,
                shuffle = false, dropLast = false)
    }
}
