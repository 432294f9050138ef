package org.maejvm.io

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.datatest.withData
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.types.shouldBeInstanceOf
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.Paths
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream
import org.maejvm.tensor.HostTensor

/** A torch-style zip archive holding [pickle] as data.pkl plus the given storage entries. */
fun torchZip(dir: Path, pickle: ByteArray, storages: Map<String, ByteArray> = emptyMap(), prefix: String = "archive"): Path {
    val f = Files.createTempFile(dir, "handmade", ".pth")
    ZipOutputStream(Files.newOutputStream(f)).use { z ->
        z.putNextEntry(ZipEntry("$prefix/data.pkl")); z.write(pickle); z.closeEntry()
        for ((k, v) in storages) {
            z.putNextEntry(ZipEntry("$prefix/data/$k")); z.write(v); z.closeEntry()
        }
        z.putNextEntry(ZipEntry("$prefix/version")); z.write("3\n".toByteArray()); z.closeEntry()
    }
    return f
}

/** Builds protocol-2 pickles opcode by opcode. */
class P {
    private val out = java.io.ByteArrayOutputStream()
    fun op(vararg b: Int) = apply { b.forEach { out.write(it) } }
    fun proto() = op(0x80, 2)
    fun str(s: String) = apply {
        val b = s.toByteArray(); op('X'.code); le32(b.size); out.write(b)
    }
    fun int1(v: Int) = op('K'.code, v)
    fun int4(v: Int) = op('J'.code).le32(v)
    fun le32(v: Int) = op(v and 0xff, (v shr 8) and 0xff, (v shr 16) and 0xff, (v ushr 24) and 0xff)
    fun global(module: String, name: String) = apply { op('c'.code); out.write("$module\n$name\n".toByteArray()) }
    fun mark() = op('('.code)
    fun tuple() = op('t'.code)
    fun stop() = op('.'.code)
    fun bytes(): ByteArray = out.toByteArray()
    /** _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict()) */
    fun tensor(key: String, numel: Int, offset: Int, size: List<Int>, stride: List<Int>) = apply {
        global("torch._utils", "_rebuild_tensor_v2").mark()
        mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").int4(numel).tuple().op('Q'.code)
        int4(offset); mark(); size.forEach { int4(it) }; tuple(); mark(); stride.forEach { int4(it) }; tuple()
        op(0x89).global("collections", "OrderedDict").op(')'.code, 'R'.code)
        tuple().op('R'.code)
    }
}

private fun le(vararg f: Float): ByteArray {
    val b = java.nio.ByteBuffer.allocate(4 * f.size).order(java.nio.ByteOrder.LITTLE_ENDIAN)
    f.forEach { b.putFloat(it) }
    return b.array()
}

