package org.maejvm.hostile

import java.io.ByteArrayOutputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files
import java.nio.file.Path
import java.util.zip.CRC32
import java.util.zip.GZIPOutputStream
import java.util.zip.ZipEntry
import java.util.zip.ZipOutputStream
import javax.imageio.ImageIO
import org.maejvm.data.Cifar10
import org.maejvm.data.Idx
import org.maejvm.data.ImageDecoder
import org.maejvm.data.TestImages
import org.maejvm.io.P
import org.maejvm.io.PthReader
import org.maejvm.io.Safetensors
import org.maejvm.tensor.HostTensor
import org.maejvm.train.Checkpoint
import org.maejvm.train.PretrainConfig
import org.maejvm.train.TinyRuns
import org.maejvm.viz.ModelFiles

/** The library's file readers, as the hostile files are fed to them. */
enum class Reader(val read: (Path) -> Any?) {
    SAFETENSORS({ Safetensors.read(it) }),
    PTH({ PthReader.readStateDict(it) }),
    IMAGE({ ImageDecoder.read(it, 3) }),
    IDX({ Idx.read(it) }),
    CIFAR({ Cifar10(listOf(it), Cifar10.CLASSES) }),
    PRETRAIN_CONFIG({ PretrainConfig.read(it) }),
    MODEL_CONFIG({ ModelFiles.readConfig(it) }),
    CHECKPOINT({ Checkpoint.read(it) }),
}

/**
 * One hostile file: its name under test resources `hostile/`, the reader it targets, a fragment the refusal must
 * contain, whether it is a refused pickle (no code may run), and how to build its bytes.
 */
class Hostile(val name: String, val reader: Reader, val expected: String, val refusedPickle: Boolean = false,
              val bytes: (Path) -> ByteArray)

/**
 * The corpus of hostile files under `mae-core/src/test/resources/hostile/`, built here so it can be regenerated
 * (`HostileFilesTest` with `-Dmae.hostile.write=<folder>` writes them). Each file is small and must be refused by its
 * reader with a [org.maejvm.io.MalformedFileException] whose message names the file and the problem.
 */
object HostileCorpus {
    // ------------------------------------------------------------------ byte helpers

    private fun le64(v: Long) = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()
    private fun le32(v: Int) = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()
    private fun be32(v: Int) = ByteBuffer.allocate(4).putInt(v).array()
    private fun be16(v: Int) = byteArrayOf((v shr 8).toByte(), v.toByte())
    private fun le16(v: Int) = byteArrayOf(v.toByte(), (v shr 8).toByte())

    /** A safetensors file: length, the header text as given, then [data]. */
    private fun safetensors(header: String, data: ByteArray = ByteArray(0)): ByteArray {
        val h = header.toByteArray()
        return le64(h.size.toLong()) + h + data
    }

    private fun zip(entries: List<Pair<String, ByteArray>>, stored: Boolean = false): ByteArray {
        val out = ByteArrayOutputStream()
        ZipOutputStream(out).use { z ->
            for ((name, content) in entries) {
                val e = ZipEntry(name)
                e.time = 315_532_800_000L // fixed, so the bytes do not depend on when they were built
                if (stored) {
                    e.method = ZipEntry.STORED
                    e.size = content.size.toLong()
                    e.compressedSize = content.size.toLong()
                    e.crc = CRC32().also { it.update(content) }.value
                }
                z.putNextEntry(e); z.write(content); z.closeEntry()
            }
        }
        return out.toByteArray()
    }

