package org.maejvm.api

import java.util.function.IntConsumer
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import org.maejvm.data.DataLoader
import org.maejvm.eval.BatchLogits
import org.maejvm.eval.ClassificationMetrics
import org.maejvm.eval.EvalResult
import org.maejvm.eval.Evaluator
import org.maejvm.eval.FeatureSet
import org.maejvm.eval.Pooling
import org.maejvm.model.MaeModel

/**
 * Encoder features of every image of [loader] (its epoch 0, in plan order: use a loader without shuffling to keep
 * data set order), pooled by [pool]: the MAE encoder on all patches, never masked. For retrieval, clustering or
 * probing. Runs on [Dispatchers.Default]; cancelling stops after the current batch. [onProgress] receives the
 * number of images done after each batch; [metadata] goes into the file [FeatureSet.save] writes.
 */
suspend fun MaeModel.extractFeatures(
    loader: DataLoader,
    pool: Pooling = Pooling.CLS,
    metadata: Map<String, String> = emptyMap(),
    onProgress: (Int) -> Unit = {},
): FeatureSet = withContext(Dispatchers.Default) {
    val model = this@extractFeatures
    val dim = model.config().embedDim()
    val tokens = 1 + model.config().numPatches()
    val rows = ArrayList<FloatArray>()
    val labels = ArrayList<Int>()
    val files = ArrayList<String>()
    loader.epoch(0).collect { batch ->
        val images = model.backend().fromHost(batch.images(), *batch.shape())
        try {
            val latent = model.backend().toHost(model.encode(images))
            val pooled = FloatArray(batch.size() * dim)
            pool.pool(latent, batch.size(), tokens, dim, pooled, 0)
            rows.add(pooled)
        } finally {
            model.backend().free(images)
        }
        for (i in 0 until batch.size()) {
            labels.add(batch.labels()[i])
            files.add(loader.dataset.describe(batch.indices()[i]))
        }
        onProgress(labels.size)
    }
    val features = FloatArray(labels.size * dim)
    var offset = 0
    for (r in rows) {
        r.copyInto(features, offset)
        offset += r.size
    }
    FeatureSet(features, labels.size, dim, labels.toIntArray(), files, loader.dataset.classNames(), pool, metadata)
}

/**
 * Top-1 / top-5 accuracy, mean loss and confusion matrix of [model] over every image of [loader] (epoch 0), as
 * the official `engine_finetune.evaluate`. Runs on [Dispatchers.Default]; [onProgress] receives the images done.
 */
suspend fun evaluate(
    loader: DataLoader,
    model: BatchLogits,
    classNames: List<String> = loader.dataset.classNames(),
    onProgress: (Int) -> Unit = {},
): EvalResult = withContext(Dispatchers.Default) {
    val metrics = ClassificationMetrics(classNames)
    loader.epoch(0).collect { batch ->
        Evaluator.add(metrics, batch, model)
        onProgress(metrics.count().toInt())
    }
    metrics.result()
}

/** The downstream API for Java: blocking calls, no coroutine types. */
object Downstream {
    /** [extractFeatures], blocking; [onProgress] (may be null) receives the images done after each batch. */
    @JvmStatic
    @JvmOverloads
    fun extractFeatures(
        model: MaeModel,
        loader: DataLoader,
        pool: Pooling = Pooling.CLS,
        metadata: Map<String, String> = emptyMap(),
        onProgress: IntConsumer? = null,
    ): FeatureSet = runBlocking { model.extractFeatures(loader, pool, metadata) { onProgress?.accept(it) } }

    /** [evaluate], blocking. */
    @JvmStatic
    @JvmOverloads
    fun evaluate(
        loader: DataLoader,
        model: BatchLogits,
        classNames: List<String> = loader.dataset.classNames(),
        onProgress: IntConsumer? = null,
    ): EvalResult = runBlocking {
        // Qualified: inside this object a bare evaluate(...) would resolve to this method itself.
        org.maejvm.api.evaluate(loader, model, classNames) { onProgress?.accept(it) }
    }
}
