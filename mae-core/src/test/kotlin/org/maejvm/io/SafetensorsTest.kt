package org.maejvm.io

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.IOException
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import kotlin.random.Random
import org.maejvm.tensor.HostTensor

private fun floats(shape: IntArray, seed: Int): HostTensor {
    val r = Random(seed)
    val n = shape.fold(1) { a, b -> a * b }
    return HostTensor(FloatArray(n) { r.nextFloat() * 4 - 2 }, *shape)
}

/** A safetensors file from a header object and raw data bytes, for hand-made broken files. */
private fun rawFile(dir: Path, header: String, data: ByteArray = ByteArray(0), declaredLength: Long? = null): Path {
    val h = header.toByteArray(Charsets.UTF_8)
    val len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declaredLength ?: h.size.toLong()).array()
    val f = Files.createTempFile(dir, "raw", ".safetensors")
    Files.write(f, len + h + data)
    return f
}

class SafetensorsTest : FunSpec({
    val dir = Files.createTempDirectory("safetensors-test")
    afterSpec { dir.toFile().deleteRecursively() }

    test("write then read returns the same tensors, shapes (scalar and empty included), order and metadata") {
        val tensors = linkedMapOf(
            "patch_embed.proj.weight" to floats(intArrayOf(4, 3, 2, 2), 1),
            "cls_token" to floats(intArrayOf(1, 1, 4), 2),
            "scalar" to HostTensor(floatArrayOf(-3.5f)),
            "empty" to HostTensor(FloatArray(0), 0, 3),
            "empty_last" to HostTensor(FloatArray(0), 2, 0),
            "ids_restore" to HostTensor(intArrayOf(3, 0, 2, 1, Int.MAX_VALUE, Int.MIN_VALUE), 2, 3),
            "odd" to floats(intArrayOf(7), 3),
        )
        val meta = mapOf("format" to "pt", "epoch" to "3", "ünïcode" to "√ ok")
        val f = dir.resolve("roundtrip.safetensors")
        Safetensors.write(f, tensors, meta)
        val back = Safetensors.read(f)
        back.keys.toList() shouldBe tensors.keys.toList()
        for ((k, t) in tensors) {
            back[k]!!.shape().toList() shouldBe t.shape().toList()
            back[k]!!.dtype() shouldBe t.dtype()
            if (t.data != null) back[k]!!.data!!.toList() shouldBe t.data!!.toList()
            else back[k]!!.ints!!.toList() shouldBe t.ints!!.toList()
        }
        Safetensors.readMetadata(f) shouldBe meta
        // data section starts 8-byte aligned, as the reference writer does
        (Safetensors.readHeader(f).dataStart() % 8) shouldBe 0L
    }

    test("int tensors can be written as I64 and read back as int32") {
        val f = dir.resolve("i64.safetensors")
        val ids = HostTensor(intArrayOf(5, -1, 0, 7), 4)
        Safetensors.write(f, mapOf("ids" to ids), emptyMap(), Safetensors.IntFormat.I64)
        val h = Safetensors.readHeader(f)
        h.tensors().single().dtype() shouldBe WeightDType.I64
        (h.tensors().single().end() - h.tensors().single().begin()) shouldBe 32L
        Safetensors.read(f)["ids"]!!.ints!!.toList() shouldBe listOf(5, -1, 0, 7)
        Safetensors.readMetadata(f) shouldBe emptyMap()
    }

    test("reads the file written by the Python fixture script with exact values and metadata") {
        val f = Fixtures.path("python_written.safetensors")
        Fixtures.assertMatches("python_written.safetensors", Safetensors.read(f))
        val meta = Fixtures.expected.get("python_written.safetensors#metadata")
        Safetensors.readMetadata(f) shouldBe meta.fields().asSequence().associate { it.key to it.value.asText() }
    }

    context("broken and hostile headers end in MalformedWeightsException naming the problem") {
        val f32x2 = ByteArray(8)
        withData(
            mapOf(
                "header length of 2^60" to Triple("{}", ByteArray(0), 1L shl 60),
                "header length beyond the file" to Triple("{}", ByteArray(0), 100L),
                "negative header length" to Triple("{}", ByteArray(0), -5L),
            ),
        ) { (header, data, len) ->
            val e = shouldThrow<MalformedWeightsException> { Safetensors.read(rawFile(dir, header, data, len)) }
            e.message shouldContain "header length"
        }
        val cases = listOf(
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""" to "Duplicate",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""" to "overlap",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""" to "belong to no tensor",
            """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""" to "truncated or has trailing bytes",
            """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""" to "needs 12 bytes",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""" to "data_offsets",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""" to "begin <= end",
            """{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}""" to "supported: F64",
            """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""" to "non-negative",
            """{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}""" to "non-negative integers",
            """{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}""" to "non-negative integers",
            """{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""" to "more than",
            """{"a":{"dtype":"F32","shape":[2]}}""" to "data_offsets",
            """{"a":[1,2]}""" to "must be an object",
            """{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""" to "must be a string",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} trailing""" to "not valid JSON",
            """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]""" to "not valid JSON",
            "[1,2]" to "must start with '{'",
            "{" + "\"x\":{".repeat(5000) + "}".repeat(5001) to "not valid JSON",
        )
        withData(cases.associate { (h, msg) -> (if (h.length > 60) h.take(57) + "..." else h) to (h to msg) }) { (h, msg) ->
            val file = rawFile(dir, h, f32x2)
            val e = shouldThrow<MalformedWeightsException> { Safetensors.read(file) }
            e.message shouldContain msg
            e.message shouldContain file.fileName.toString()
        }
    }

    test("a file shorter than its length field, or empty, is refused") {
        val empty = Files.createTempFile(dir, "empty", ".safetensors")
        shouldThrow<MalformedWeightsException> { Safetensors.read(empty) }.message shouldContain "too short"
        val bad = Files.createTempFile(dir, "bad", ".safetensors")
        Files.write(bad, byteArrayOf(1, 2, 3))
        shouldThrow<MalformedWeightsException> { Safetensors.readMetadata(bad) }
    }

    test("a failing write leaves the previous file intact and no temporary file behind") {
        val sub = Files.createDirectory(dir.resolve("atomic"))
        val f = sub.resolve("weights.safetensors")
        val original = mapOf("w" to floats(intArrayOf(3, 3), 9))
        Safetensors.write(f, original, mapOf("v" to "1"))
        val before = Files.readAllBytes(f)
        val e = shouldThrow<IOException> {
            AtomicFiles.write(f) { out ->
                out.write(ByteArray(100_000) { 7 }) // more than the buffer: part of it reaches the temp file
                throw IOException("disk full (simulated)")
            }
        }
        e.message shouldContain "simulated"
        Files.readAllBytes(f).toList() shouldBe before.toList()
        Safetensors.read(f)["w"]!!.data!!.toList() shouldBe original["w"]!!.data!!.toList()
        Files.list(sub).use { s -> s.map { it.fileName.toString() }.toList() } shouldBe listOf("weights.safetensors")
    }

    test("writing onto a directory or into a missing directory fails cleanly") {
        val target = Files.createDirectory(dir.resolve("iam-a-dir"))
        Files.writeString(target.resolve("keep.txt"), "keep")
        shouldThrow<IOException> { Safetensors.write(target, mapOf("w" to floats(intArrayOf(2), 1)), emptyMap()) }
            .message shouldContain "is a directory"
        Files.readString(target.resolve("keep.txt")) shouldBe "keep"
        Files.list(dir).use { s -> s.filter { it.fileName.toString().endsWith(".tmp") }.toList() }.shouldBeEmpty()
        shouldThrow<IOException> {
            Safetensors.write(dir.resolve("no/such/dir/w.safetensors"), mapOf("w" to floats(intArrayOf(2), 1)), emptyMap())
        }
    }

    test("a successful rewrite replaces the old content") {
        val f = dir.resolve("rewrite.safetensors")
        Safetensors.write(f, mapOf("a" to floats(intArrayOf(100), 1)), emptyMap())
        Safetensors.write(f, mapOf("b" to floats(intArrayOf(2), 2)), mapOf("gen" to "2"))
        Safetensors.read(f).keys shouldBe setOf("b")
        Safetensors.readMetadata(f) shouldBe mapOf("gen" to "2")
        Safetensors.write(f, mapOf("c" to floats(intArrayOf(1), 3)))
        Safetensors.read(f).keys shouldBe setOf("c")
        Safetensors.readMetadata(f) shouldBe emptyMap()
    }
})