    /** Sets the uncompressed size that the central directory records for [entry] (what readers trust). */
    private fun patchDeclaredSize(zip: ByteArray, entry: String, size: Long): ByteArray {
        val b = zip.copyOf()
        val bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN)
        var found = false
        for (i in 0 until b.size - 46) {
            if (bb.getInt(i) != 0x02014b50) continue
            val nameLen = bb.getShort(i + 28).toInt() and 0xffff
            if (String(b, i + 46, nameLen) == entry) {
                bb.putInt(i + 24, size.toInt())
                found = true
            }
        }
        check(found) { "no central directory entry $entry" }
        return b
    }

    private fun torchZip(pickle: ByteArray, vararg storages: Pair<String, ByteArray>) =
        zip(listOf("archive/data.pkl" to pickle) + storages.map { "archive/data/${it.first}" to it.second } +
            listOf("archive/version" to "3\n".toByteArray()))

    /** {'w': tensor of [numel] floats in storage '0'} */
    private fun stateDict(numel: Int) =
        P().proto().op('}'.code).str("w").tensor("0", numel, 0, listOf(numel), listOf(1)).op('s'.code).stop().bytes()

    private fun png(): ByteArray = TestImages.encode(TestImages.noise(16, 16, 5), "png")
    private fun jpeg(): ByteArray = TestImages.encode(TestImages.noise(32, 32, 6), "jpg")

    /** A PNG whose IHDR declares [w] x [h] (CRC fixed up), followed by a tiny IDAT and IEND. */
    private fun pngDeclaring(w: Int, h: Int): ByteArray {
        fun chunk(type: String, data: ByteArray): ByteArray {
            val t = type.toByteArray()
            val crc = CRC32().also { it.update(t); it.update(data) }.value.toInt()
            return be32(data.size) + t + data + be32(crc)
        }
        val ihdr = be32(w) + be32(h) + byteArrayOf(8, 2, 0, 0, 0) // 8-bit RGB
        val idat = java.util.zip.Deflater().run {
            setInput(ByteArray(64)); finish()
            val buf = ByteArray(128); val n = deflate(buf); buf.copyOf(n)
        }
        return byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 13, 10, 26, 10) +
            chunk("IHDR", ihdr) + chunk("IDAT", idat) + chunk("IEND", ByteArray(0))
    }

    /** A BMP header declaring [w] x [h] 24-bit pixels with almost no pixel data. */
    private fun bmpDeclaring(w: Int, h: Int): ByteArray {
        val info = le32(40) + le32(w) + le32(h) + le16(1) + le16(24) + le32(0) + le32(0) + le32(2835) + le32(2835) +
            le32(0) + le32(0)
        val pixels = ByteArray(16)
        val size = 14 + info.size + pixels.size
        return byteArrayOf('B'.code.toByte(), 'M'.code.toByte()) + le32(size) + le32(0) + le32(14 + info.size) + info + pixels
    }

    /** A GIF whose screen and first image declare [w] x [h]. */
    private fun gifDeclaring(w: Int, h: Int): ByteArray =
        "GIF89a".toByteArray() + le16(w) + le16(h) + byteArrayOf(0x80.toByte(), 0, 0) + ByteArray(6) +
            byteArrayOf(0x2c) + le16(0) + le16(0) + le16(w) + le16(h) + byteArrayOf(0) +
            byteArrayOf(2, 2, 0x4c, 0x01, 0) + byteArrayOf(0x3b)

    /** A baseline JPEG start whose SOF0 declares [w] x [h]. */
    private fun jpegDeclaring(w: Int, h: Int): ByteArray {
        val real = jpeg()
        // find SOF0 (ff c0) and overwrite its height and width
        val b = real.copyOf()
        for (i in 0 until b.size - 9) {
            if ((b[i].toInt() and 0xff) == 0xff && (b[i + 1].toInt() and 0xff) == 0xc0) {
                be16(h).copyInto(b, i + 5); be16(w).copyInto(b, i + 7)
                return b
            }
        }
        error("no SOF0 in the test JPEG")
    }

    private fun gzip(b: ByteArray): ByteArray = ByteArrayOutputStream().also { o -> GZIPOutputStream(o).use { it.write(b) } }.toByteArray()

    private fun idxHeader(vararg dims: Int): ByteArray = be32(0x0800 or dims.size) + dims.fold(ByteArray(0)) { a, d -> a + be32(d) }

    private fun json(s: String) = s.trimIndent().toByteArray()

    private const val TINY_MODEL = """"model": {"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8, "depth": 1,
        "num_heads": 2, "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2, "mlp_ratio": 2.0,
        "norm_pix_loss": false}"""

    /** A real tiny checkpoint with its metadata changed by [edit]. */
    private fun checkpoint(dir: Path, edit: (MutableMap<String, String>) -> Unit): ByteArray {
        val c = TinyRuns.config(null, epochs = 1)
        val model = org.maejvm.model.MaeModel(c.modelConfig(), TinyRuns.backend(), c.seed())
        val opt = org.maejvm.optim.AdamW.forMae(model.parameters(), 0.05f)
        val f = dir.resolve("ck.tmp.safetensors")
        Checkpoint.save(f, c, Checkpoint.Position(0, 0, 0), model, opt)
        val meta = LinkedHashMap(Safetensors.readMetadata(f)).also(edit)
        Safetensors.write(f, Safetensors.read(f), meta)
        return Files.readAllBytes(f).also { Files.delete(f) }
    }

    // ------------------------------------------------------------------ the corpus

    val all: List<Hostile> = listOf(
        // safetensors
        Hostile("st_empty.safetensors", Reader.SAFETENSORS, "too short for a safetensors file") { ByteArray(0) },
        Hostile("st_header_length_huge.safetensors", Reader.SAFETENSORS, "header length field says 18446744073709551615") {
            ByteArray(16) { -1 }
        },
        Hostile("st_header_past_end.safetensors", Reader.SAFETENSORS, "header length field says 1000") {
            le64(1000) + "{}".toByteArray()
        },
        Hostile("st_header_not_json.safetensors", Reader.SAFETENSORS, "header is not valid JSON") {
            safetensors("{\"w\": {\"dtype\": ")
        },
        Hostile("st_deep_nesting.safetensors", Reader.SAFETENSORS, "header is not valid JSON") {
            safetensors("{\"__metadata__\": " + "[".repeat(5000) + "]".repeat(5000) + "}")
        },
        Hostile("st_offsets_outside_file.safetensors", Reader.SAFETENSORS, "data_offsets [0, 1000000]") {
            safetensors("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000000]}}""", ByteArray(16))
        },
        Hostile("st_negative_offset.safetensors", Reader.SAFETENSORS, "field 'data_offsets' must be an array of 2 non-negative integers") {
            safetensors("""{"w": {"dtype": "F32", "shape": [4], "data_offsets": [-8, 8]}}""", ByteArray(16))
        },
        Hostile("st_dtype_shape_size_disagree.safetensors", Reader.SAFETENSORS, "needs 16 bytes, but data_offsets [0, 8] span 8") {
            safetensors("""{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}""", ByteArray(8))
        },
        Hostile("st_duplicate_tensor.safetensors", Reader.SAFETENSORS, "Duplicate field 'w'") {
            safetensors("""{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}""", ByteArray(8))
        },
        Hostile("st_overlapping_tensors.safetensors", Reader.SAFETENSORS, "overlap") {
            safetensors("""{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}""", ByteArray(24))
        },
        Hostile("st_hole_between_tensors.safetensors", Reader.SAFETENSORS, "belong to no tensor") {
            safetensors("""{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}""", ByteArray(12))
        },
        Hostile("st_unknown_dtype.safetensors", Reader.SAFETENSORS, "dtype 'F8_E4M3', which this reader does not decode") {
            safetensors("""{"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}""", ByteArray(4))
        },
        Hostile("st_huge_shape.safetensors", Reader.SAFETENSORS, "more than one JVM array can hold") {
            safetensors("""{"w": {"dtype": "F32", "shape": [1099511627776, 1099511627776], "data_offsets": [0, 4]}}""", ByteArray(4))
        },
        Hostile("st_header_not_utf8.safetensors", Reader.SAFETENSORS, "the header is not UTF-8 text") {
            le64(8) + byteArrayOf('{'.code.toByte(), '"'.code.toByte(), 0xff.toByte(), 0xfe.toByte(), '"'.code.toByte(), ':'.code.toByte(), '1'.code.toByte(), '}'.code.toByte())
        },
        Hostile("st_metadata_not_strings.safetensors", Reader.SAFETENSORS, "'__metadata__' entry 'epoch' must be a string") {
            safetensors("""{"__metadata__": {"epoch": 3}}""")
        },

        // PyTorch .pth: pickles that would run code, and hostile zips
        Hostile("pth_os_system.pth", Reader.PTH, "os.system", refusedPickle = true) {
            torchZip(P().proto().global("os", "system").str("echo pwned").op(0x85, 'R'.code).stop().bytes())
        },
        Hostile("pth_builtins_eval_stack_global.pth", Reader.PTH, "builtins.eval", refusedPickle = true) {
            torchZip(P().op(0x80, 4).str("builtins").str("eval").op(0x93).str("print(1)").op(0x85, 'R'.code).stop().bytes())
        },
        Hostile("pth_subprocess_inst.pth", Reader.PTH, "subprocess.Popen", refusedPickle = true) {
            torchZip(P().proto().mark().str("ls").op('i'.code).bytes() + "subprocess\nPopen\n".toByteArray() + byteArrayOf('.'.code.toByte()))
        },
        Hostile("pth_reduce_of_string.pth", Reader.PTH, "only allowlisted globals can be called", refusedPickle = true) {
            torchZip(P().proto().str("os.system").op(')'.code, 'R'.code).stop().bytes())
        },
        Hostile("pth_persistent_id_module.pth", Reader.PTH, "persistent id", refusedPickle = true) {
            torchZip(P().proto().mark().str("module").int1(1).int1(2).tuple().op('Q'.code).stop().bytes())
        },
        Hostile("pth_storage_type_eval.pth", Reader.PTH, "builtins.eval", refusedPickle = true) {
            torchZip(P().proto().mark().str("storage").global("builtins", "eval").str("0").str("cpu").int1(1).tuple().op('Q'.code).stop().bytes())
        },
        Hostile("pth_legacy_header_os_system.pth", Reader.PTH, "legacy header pickle references os.system", refusedPickle = true) {
            P().proto().global("os", "system").str("echo pwned").op(0x85, 'R'.code).stop().bytes()
        },
        Hostile("pth_zip_path_traversal.pth", Reader.PTH, "'../../evil.sh' points outside the archive") {
            zip(listOf("archive/data.pkl" to stateDict(1), "archive/data/0" to ByteArray(4), "../../evil.sh" to "boom".toByteArray()))
        },
        Hostile("pth_zip_absolute_path.pth", Reader.PTH, "'/etc/cron.d/evil' points outside the archive") {
            zip(listOf("archive/data.pkl" to stateDict(1), "archive/data/0" to ByteArray(4), "/etc/cron.d/evil" to "boom".toByteArray()))
        },
        Hostile("pth_zip_bomb_entry.pth", Reader.PTH, "more than 200x; refusing a possible zip bomb") {
            torchZip(stateDict(250_000), "0" to ByteArray(1_000_000))
        },
        Hostile("pth_zip_bomb_total.pth", Reader.PTH, "bytes in all from a") {
            var z = zip(listOf("archive/data.pkl" to stateDict(1), "archive/data/0" to ByteArray(4)) +
                (0 until 3).map { "archive/extra$it" to ByteArray(64) })
            for (i in 0 until 3) z = patchDeclaredSize(z, "archive/extra$i", 0xF000_0000L)
            z
        },
        Hostile("pth_entry_larger_than_declared.pth", Reader.PTH, "holds more than the 16 bytes it declares") {
            patchDeclaredSize(torchZip(stateDict(4), "0" to ByteArray(4096)), "archive/data/0", 16)
        },
        Hostile("pth_storage_smaller_than_declared.pth", Reader.PTH, "should hold 1000") {
            torchZip(stateDict(1000), "0" to ByteArray(16))
        },
        Hostile("pth_torchscript.pth", Reader.PTH, "TorchScript") {
            zip(listOf("archive/data.pkl" to stateDict(1), "archive/data/0" to ByteArray(4), "archive/constants.pkl" to ByteArray(2)))
        },
        Hostile("pth_two_pickles.pth", Reader.PTH, "holds two pickles") {
            zip(listOf("a/data.pkl" to stateDict(1), "b/data.pkl" to stateDict(1)))
        },
        Hostile("pth_text_file.pth", Reader.PTH, "is not a PyTorch file") { "import os; os.system('x')\n".toByteArray() },

        // images
        Hostile("img_zero_bytes.png", Reader.IMAGE, "empty file (0 bytes)") { ByteArray(0) },
        Hostile("img_text_named.png", Reader.IMAGE, "not an image format ImageIO can read") { "<html>not a picture</html>\n".toByteArray() },
        Hostile("img_truncated.jpg", Reader.IMAGE, "JPEG image") { jpeg().let { it.copyOf(it.size / 2) } },
        Hostile("img_truncated.png", Reader.IMAGE, "png image") { png().let { it.copyOf(it.size / 2) } },
        Hostile("img_truncated_png_named.jpg", Reader.IMAGE, "the name ends in .jpg but the content is PNG") {
            png().let { it.copyOf(it.size / 2) }
        },
        Hostile("img_huge_dimensions.png", Reader.IMAGE, "header declares 100000x100000 = 10000000000 pixels") { pngDeclaring(100_000, 100_000) },
        Hostile("img_huge_dimensions.bmp", Reader.IMAGE, "Invalid width/height") { bmpDeclaring(60_000, 60_000) },
        Hostile("img_huge_dimensions.gif", Reader.IMAGE, "header declares 65535x65535 = 4294836225 pixels") { gifDeclaring(65_535, 65_535) },
        Hostile("img_huge_dimensions.jpg", Reader.IMAGE, "header declares 65500x65500 = 4290250000 pixels") { jpegDeclaring(65_500, 65_500) },

        // IDX (MNIST) and CIFAR-10 binaries
        Hostile("idx_bad_magic.idx", Reader.IDX, "not an unsigned-byte IDX file: magic 0x00000d03") { be32(0x0d03) + ByteArray(12) },
        Hostile("idx_negative_dimension.idx", Reader.IDX, "dimension 1 is -28; sizes must be >= 0") { idxHeader(10, -28, 28) },
        Hostile("idx_huge_dimensions.idx", Reader.IDX, "too large for one array") { idxHeader(65535, 65535, 65535) },
        Hostile("idx_truncated.idx", Reader.IDX, "truncated: dimensions [10, 28, 28] need 7840 bytes") { idxHeader(10, 28, 28) + ByteArray(100) },
        Hostile("idx_gzip_claims_too_much.idx.gz", Reader.IDX, "truncated: dimensions [60000, 28, 28] need 47040000 bytes") {
            gzip(idxHeader(60000, 28, 28) + ByteArray(10))
        },
        Hostile("idx_damaged_gzip.idx.gz", Reader.IDX, "damaged gzip data") { byteArrayOf(0x1f, 0x8b.toByte(), 8, 0) + ByteArray(40) { 0x55 } },
        Hostile("cifar_partial_record.bin", Reader.CIFAR, "3000 bytes is not a whole number of 3073-byte CIFAR-10 records") { ByteArray(3000) },
        Hostile("cifar_label_out_of_range.bin", Reader.CIFAR, "record 1 has label 200, valid labels are 0..9") {
            ByteArray(2 * Cifar10.RECORD).also { it[Cifar10.RECORD] = 200.toByte() }
        },

        // pretraining configs (JSON)
        Hostile("config_unknown_field.json", Reader.PRETRAIN_CONFIG, "unknown field 'mask_ration'") { json("""{"epochs": 3, "mask_ration": 0.5}""") },
        Hostile("config_wrong_type.json", Reader.PRETRAIN_CONFIG, "field 'epochs' must be an integer") { json("""{"epochs": "ten"}""") },
        Hostile("config_fraction_for_integer.json", Reader.PRETRAIN_CONFIG, "field 'batch_size' must be an integer") { json("""{"batch_size": 6.5}""") },
        Hostile("config_null_for_number.json", Reader.PRETRAIN_CONFIG, "field 'blr' must not be null") { json("""{"blr": null}""") },
        Hostile("config_duplicate_field.json", Reader.PRETRAIN_CONFIG, "Duplicate field 'epochs'") { json("""{"epochs": 3, "epochs": 4}""") },
        Hostile("config_trailing_garbage.json", Reader.PRETRAIN_CONFIG, "not valid JSON") { json("""{"epochs": 3} {"epochs": 4}""") },
        Hostile("config_not_json.json", Reader.PRETRAIN_CONFIG, "not valid JSON") { json("""epochs = 3""") },
        Hostile("config_not_utf8.json", Reader.PRETRAIN_CONFIG, "not UTF-8") { byteArrayOf(0x7b, 0xff.toByte(), 0xfe.toByte(), 0x7d) },
        Hostile("config_deep_nesting.json", Reader.PRETRAIN_CONFIG, "not valid JSON") { ("{\"x\": " + "[".repeat(5000) + "]".repeat(5000) + "}").toByteArray() },
        Hostile("config_unknown_model_field.json", Reader.PRETRAIN_CONFIG, "unknown field 'model.embed_dims'") {
            json("""{"model": {"img_size": 8, "embed_dims": 8}}""")
        },
        Hostile("config_mask_ratio_one.json", Reader.PRETRAIN_CONFIG, "mask_ratio must be in (0, 1), got 1.0") {
            json("""{$TINY_MODEL, "mask_ratio": 1.0}""")
        },
        Hostile("config_mask_ratio_zero.json", Reader.PRETRAIN_CONFIG, "mask_ratio must be in (0, 1), got 0.0") {
            json("""{$TINY_MODEL, "mask_ratio": 0.0}""")
        },
        Hostile("config_patch_not_dividing_image.json", Reader.PRETRAIN_CONFIG, "patch_size 3 does not divide img_size 8") {
            json("""{${TINY_MODEL.replace("\"patch_size\": 2", "\"patch_size\": 3")}}""")
        },
        Hostile("config_heads_not_dividing_width.json", Reader.PRETRAIN_CONFIG, "num_heads 3 does not divide embed_dim 8") {
            json("""{${TINY_MODEL.replace("\"num_heads\": 2, \"decoder", "\"num_heads\": 3, \"decoder")}}""")
        },
        Hostile("config_negative_epochs.json", Reader.PRETRAIN_CONFIG, "epochs must be >= 1, got -1") { json("""{"epochs": -1}""") },
        Hostile("model_config_unknown_field.json", Reader.MODEL_CONFIG, "unknown field 'depht'") {
            json("""{"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8, "depht": 1}""")
        },
        Hostile("model_config_null_field.json", Reader.MODEL_CONFIG, "field 'depth' must not be null") {
            json("""{"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8, "depth": null}""")
        },
        Hostile("config_null_in_model.json", Reader.PRETRAIN_CONFIG, "field 'model.img_size' must not be null") {
            json("""{"model": {"img_size": null}}""")
        },
        Hostile("model_config_utf32.json", Reader.MODEL_CONFIG, "not valid JSON") {
            "{\"img_size\": 8}".toByteArray(Charsets.UTF_32BE)
        },
        Hostile("model_config_not_utf8.json", Reader.MODEL_CONFIG, "the config is not UTF-8 text") {
            byteArrayOf('{'.code.toByte(), '"'.code.toByte(), 0xff.toByte(), 0xfe.toByte(), 0xff.toByte(), 0xff.toByte(), '"'.code.toByte(), ':'.code.toByte(), '1'.code.toByte(), '}'.code.toByte())
        },
        Hostile("model_config_heads.json", Reader.MODEL_CONFIG, "decoder_num_heads 3 does not divide decoder_embed_dim 8") {
            json("""{"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8, "depth": 1, "num_heads": 2,
                "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 3, "mlp_ratio": 2.0}""")
        },

        // training checkpoints
        Hostile("ckpt_not_a_checkpoint.safetensors", Reader.CHECKPOINT, "not a pretraining checkpoint") { dir ->
            checkpoint(dir) { it["format"] = "something-else" }
        },
        Hostile("ckpt_impossible_config.safetensors", Reader.CHECKPOINT, "mask_ratio must be in (0, 1), got 1.5") { dir ->
            checkpoint(dir) { it["config"] = it.getValue("config").replace("\"mask_ratio\" : 0.75", "\"mask_ratio\" : 1.5") }
        },
        Hostile("ckpt_bad_step.safetensors", Reader.CHECKPOINT, "metadata 'global_step' must be an integer, got 'many'") { dir ->
            checkpoint(dir) { it["global_step"] = "many" }
        },
    )

    /** Writes every file of the corpus into [dir]. */
    fun writeAll(dir: Path) {
        Files.createDirectories(dir)
        val scratch = Files.createTempDirectory("hostile-build")
        for (h in all) Files.write(dir.resolve(h.name), h.bytes(scratch))
        scratch.toFile().deleteRecursively()
    }
}
