package org.maejvm.dist

import java.net.InetAddress
import java.net.InetSocketAddress
import java.time.Duration
import java.util.concurrent.ExecutionException
import java.util.concurrent.Executors
import java.util.concurrent.Future
import java.util.concurrent.TimeUnit

/** Makes the communicators of one group of [world] ranks (ready to use). */
fun interface GroupFactory {
    fun create(world: Int, timeout: Duration): List<Communicator>
}

object Groups {
    val local = GroupFactory { w, t -> LocalCommunicator.group(w, t) }

    /** A TCP ring on loopback; small segments by default so pipelining across many segments is exercised. */
    fun tcp(segmentFloats: Int) = GroupFactory { w, t ->
        val loop = InetAddress.getLoopbackAddress()
        val endpoints = (0 until w).map { TcpCommunicator.bind(InetSocketAddress(loop, 0)) }
        val addresses = endpoints.map { it.address() }
        val options = TcpCommunicator.Options.defaults().withTimeout(t).withConnectTimeout(Duration.ofSeconds(20))
            .withSegmentFloats(segmentFloats)
        // Every rank must be joining at once: the ring connects and accepts concurrently.
        Ranks.run(w) { r -> endpoints[r].join(r, addresses, options) as Communicator }
    }
}

object Ranks {
    /**
     * Runs [body] for ranks 0 until [world], each on its own thread; returns the results by rank, or throws the
     * first rank's failure. A rank still running after [limit] fails the call (a test must never hang).
     */
    fun <T> run(world: Int, limit: Duration = Duration.ofSeconds(60), body: (Int) -> T): List<T> =
        outcomes(world, limit, body).map { it.getOrThrow() }

    /** As [run], but every rank's result or failure. */
    fun <T> outcomes(world: Int, limit: Duration = Duration.ofSeconds(60), body: (Int) -> T): List<Result<T>> {
        val pool = Executors.newFixedThreadPool(world) { r -> Thread(r).apply { isDaemon = true } }
        try {
            val futures: List<Future<T>> = (0 until world).map { r -> pool.submit<T> { body(r) } }
            val deadline = System.nanoTime() + limit.toNanos()
            return futures.mapIndexed { r, f ->
                try {
                    Result.success(f.get(maxOf(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS))
                } catch (e: ExecutionException) {
                    Result.failure(e.cause!!)
                } catch (e: java.util.concurrent.TimeoutException) {
                    Result.failure(AssertionError("rank $r still running after $limit: it hangs"))
                }
            }
        } finally {
            pool.shutdownNow()
        }
    }
}
