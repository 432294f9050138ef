package org.maejvm.data

import kotlinx.coroutines.CoroutineExceptionHandler
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/**
 * A blocking iterator over one epoch's batches for Java callers. The flow runs in the background (with its own
 * prefetching); [next] waits for the following batch. [close] stops the workers if the epoch is left early.
 * Errors of the pipeline (not skipped images, which never surface here) are rethrown by [hasNext].
 */
class BatchIterator internal constructor(batches: Flow<Batch>) : Iterator<Batch>, AutoCloseable {
    // Failures travel through the channel; the handler only keeps them from being reported twice.
    private val scope = CoroutineScope(Dispatchers.Default + SupervisorJob() + CoroutineExceptionHandler { _, _ -> })
    private val channel = Channel<Batch>(Channel.RENDEZVOUS)
    private var pending: Batch? = null
    private var finished = false

    init {
        scope.launch {
            batches.collect { channel.send(it) }
        }.invokeOnCompletion { cause -> channel.close(cause) }
    }

    override fun hasNext(): Boolean {
        if (pending != null) return true
        if (finished) return false
        val result = runBlocking { channel.receiveCatching() }
        val batch = result.getOrNull()
        if (batch != null) {
            pending = batch
            return true
        }
        finished = true
        scope.cancel()
        result.exceptionOrNull()?.let { throw it }
        return false
    }

    override fun next(): Batch {
        if (!hasNext()) throw NoSuchElementException("the epoch has no more batches")
        val batch = pending!!
        pending = null
        return batch
    }

    override fun close() {
        finished = true
        pending = null
        scope.cancel()
        channel.cancel()
    }
}
