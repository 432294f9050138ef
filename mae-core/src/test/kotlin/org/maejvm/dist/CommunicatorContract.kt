package org.maejvm.dist

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.time.Duration
import java.util.SplittableRandom
import java.util.concurrent.atomic.AtomicIntegerArray
import kotlin.math.abs
import org.maejvm.nn.ParameterSet
import org.maejvm.ops.ReferenceBackend

/** The rank's random input for a test: values of mixed sign and magnitude. */
private fun input(rank: Int, n: Int, seed: Long): FloatArray {
    val rng = SplittableRandom(seed * 1000 + rank)
    return FloatArray(n) { (rng.nextGaussian() * (1 + it % 7)).toFloat() }
}

/** The element-wise sum over ranks in double: the oracle. */
private fun exactSum(world: Int, n: Int, seed: Long): DoubleArray {
    val s = DoubleArray(n)
    for (r in 0 until world) input(r, n, seed).forEachIndexed { i, v -> s[i] += v.toDouble() }
    return s
}

private fun worstError(got: FloatArray, want: DoubleArray, scale: Double): Double {
    var worst = 0.0
    for (i in got.indices) worst = maxOf(worst, abs(got[i] - want[i] * scale) / (1.0 + abs(want[i])))
    return worst
}

/**
 * What every [Communicator] must do, run against each implementation: results against a double-precision
 * oracle, identical bits on all ranks, edge sizes, and failures that end in a message instead of a hang.
 */
