package org.maejvm.dist

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.net.InetAddress
import java.net.InetSocketAddress
import java.net.ServerSocket
import java.time.Duration
import java.util.concurrent.TimeUnit
import org.maejvm.io.Safetensors
import org.maejvm.train.EpochSource
import org.maejvm.train.GradientSync
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns

private fun freePort(): Int = ServerSocket(0, 1, InetAddress.getLoopbackAddress()).use { it.localPort }

/**
 * Data-parallel training is the same computation as one process with the whole batch: N ranks with batch b (each
 * on its shard, gradients averaged) end with the weights of one process with batch N*b over the same images and
 * masks, within float summation-order tolerance.
 */
class DataParallelTest : FunSpec({
    val b = 2

    for (world in listOf(2, 3)) {
        test("$world ranks (threads) with batch $b train to the weights of 1 process with batch ${world * b}") {
            val single = DataParallelRuns.train(GradientSync.NONE, world * b)
            DataParallelRuns.config(b, world).effectiveLr() shouldBe DataParallelRuns.config(world * b, 1).effectiveLr()
            val comms = LocalCommunicator.group(world, Duration.ofSeconds(60))
            val ranks = Ranks.run(world, Duration.ofSeconds(120)) { r -> comms[r].use { DataParallelRuns.train(it, b) } }
            for (r in 1 until world) {
                withClue("rank $r differs from rank 0: replicas must stay bit-identical") {
                    ranks[r].keys shouldBe ranks[0].keys
                    ranks[r].all { (k, v) -> v.contentEquals(ranks[0].getValue(k)) }.shouldBeTrue()
                }
            }
            val (worst, where) = DataParallelRuns.worstDifference(ranks[0], single)
            withClue("largest relative difference $worst at $where") { worst shouldBeLessThan 1e-3 }
            // the runs moved the weights: not a comparison of two untouched models
            val init = Pretrainer(DataParallelRuns.config(b, 1), TinyRuns.source(), TinyRuns.backend())
            val w0 = init.model().backend().toHost(init.model().parameters().get("blocks.0.attn.qkv.weight").value())
            w0.contentEquals(single.getValue("blocks.0.attn.qkv.weight")) shouldBe false
        }
    }

    test("3 ranks in separate OS processes over TCP train to the weights of 1 process with batch ${3 * b}") {
        val world = 3
        val out = tempdir().toPath().resolve("rank0.safetensors")
        val port = freePort()
        val procs = (0 until world).map { r ->
            DataParallelWorker.start("train", port.toString(), r.toString(), world.toString(), b.toString(), out.toString())
        }
        try {
            for ((r, p) in procs.withIndex()) {
                val finished = p.waitFor(180, TimeUnit.SECONDS)
                val log = p.inputStream.readAllBytes().decodeToString()
                withClue("worker $r (exit ${if (finished) p.exitValue() else "none, still running"}):\n$log") {
                    finished.shouldBeTrue()
                    p.exitValue() shouldBe 0
                }
            }
        } finally {
            procs.forEach { it.destroyForcibly() }
        }
        val got = Safetensors.read(out).mapValues { (_, t) -> t.data }
        val single = DataParallelRuns.train(GradientSync.NONE, world * b)
        val (worst, where) = DataParallelRuns.worstDifference(got, single)
        withClue("largest relative difference $worst at $where") { worst shouldBeLessThan 1e-3 }
    }

    test("a peer process that dies: rank 0's all-reduce fails at once naming it") {
        val port = freePort()
        val child = DataParallelWorker.start("die", port.toString(), "1", "2")
        try {
            val options = TcpCommunicator.Options.defaults().withConnectTimeout(Duration.ofSeconds(60))
                .withTimeout(Duration.ofSeconds(60))
            TcpCommunicator.rendezvous(InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0, 2, options).use { comm ->
                child.waitFor(60, TimeUnit.SECONDS).shouldBeTrue()
                val started = System.nanoTime()
                val e = shouldThrow<CommunicatorException> { comm.allReduce(FloatArray(100_000) { 1f }, ReduceOp.SUM) }
                e.message shouldContain "rank 1"
                e.message shouldContain "closed the connection"
                ((System.nanoTime() - started) * 1e-9) shouldBeLessThan 10.0
            }
        } finally {
            child.destroyForcibly()
        }
    }

    test("a communicator whose world size differs from the config's world_size is refused, naming both") {
        val comms = LocalCommunicator.group(2)
        val source = EpochSource.inMemory(TinyRuns.images(8), 8, 1, 8, 8, 2, 3, 0, 2)
        val e = shouldThrow<IllegalArgumentException> {
            Pretrainer(DataParallelRuns.config(2, 1), source, TinyRuns.backend()).gradientSync(comms[0])
        }
        e.message shouldContain "2 ranks"
        e.message shouldContain "world_size=1"
    }

    test("sharded in-memory epochs are disjoint, cover the epoch, and match the big batches of one process") {
        val n = 24
        val imgs = TinyRuns.images(n)
        for (world in listOf(2, 3)) {
            val one = EpochSource.inMemory(imgs, n, 1, 8, 8, world * b, 3)
            val shards = (0 until world).map { EpochSource.inMemory(imgs, n, 1, 8, 8, b, 3, it, world) }
            shards.forEach { it.stepsPerEpoch() shouldBe one.stepsPerEpoch() }
            for (epoch in 0 until 2) {
                val big = one.epoch(epoch).asSequence().map { it.indices().sorted() }.toList()
                val parts = shards.map { it.epoch(epoch).asSequence().map { bt -> bt.indices().toList() }.toList() }
                for (k in big.indices) (0 until world).flatMap { parts[it][k] }.sorted() shouldBe big[k]
                parts.flatten().flatten().sorted() shouldBe (0 until n).toList()
            }
        }
    }
})
