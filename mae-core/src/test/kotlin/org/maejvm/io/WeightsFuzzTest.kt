package org.maejvm.io

import io.kotest.assertions.fail
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.ints.shouldBeGreaterThan
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.ExecutionException
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import java.util.concurrent.TimeoutException
import kotlin.random.Random

/**
 * Random damage to every fixture: each read must return normally or throw a MalformedFileException; any other exception,
 * an Error (OOM, stack overflow) or a read slower than the deadline is a bug.
 */
class WeightsFuzzTest : FunSpec({
    val dir = Files.createTempDirectory("weights-fuzz")
    val pool = Executors.newSingleThreadExecutor { r -> Thread(r, "fuzz-reader").apply { isDaemon = true } }
    afterSpec {
        pool.shutdownNow()
        dir.toFile().deleteRecursively()
    }

    val fixtures = listOf(
        "python_written.safetensors", "plain_state_dict.pth", "legacy_state_dict.pth", "protocol4_state_dict.pth",
        "ordered_state_dict.pth", "mae_checkpoint.pth", "hostile_os_system.pth", "hostile_eval_p4.pth",
    )

    fun mutate(src: ByteArray, r: Random): ByteArray {
        val b = src.copyOf()
        return when (r.nextInt(7)) {
            0 -> b.also { repeat(1 + r.nextInt(4)) { _ -> val i = r.nextInt(b.size); b[i] = (b[i].toInt() xor (1 shl r.nextInt(8))).toByte() } }
            1 -> b.also { val i = r.nextInt(b.size); b[i] = listOf(0, 0xff, 0x7f, 0x80, 1).random(r).toByte() }
            2 -> b.copyOf(r.nextInt(b.size)) // truncation
            3 -> { // a large little-endian number somewhere (lengths, offsets, counts)
                val i = r.nextInt(maxOf(1, b.size - 8))
                val v = listOf(1L shl 60, -1L, Int.MAX_VALUE.toLong(), 1L shl 32, 0x7fffffffffffffffL).random(r)
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(i, v)
                b
            }
            4 -> { val i = r.nextInt(b.size); b.copyOfRange(0, i) + b.copyOfRange(minOf(b.size, i + 1 + r.nextInt(8)), b.size) }
            5 -> { val i = r.nextInt(b.size); b.copyOfRange(0, i) + ByteArray(1 + r.nextInt(8)) { r.nextInt(256).toByte() } + b.copyOfRange(i, b.size) }
            else -> b.also { val i = r.nextInt(b.size); val j = r.nextInt(b.size); b[i] = b[j] }
        }
    }

    /** Runs [read] with a deadline; returns the outcome class for the tally. */
    fun check(label: String, read: () -> Any?): String {
        val future = pool.submit<Any?> { read() }
        return try {
            future.get(10, TimeUnit.SECONDS)
            "ok"
        } catch (e: TimeoutException) {
            future.cancel(true)
            fail("$label: still running after 10 s")
        } catch (e: ExecutionException) {
            when (val c = e.cause) {
                is MalformedFileException -> c.javaClass.simpleName
                else -> throw AssertionError("$label: ${c?.javaClass?.name}: ${c?.message}", c)
            }
        }
    }

    test("a few hundred random mutations of the fixtures end in a result or a MalformedFileException") {
        val r = Random(20240607)
        val tally = sortedMapOf<String, Int>()
        var cases = 0
        for (name in fixtures) {
            val original = Files.readAllBytes(Fixtures.path(name))
            repeat(50) { k ->
                val bytes = mutate(original, r)
                val f = dir.resolve("m$k-$name")
                Files.write(f, bytes)
                val readers: List<Pair<String, () -> Any?>> = if (name.endsWith(".safetensors")) {
                    listOf("read" to { Safetensors.read(f) }, "meta" to { Safetensors.readMetadata(f) })
                } else {
                    listOf("state" to { PthReader.readStateDict(f) }, "object" to { PthReader.readObject(f) })
                }
                for ((what, read) in readers) {
                    val outcome = check("$what of mutation $k of $name", read)
                    tally.merge(outcome, 1, Int::plus)
                    cases++
                }
                Files.delete(f)
            }
        }
        println("fuzz outcomes over $cases reads: $tally")
        cases shouldBeGreaterThan 700
    }

    test("every truncation of the small fixtures fails cleanly") {
        for (name in listOf("python_written.safetensors", "legacy_state_dict.pth", "ordered_state_dict.pth")) {
            val original = Files.readAllBytes(Fixtures.path(name))
            val f: Path = dir.resolve("t-$name")
            for (len in 0 until original.size step 7) {
                Files.write(f, original.copyOf(len))
                val outcome = check("truncation of $name to $len bytes") {
                    if (name.endsWith(".safetensors")) Safetensors.read(f) else PthReader.readStateDict(f)
                }
                if (outcome == "ok") fail("$name truncated to $len of ${original.size} bytes was read without error")
            }
        }
    }
})
