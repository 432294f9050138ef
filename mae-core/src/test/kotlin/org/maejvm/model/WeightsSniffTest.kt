package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.io.Safetensors
import org.maejvm.ops.ReferenceBackend
import org.maejvm.tensor.HostTensor
import org.maejvm.viz.ModelFiles
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.file.Files

/** A safetensors file whose header length starts with the bytes "PK" is still read as safetensors, not as a zip. */
class WeightsSniffTest : FunSpec({
    test("header length 0x4B50 ('P', 'K' as its first bytes) reads as safetensors") {
        val file = tempdir().toPath().resolve("weights.safetensors")
        val tensors = linkedMapOf("w" to HostTensor(floatArrayOf(1f, 2f), 2))
        fun headerLength(): Long = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).long
        Safetensors.write(file, tensors, mapOf("pad" to ""))
        // the writer pads the JSON header to 8 bytes: grow the metadata until the length is exactly 0x4B50
        Safetensors.write(file, tensors, mapOf("pad" to "x".repeat((0x4B50 - headerLength()).toInt())))
        headerLength() shouldBe 0x4B50L
        Files.readAllBytes(file).copyOfRange(0, 2).toList() shouldBe listOf('P'.code.toByte(), 'K'.code.toByte())
        EncoderWeights.read(file).getValue("w").data.toList() shouldBe listOf(1f, 2f)
        ModelFiles.isZipOrPickle(file) shouldBe false   // the one sniffer reconstruct, extract and eval use
    }

    test("reconstruct refuses a CAE checkpoint with a reason instead of a missing-tensor list") {
        val file = tempdir().toPath().resolve("cae.safetensors")
        val cae = CaeModel(MaeConfig(8, 2, 1, 8, 1, 2, 8, 1, 2, 2.0, false), CaeConfig.defaults().withDepths(1, 1), ReferenceBackend())
        Safetensors.write(file, cae.parameters().stateDict())
        shouldThrow<IllegalArgumentException> {
            ModelFiles.load(file, MaeConfig(8, 2, 1, 8, 1, 2, 8, 1, 2, 2.0, false), null, null, ReferenceBackend())
        }.message shouldContain "is a CAE checkpoint"
    }
})
