package org.maejvm.hostile

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
import org.maejvm.data.Cifar10
import org.maejvm.data.Idx
import org.maejvm.data.TestImages
import org.maejvm.io.Fixtures
import org.maejvm.io.MalformedFileException
import org.maejvm.io.Safetensors
import org.maejvm.model.MaeModel
import org.maejvm.optim.AdamW
import org.maejvm.tensor.HostTensor
import org.maejvm.train.Checkpoint
import org.maejvm.train.TinyRuns

/**
 * Seeded fuzzing of every file reader, thousands of cases each: valid files damaged at random (bit flips, bytes set
 * to edge values, truncation, large numbers written over lengths and offsets, deleted and inserted runs, copied
 * bytes) plus generated inputs (random JSON configs and safetensors headers). Every read must end, within a
 * deadline, either with a value or with a MalformedFileException; any other exception or Error fails the test,
 * naming the seed and case so it can be replayed.
 */
class ParserFuzzTest : FunSpec({
    val dir = Files.createTempDirectory("parser-fuzz")
    val pool = Executors.newSingleThreadExecutor { r -> Thread(r, "fuzz-reader").apply { isDaemon = true } }
    afterSpec {
        pool.shutdownNow()
        dir.toFile().deleteRecursively()
    }
    val cases = Integer.getInteger("mae.fuzz.cases", 2000)

    fun mutate(src: ByteArray, r: Random): ByteArray {
        if (src.isEmpty()) return ByteArray(r.nextInt(16)) { r.nextInt(256).toByte() }
        val b = src.copyOf()
        return when (r.nextInt(8)) {
            0 -> b.also { repeat(1 + r.nextInt(4)) { _ -> val i = r.nextInt(b.size); b[i] = (b[i].toInt() xor (1 shl r.nextInt(8))).toByte() } }
            1 -> b.also { val i = r.nextInt(b.size); b[i] = listOf(0, 0xff, 0x7f, 0x80, 1, '"'.code, '['.code, '-'.code).random(r).toByte() }
            2 -> b.copyOf(r.nextInt(b.size)) // truncation
            3 -> { // a large number somewhere, either byte order (lengths, offsets, counts, dimensions)
                val i = r.nextInt(maxOf(1, b.size - 8))
                val v = listOf(1L shl 60, -1L, Int.MAX_VALUE.toLong(), 1L shl 32, 0x7fffffffffffffffL, 65535L shl 16 or 65535L).random(r)
                if (b.size >= 8) ByteBuffer.wrap(b).order(if (r.nextBoolean()) ByteOrder.LITTLE_ENDIAN else ByteOrder.BIG_ENDIAN).putLong(i, v)
                b
            }
            4 -> { val i = r.nextInt(b.size); b.copyOfRange(0, i) + b.copyOfRange(minOf(b.size, i + 1 + r.nextInt(16)), b.size) }
            5 -> { val i = r.nextInt(b.size); b.copyOfRange(0, i) + ByteArray(1 + r.nextInt(16)) { r.nextInt(256).toByte() } + b.copyOfRange(i, b.size) }
            6 -> { val i = r.nextInt(b.size); val j = r.nextInt(b.size); val n = minOf(1 + r.nextInt(32), b.size - maxOf(i, j)); b.copyInto(b, i, j, j + n); b }
            else -> b.also { val i = r.nextInt(b.size); val j = r.nextInt(b.size); b[i] = b[j] }
        }
    }

    /** Reads [bytes] written to [file] with [reader]; returns the outcome's name, fails on anything unexpected. */
    fun attempt(label: String, file: Path, bytes: ByteArray, reader: (Path) -> Any?): String {
        Files.write(file, bytes)
        val future = pool.submit<Any?> { reader(file) }
        return try {
            future.get(10, TimeUnit.SECONDS)
            "ok"
        } catch (e: TimeoutException) {
            future.cancel(true)
            fail("$label: still reading after 10 s")
        } catch (e: ExecutionException) {
            when (val c = e.cause) {
                is MalformedFileException -> c.javaClass.simpleName
                else -> throw AssertionError("$label: ${c?.javaClass?.name}: ${c?.message}", c)
            }
        }
    }

    /** [cases] mutations of the [seeds] (and, when given, generated inputs) through [reader]. */
    fun fuzz(name: String, seed: Int, suffix: String, seeds: List<ByteArray>, reader: (Path) -> Any?,
             generate: ((Random) -> ByteArray)? = null) {
        val r = Random(seed)
        val file = dir.resolve("case$suffix")
        val tally = sortedMapOf<String, Int>()
        val t0 = System.nanoTime()
        for (k in 0 until cases) {
            val bytes = if (generate != null && k % 2 == 1) generate(r) else mutate(seeds[k % seeds.size], r)
            val outcome = attempt("$name case $k (seed $seed)", file, bytes, reader)
            tally.merge(outcome, 1, Int::plus)
        }
        println("fuzz $name: $cases cases in %.1f s: $tally".format((System.nanoTime() - t0) / 1e9))
        // the mutations must reach the error paths, not only harmless bytes
        (tally.filterKeys { it != "ok" }.values.sum()) shouldBeGreaterThan cases / 10
    }

    test("safetensors: damaged files and random headers") {
        val small = dir.resolve("s.safetensors")
        Safetensors.write(small, linkedMapOf("a" to HostTensor(floatArrayOf(1f, 2f, 3f), 3), "b" to HostTensor(intArrayOf(4, 5), 2),
            "s" to HostTensor(floatArrayOf(7f))), mapOf("k" to "v"))
        val seeds = listOf(Files.readAllBytes(small), Files.readAllBytes(Fixtures.path("python_written.safetensors")))
        val dtypes = listOf("F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8", "x")
        fuzz("safetensors", 1, ".safetensors", seeds, { Safetensors.read(it) }) { r ->
            val n = r.nextInt(4)
            var off = 0L
            val entries = (0 until n).joinToString(", ") { i ->
                val shape = List(r.nextInt(3)) { listOf(0L, 1L, 2L, 3L, -1L, 1L shl 31, 1L shl 62).random(r) }
                val len = listOf(0L, 4L, 8L, 12L, -4L, 1L shl 40).random(r)
                val e = "\"t$i\": {\"dtype\": \"${dtypes.random(r)}\", \"shape\": $shape, \"data_offsets\": [$off, ${off + len}]}"
                off += if (r.nextInt(4) == 0) len / 2 else len
                e
            }
            val header = "{$entries}".toByteArray()
            val data = ByteArray(r.nextInt(40))
            ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.size.toLong() + listOf(0, 0, 0, 1, -1, 100).random(r)).array() + header + data
        }
    }

    test("PyTorch .pth: damaged zip, legacy and hostile files") {
        val seeds = listOf("plain_state_dict.pth", "legacy_state_dict.pth", "protocol4_state_dict.pth", "ordered_state_dict.pth",
            "mae_checkpoint.pth", "hostile_os_system.pth").map { Files.readAllBytes(Fixtures.path(it)) }
        fuzz("pth", 2, ".pth", seeds, { org.maejvm.io.PthReader.readStateDict(it) })
    }

    test("images: damaged PNG, JPEG, BMP, GIF and TIFF") {
        val t = TestImages
        val seeds = listOf(t.encode(t.rgb(7, 5), "png"), t.encode(t.gray(6, 9), "png"), t.encode(t.noise(16, 16, 3), "jpg"),
            t.encode(t.rgb(5, 3), "bmp"), t.encode(t.rgb(6, 6), "gif"), t.encode(t.rgb(4, 4), "tiff"))
        fuzz("images", 3, ".png", seeds, { org.maejvm.data.ImageDecoder.read(it, 3) })
    }

    test("IDX files, plain and gzipped, and CIFAR-10 batches") {
        val images = Idx.encode(intArrayOf(3, 4, 5), ByteArray(60) { it.toByte() })
        val labels = Idx.encode(intArrayOf(3), byteArrayOf(0, 1, 2))
        val gz = java.io.ByteArrayOutputStream().also { o -> java.util.zip.GZIPOutputStream(o).use { it.write(images) } }.toByteArray()
        fuzz("idx", 4, ".idx", listOf(images, labels, gz), { Idx.read(it) })
        val cifar = ByteArray(2 * Cifar10.RECORD) { (it % 7).toByte() }
        fuzz("cifar", 5, ".bin", listOf(cifar), { Cifar10(listOf(it), Cifar10.CLASSES) })
    }

    test("pretraining config JSON: damaged and generated documents") {
        val valid = TinyRuns.config(null).toBuilder().clipGrad(1.0).build().toJson().toByteArray()
        val keys = listOf("epochs", "batch_size", "blr", "lr", "mask_ratio", "model", "norm_pix_loss", "seed", "clip_grad",
            "keep_last", "warmup_epochs", "min_lr", "unknown", "img_size", "accum_iter", "world_size", "output_dir")
        val values = listOf("0", "-1", "1", "3", "0.5", "1.0", "1e400", "-0.0", "\"x\"", "null", "true", "[]", "{}", "[1, 2]",
            "99999999999999999999", "{\"img_size\": 8, \"patch_size\": 3}", "NaN", "\"\\u0000\"")
        fuzz("pretrain config", 6, ".json", listOf(valid), { org.maejvm.train.PretrainConfig.read(it) }) { r ->
            val n = r.nextInt(5)
            ("{" + (0 until n).joinToString(", ") { "\"${keys.random(r)}\": ${values.random(r)}" } + "}").toByteArray()
        }
    }

    test("model config JSON and training checkpoints") {
        val model = """{"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8, "depth": 1, "num_heads": 2,
            "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2, "mlp_ratio": 2.0, "norm_pix_loss": false}"""
        fuzz("model config", 7, ".json", listOf(model.toByteArray()), { org.maejvm.viz.ModelFiles.readConfig(it) })

        val c = TinyRuns.config(null, epochs = 1)
        val m = MaeModel(c.modelConfig(), TinyRuns.backend(), c.seed())
        val ck = dir.resolve("seed-checkpoint.safetensors")
        Checkpoint.save(ck, c, Checkpoint.Position(0, 0, 0), m, AdamW.forMae(m.parameters(), 0.05f))
        fuzz("checkpoint", 8, ".safetensors", listOf(Files.readAllBytes(ck)), { Checkpoint.read(it) })
    }
})