class PthReaderTest : FunSpec({
    val dir = Files.createTempDirectory("pth-test")
    afterSpec { dir.toFile().deleteRecursively() }

    context("plain state dicts: F32/F16/BF16/F64/int/bool, scalar, empty, transposed and shared-storage views") {
        withData("plain_state_dict.pth", "legacy_state_dict.pth", "protocol4_state_dict.pth") { name ->
            Fixtures.assertMatches("plain_state_dict.pth", PthReader.readStateDict(Fixtures.path(name)))
        }
    }

    test("an OrderedDict state dict (with its _metadata attribute) reads in module order") {
        Fixtures.assertMatches("ordered_state_dict.pth", PthReader.readStateDict(Fixtures.path("ordered_state_dict.pth")))
    }

    test("an official-style MAE checkpoint: readStateDict finds 'model'") {
        Fixtures.assertMatches("mae_checkpoint.pth", PthReader.readStateDict(Fixtures.path("mae_checkpoint.pth")))
    }

    test("readObject gives epoch, args (argparse.Namespace), optimizer state and numpy scalars") {
        val top = PthReader.readObject(Fixtures.path("mae_checkpoint.pth")).shouldBeInstanceOf<Map<*, *>>()
        top.keys.toList() shouldBe listOf("model", "optimizer", "epoch", "scaler", "args", "best_acc", "np_steps")
        top["epoch"] shouldBe 3L
        top["best_acc"] shouldBe 0.875
        top["np_steps"] shouldBe 1200L
        top["scaler"] shouldBe mapOf("scale" to 65536.0, "growth_factor" to 2.0, "_growth_tracker" to 10L)
        val args = top["args"].shouldBeInstanceOf<Map<*, *>>()
        args["model"] shouldBe "mae_vit_base_patch16"
        args["input_size"] shouldBe 224L
        args["mask_ratio"] shouldBe 0.75
        args["norm_pix_loss"] shouldBe true
        args["lr"] shouldBe null
        args.containsKey("lr") shouldBe true
        val opt = top["optimizer"].shouldBeInstanceOf<Map<*, *>>()
        val group = (opt["param_groups"] as List<*>).single() as Map<*, *>
        group["betas"] shouldBe listOf(0.9, 0.95)
        group["params"] shouldBe listOf(0L, 1L, 2L, 3L)
        group["foreach"] shouldBe null
        val state = opt["state"] as Map<*, *>
        val flat = LinkedHashMap<String, HostTensor>()
        for ((pid, st) in state) for ((k, v) in st as Map<*, *>) flat["$pid.$k"] = v as HostTensor
        Fixtures.assertMatches("mae_checkpoint.pth#optimizer", flat)
        Fixtures.assertMatches("mae_checkpoint.pth", (top["model"] as Map<*, *>).mapKeys { it.key as String }.mapValues { it.value as HostTensor })
    }

    context("hostile pickles are refused with the global named, and nothing runs") {
        withData(
            "hostile_os_system.pth" to "posix.system",
            "hostile_eval_p4.pth" to "builtins.eval",
        ) { (name, global) ->
            val marker = Paths.get("mae_pwned_marker")
            Files.deleteIfExists(marker)
            for (read in listOf<(Path) -> Any>({ PthReader.readStateDict(it) }, { PthReader.readObject(it) })) {
                val e = shouldThrow<RefusedPickleException> { read(Fixtures.path(name)) }
                e.message shouldContain "refusing to load"
                e.message shouldContain name
                e.message shouldContain "pickle references $global"
                e.message shouldContain "only tensor rebuilding is allowed"
            }
            Files.exists(marker) shouldBe false
        }
    }

    test("a hand-made archive: non-contiguous view with offset, shared storage, tied (memoised) tensor") {
        // storage 0 holds 0..11; a is its 3x2 column slice (offset 1, strides (4,2)), b the same storage 4x3.
        val p = P().proto().op('}'.code).mark()
            .str("a").tensor("0", 12, 1, listOf(3, 2), listOf(4, 2)).op('q'.code, 1)
            .str("b").tensor("0", 12, 0, listOf(4, 3), listOf(3, 1))
            .str("tied").op('h'.code, 1)
            .op('u'.code).stop()
        val f = torchZip(dir, p.bytes(), mapOf("0" to le(*FloatArray(12) { it.toFloat() })))
        val sd = PthReader.readStateDict(f)
        sd.keys.toList() shouldBe listOf("a", "b", "tied")
        sd["a"]!!.data!!.toList() shouldBe listOf(1f, 3f, 5f, 7f, 9f, 11f)
        sd["a"]!!.shape().toList() shouldBe listOf(3, 2)
        sd["b"]!!.data!!.toList() shouldBe (0 until 12).map { it.toFloat() }
        sd["tied"]!!.data!!.toList() shouldBe sd["a"]!!.data!!.toList()
    }

    test("stride-0 views that would need more heap than the JVM has are refused before anything is allocated") {
        // ten views of one float, each 65536 x 32767 elements: about 86 GB of float32 output in all
        val p = P().proto().op('}'.code).mark()
        repeat(10) { i -> p.str("w$i").tensor("0", 1, 0, listOf(65536, 32767), listOf(0, 0)) }
        val f = torchZip(dir, p.op('u'.code).stop().bytes(), mapOf("0" to le(1f)))
        val e = shouldThrow<MalformedWeightsException> { PthReader.readStateDict(f) }
        e.message shouldContain "raise -Xmx"
    }

    context("hand-made malformed archives fail with a clear IOException") {
        val ok = mapOf("0" to le(1f, 2f, 3f, 4f))
        fun one(vararg t: P.() -> P): ByteArray {
            val p = P().proto().op('}'.code).mark()
            t.forEach { p.it() }
            return p.op('u'.code).stop().bytes()
        }
        withData(
            mapOf(
                "view past the storage" to Triple(one({ str("w").tensor("0", 4, 2, listOf(3), listOf(1)) }), ok, "reaches past"),
                "huge stride overflows" to Triple(one({ str("w").tensor("0", 4, 0, listOf(2, 2), listOf(Int.MAX_VALUE, 1)) }), ok, "reaches past"),
                "storage entry missing" to Triple(one({ str("w").tensor("7", 4, 0, listOf(4), listOf(1)) }), ok, "no entry"),
                "storage smaller than declared" to Triple(one({ str("w").tensor("0", 8, 0, listOf(8), listOf(1)) }), ok, "should hold 8"),
                "size/stride rank mismatch" to Triple(one({ str("w").tensor("0", 4, 0, listOf(2, 2), listOf(1)) }), ok, "same number of dimensions"),
                "storage key with a path" to Triple(one({ str("w").tensor("../../x", 4, 0, listOf(4), listOf(1)) }), ok, "storage key"),
                "no STOP" to Triple(P().proto().op('}'.code).bytes(), ok, "pickle ends"),
                "unknown opcode" to Triple(P().proto().op(0xff).bytes(), ok, "unknown pickle opcode"),
                "BINUNICODE longer than the pickle" to Triple(P().proto().op('X'.code).le32(0x7fffffff).bytes(), ok, "declares"),
                "list as dict key" to Triple(P().proto().op('}'.code, ']'.code, 'N'.code, 's'.code).stop().bytes(), ok, "dict key"),
                "self-containing list as key" to Triple(
                    P().proto().op('}'.code, ']'.code, 'q'.code, 0, 'h'.code, 0, 'a'.code, 'N'.code, 's'.code).stop().bytes(), ok, "dict key"),
                "BINGET of an unset memo slot" to Triple(P().proto().op('h'.code, 9).stop().bytes(), ok, "memo entry 9"),
                "APPEND with no list" to Triple(P().proto().op('N'.code, 'N'.code, 'a'.code).stop().bytes(), ok, "needs a list"),
                "top level not a dict" to Triple(P().proto().op(']'.code).stop().bytes(), ok, "not a dict"),
                "dict without tensors" to Triple(P().proto().op('}'.code).str("epoch").int1(3).op('s'.code).stop().bytes(), ok, "found no tensors"),
                "protocol 9" to Triple(P().op(0x80, 9).bytes(), ok, "protocol 9"),
            ),
        ) { (pickle, storages, msg) ->
            val f = torchZip(dir, pickle, storages)
            val e = shouldThrow<MalformedWeightsException> { PthReader.readStateDict(f) }
            e.message shouldContain msg
        }
    }

    context("refused constructs: calling a storage type, unknown persistent ids, globals via INST") {
        withData(
            mapOf(
                "REDUCE of a storage type" to (P().proto().global("torch", "FloatStorage").op(')'.code, 'R'.code).stop().bytes() to "only allowed as a storage type"),
                "REDUCE of a string" to (P().proto().str("os.system").op(')'.code, 'R'.code).stop().bytes() to "only allowlisted globals can be called"),
                "persistent id of a module" to (P().proto().mark().str("module").int1(1).int1(2).tuple().op('Q'.code).stop().bytes() to "persistent id"),
                "INST of subprocess.Popen" to (P().proto().mark().str("ls").op('i'.code).bytes() + "subprocess\nPopen\n".toByteArray() + byteArrayOf('.'.code.toByte()) to "subprocess.Popen"),
                "STACK_GLOBAL of os.system" to (P().proto().str("os").str("system").op(0x93).stop().bytes() to "os.system"),
                "storage type builtins.eval" to (P().proto().mark().str("storage").global("builtins", "eval").str("0").str("cpu").int1(1).tuple().op('Q'.code).stop().bytes() to "builtins.eval"),
                "NEWOBJ of OrderedDict" to (P().proto().global("collections", "OrderedDict").op(')'.code, 0x81).stop().bytes() to "NEWOBJ"),
                "extension registry" to (P().proto().op(0x82, 1).stop().bytes() to "extension registry"),
            ),
        ) { (pickle, msg) ->
            val e = shouldThrow<RefusedPickleException> { PthReader.readObject(torchZip(dir, pickle)) }
            e.message shouldContain msg
        }
    }

    test("zip entries that point outside the archive are refused") {
        val f = Files.createTempFile(dir, "traversal", ".pth")
        ZipOutputStream(Files.newOutputStream(f)).use { z ->
            z.putNextEntry(ZipEntry("archive/data.pkl")); z.write(P().proto().op('}'.code).stop().bytes()); z.closeEntry()
            z.putNextEntry(ZipEntry("../../evil.sh")); z.write("boom".toByteArray()); z.closeEntry()
        }
        shouldThrow<MalformedWeightsException> { PthReader.readObject(f) }.message shouldContain "outside the archive"
    }

    test("a highly compressible deflated storage (zip bomb) is refused before it is inflated") {
        val f = Files.createTempFile(dir, "bomb", ".pth")
        val n = 4_000_000 // 16 MB of zeros deflate to a few KB
        ZipOutputStream(Files.newOutputStream(f)).use { z ->
            z.putNextEntry(ZipEntry("archive/data.pkl"))
            z.write(P().proto().op('}'.code).str("w").tensor("0", n, 0, listOf(n), listOf(1)).op('s'.code).stop().bytes())
            z.closeEntry()
            z.putNextEntry(ZipEntry("archive/data/0")); z.write(ByteArray(4 * n)); z.closeEntry()
        }
        shouldThrow<MalformedWeightsException> { PthReader.readStateDict(f) }.message shouldContain "zip bomb"
    }

    test("files that are not torch.save output say what they are") {
        val txt = Files.writeString(dir.resolve("notes.pth"), "hello world")
        shouldThrow<MalformedWeightsException> { PthReader.readStateDict(txt) }.message shouldContain "not a PyTorch file"
        val st = Fixtures.path("python_written.safetensors")
        shouldThrow<MalformedWeightsException> { PthReader.readStateDict(st) }.message shouldContain "not a PyTorch file"
        val tar = dir.resolve("old.tar.pth")
        Files.write(tar, ByteArray(512).also { "ustar".toByteArray().copyInto(it, 257) })
        shouldThrow<MalformedWeightsException> { PthReader.readStateDict(tar) }.message shouldContain "re-save"
        val empty = Files.createFile(dir.resolve("empty.pth"))
        shouldThrow<MalformedWeightsException> { PthReader.readStateDict(empty) }
    }
})
