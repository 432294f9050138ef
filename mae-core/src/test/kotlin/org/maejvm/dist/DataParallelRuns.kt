package org.maejvm.dist

import java.net.InetAddress
import java.net.InetSocketAddress
import java.nio.file.Path
import java.time.Duration
import kotlin.math.abs
import org.maejvm.io.Safetensors
import org.maejvm.tensor.HostTensor
import org.maejvm.train.EpochSource
import org.maejvm.train.GradientSync
import org.maejvm.train.MaskingNoise
import org.maejvm.train.PretrainConfig
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns

/** The tiny data-parallel run the equivalence tests compare: [IMAGES] images, 2 epochs, per-image masks. */
object DataParallelRuns {
    const val IMAGES = 24

    fun config(batch: Int, world: Int): PretrainConfig =
        TinyRuns.config(null, epochs = 2, batch = batch).toBuilder().minLr(1e-6).worldSize(world).build()

    /** Trains rank [rank] of [world] with per-rank batch [batch]; returns the final weights by name. */
    fun train(sync: GradientSync, batch: Int): Map<String, FloatArray> {
        val world = sync.worldSize()
        val source = EpochSource.inMemory(TinyRuns.images(IMAGES), IMAGES, 1, 8, 8, batch, 3, sync.rank(), world)
        val trainer = Pretrainer(config(batch, world), source, TinyRuns.backend())
            .maskingNoise(MaskingNoise.PER_IMAGE)
            .gradientSync(sync)
        trainer.run()
        val be = trainer.model().backend()
        return trainer.model().parameters().all().associate { it.name() to be.toHost(it.value()) }
    }

    /**
     * The largest relative difference between two weight sets. The key bias (second third of qkv.bias) has a zero
     * true gradient (it shifts a softmax row by a constant), so its gradient is rounding noise that Adam turns
     * into lr-sized steps: it is left out (as in the accum_iter equivalence test).
     */
    fun worstDifference(a: Map<String, FloatArray>, b: Map<String, FloatArray>): Pair<Double, String> {
        require(a.keys == b.keys) { "different parameters: ${a.keys} vs ${b.keys}" }
        var worst = 0.0
        var where = ""
        for ((k, v) in a) {
            val u = b.getValue(k)
            val skip = if (k.endsWith("attn.qkv.bias")) (v.size / 3 until 2 * v.size / 3) else IntRange.EMPTY
            for (i in v.indices) {
                if (i in skip) continue
                val d = abs(v[i] - u[i]).toDouble() / (1e-3 + abs(u[i]))
                if (d > worst) { worst = d; where = "$k[$i]: ${v[i]} vs ${u[i]}" }
            }
        }
        return worst to where
    }
}

/**
 * One rank in its own JVM: `DataParallelWorker train <coordinatorPort> <rank> <world> <batch> <out.safetensors>`
 * trains over a TCP ring found through rank 0's coordinator port and rank 0 writes the weights;
 * `DataParallelWorker die <coordinatorPort> <rank> <world>` joins and then halts without closing anything.
 */
object DataParallelWorker {
    @JvmStatic
    fun main(args: Array<String>) {
        val coordinator = InetSocketAddress(InetAddress.getLoopbackAddress(), args[1].toInt())
        val rank = args[2].toInt()
        val world = args[3].toInt()
        val options = TcpCommunicator.Options.defaults().withConnectTimeout(Duration.ofSeconds(60))
            .withTimeout(Duration.ofSeconds(60))
        val comm = TcpCommunicator.rendezvous(coordinator, rank, world, options)
        when (args[0]) {
            "die" -> Runtime.getRuntime().halt(3)
            "train" -> comm.use {
                val weights = DataParallelRuns.train(comm, args[4].toInt())
                if (rank == 0) {
                    Safetensors.write(Path.of(args[5]), weights.mapValues { (_, v) -> HostTensor(v, v.size) })
                }
            }
            else -> error("unknown mode ${args[0]}")
        }
    }

    /** Starts a worker JVM with this test class path. */
    fun start(vararg args: String): Process {
        val java = Path.of(System.getProperty("java.home"), "bin", "java").toString()
        val cp = System.getProperty("surefire.test.class.path") ?: System.getProperty("java.class.path")
        return ProcessBuilder(listOf(java, "--add-modules=jdk.incubator.vector", "-cp", cp,
            DataParallelWorker::class.java.name) + args)
            .redirectErrorStream(true)
            .start()
    }
}