abstract class CommunicatorContract(private val factory: GroupFactory) : FunSpec({
    val timeout = Duration.ofSeconds(30)

    for (world in listOf(1, 2, 3, 4)) {
        for (n in listOf(0, 1, 2, 3, 5, 17, 1000, 4099)) {
            test("allReduce SUM and AVERAGE of $n floats over $world ranks match the exact sums, same bits everywhere") {
                val comms = factory.create(world, timeout)
                try {
                    val sums = Ranks.run(world) { r ->
                        val buf = input(r, n, 1)
                        comms[r].allReduce(buf, ReduceOp.SUM)
                        buf
                    }
                    val avgs = Ranks.run(world) { r ->
                        val buf = input(r, n, 1)
                        comms[r].allReduce(buf, ReduceOp.AVERAGE)
                        buf
                    }
                    val want = exactSum(world, n, 1)
                    worstError(sums[0], want, 1.0) shouldBeLessThan 1e-5 * world
                    worstError(avgs[0], want, 1.0 / world) shouldBeLessThan 1e-5 * world
                    for (r in 1 until world) {
                        withClue("rank $r") {
                            sums[r].contentEquals(sums[0]).shouldBeTrue()
                            avgs[r].contentEquals(avgs[0]).shouldBeTrue()
                        }
                    }
                } finally {
                    comms.forEach { it.close() }
                }
            }
        }
    }

    test("allReduce of a range leaves the rest of the buffer alone; repeated calls reuse the group") {
        val world = 3
        val comms = factory.create(world, timeout)
        try {
            val out = Ranks.run(world) { r ->
                val buf = FloatArray(12) { 100f + r }
                for (round in 0 until 5) {
                    for (i in 4 until 9) buf[i] = (r + 1f) * (round + 1)
                    comms[r].allReduce(buf, 4, 5, ReduceOp.SUM)
                    for (i in 4 until 9) buf[i] shouldBe 6f * (round + 1)
                }
                buf
            }
            for (r in 0 until world) {
                (0 until 4).all { out[r][it] == 100f + r }.shouldBeTrue()
                (9 until 12).all { out[r][it] == 100f + r }.shouldBeTrue()
            }
        } finally {
            comms.forEach { it.close() }
        }
    }

    for (world in listOf(1, 2, 3, 4)) {
        test("broadcast from every root over $world ranks copies the root's buffer exactly") {
            val comms = factory.create(world, timeout)
            try {
                for (root in 0 until world) {
                    for (n in listOf(0, 1, 3, 1001)) {
                        val out = Ranks.run(world) { r ->
                            val buf = input(r, n, 5)
                            comms[r].broadcast(buf, root)
                            buf
                        }
                        val want = input(root, n, 5)
                        for (r in 0 until world) withClue("root $root, rank $r, n $n") { out[r].contentEquals(want).shouldBeTrue() }
                    }
                }
            } finally {
                comms.forEach { it.close() }
            }
        }
    }

    test("barrier: no rank leaves before every rank has arrived") {
        val world = 3
        val comms = factory.create(world, timeout)
        try {
            val arrived = AtomicIntegerArray(world)
            val seen = Ranks.run(world) { r ->
                Thread.sleep(60L * r)
                arrived.set(r, 1)
                comms[r].barrier()
                (0 until world).sumOf { arrived.get(it) }
            }
            seen shouldBe List(world) { world }
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("anyRank: a flag raised on one rank is seen by all") {
        val world = 3
        val comms = factory.create(world, timeout)
        try {
            Ranks.run(world) { r -> comms[r].anyRank(r == 2) } shouldBe listOf(true, true, true)
            Ranks.run(world) { r -> comms[r].anyRank(false) } shouldBe listOf(false, false, false)
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("as GradientSync: allReduceMean averages gradients and broadcast copies rank 0's parameters") {
        val world = 3
        val comms = factory.create(world, timeout)
        try {
            val out = Ranks.run(world) { r ->
                val be = ReferenceBackend()
                val ps = ParameterSet(be)
                val w = ps.add("w", true, 2, 3)
                val b = ps.add("b", true, 3)
                val frozen = ps.add("pos_embed", false, 4)
                be.upload(FloatArray(6) { r * 10f + it }, w.value())
                be.upload(FloatArray(3) { -r.toFloat() }, b.value())
                be.upload(FloatArray(4) { r + 0.5f }, frozen.value())
                be.upload(FloatArray(6) { (r + 1f) * it }, w.grad())
                be.upload(FloatArray(3) { r * 3f + it }, b.grad())
                comms[r].allReduceMean(ps)
                comms[r].broadcast(ps)
                listOf(w.grad(), b.grad(), w.value(), b.value(), frozen.value()).map { be.toHost(it).toList() }
            }
            for (r in 0 until world) {
                out[r][0] shouldBe List(6) { 2f * it }          // mean of (r + 1) * i over r = 0..2
                out[r][1] shouldBe List(3) { 3f + it }          // mean of 3r + i
                out[r][2] shouldBe List(6) { it.toFloat() }     // rank 0's values
                out[r][3] shouldBe List(3) { 0f }
                out[r][4] shouldBe List(4) { 0.5f }
            }
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("bad arguments name the problem") {
        val comms = factory.create(2, timeout)
        try {
            shouldThrow<IllegalArgumentException> { comms[0].allReduce(FloatArray(4), 3, 2, ReduceOp.SUM) }.message shouldContain
                "range [3, 3 + 2) is outside a buffer of 4 floats"
            shouldThrow<IllegalArgumentException> { comms[0].broadcast(FloatArray(4), 2) }.message shouldContain
                "root must be a rank in [0, 2), got 2"
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("a peer that closes: the others fail at once with a CommunicatorException naming a rank, no hang") {
        val world = 3
        val comms = factory.create(world, Duration.ofSeconds(20))
        try {
            val started = System.nanoTime()
            val out = Ranks.outcomes(world, Duration.ofSeconds(15)) { r ->
                if (r == 2) {
                    comms[r].close()
                } else {
                    comms[r].allReduce(FloatArray(10_000) { 1f }, ReduceOp.SUM)
                }
            }
            val seconds = (System.nanoTime() - started) * 1e-9
            out[2].isSuccess.shouldBeTrue()
            for (r in 0 until 2) {
                val e = out[r].exceptionOrNull()
                withClue("rank $r: $e") { e.shouldBeInstanceOf<CommunicatorException>() }
                e!!.message shouldContain "rank"
            }
            // the closing rank itself is named by at least one survivor
            (out[0].exceptionOrNull()!!.message + out[1].exceptionOrNull()!!.message) shouldContain "rank 2"
            withClue("failing took $seconds s; the timeout (20 s) must not be needed") { seconds shouldBeLessThan 10.0 }
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("a silent peer: the others time out with a message naming the collective, and stay broken") {
        val world = 2
        val comms = factory.create(world, Duration.ofMillis(700))
        try {
            val e = Ranks.outcomes(1, Duration.ofSeconds(15)) { comms[0].allReduce(FloatArray(5), ReduceOp.SUM) }[0]
                .exceptionOrNull()
            withClue("$e") { e.shouldBeInstanceOf<CommunicatorException>() }
            e!!.message shouldContain "rank 1"
            e.message shouldContain "allReduce"
            // later calls fail at once rather than talking to a ring in an unknown state
            val again = shouldThrow<CommunicatorException> { comms[0].barrier() }
            again.message shouldContain "rank 0"
        } finally {
            comms.forEach { it.close() }
        }
    }

    test("mismatched collectives fail with a message naming both calls") {
        val world = 2
        val comms = factory.create(world, Duration.ofSeconds(5))
        try {
            val out = Ranks.outcomes(world, Duration.ofSeconds(15)) { r ->
                if (r == 0) comms[r].allReduce(FloatArray(8), ReduceOp.SUM) else comms[r].broadcast(FloatArray(8), 0)
            }
            val messages = out.mapNotNull { it.exceptionOrNull()?.message }.joinToString(" | ")
            withClue(messages) {
                out.all { it.isFailure }.shouldBeTrue()
                messages shouldContain "allReduce"
                messages shouldContain "broadcast"
            }
        } finally {
            comms.forEach { it.close() }
        }
    }
})

class LocalCommunicatorTest : CommunicatorContract(Groups.local)

class TcpCommunicatorTest : CommunicatorContract(Groups.tcp(segmentFloats = 64))
