package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.io.Safetensors
import org.maejvm.ops.ReferenceBackend
import org.maejvm.tensor.HostTensor
import java.nio.file.Path
import kotlin.math.abs

/** Loading MAE encoders into the classifier, and the official bicubic interpolate_pos_embed. */
class EncoderWeightsTest : FunSpec({
    val be = ReferenceBackend()
    val mae = Path.of("src/test/resources/fixtures/mae/tiny-rgb")
    val maeConfig = MaeConfig(32, 8, 3, 64, 2, 4, 32, 1, 4, 4.0, false)

    fun maxDiff(a: FloatArray, b: FloatArray): Double {
        a.size shouldBe b.size
        return a.indices.maxOf { abs(a[it].toDouble() - b[it]) }
    }

    test("interpolate_pos_embed matches torch bicubic (align_corners=False) up- and down-sampling, cls row kept") {
        val fx = Safetensors.read(Path.of("src/test/resources/fixtures/downstream/pos-embed.safetensors"))
        val pe = fx.getValue("pos_embed")
        for (grid in listOf(6, 3, 4)) {
            val got = EncoderWeights.interpolatePosEmbed(pe, 1, grid)
            got.shape().toList() shouldBe listOf(1, 1 + grid * grid, 8)
            maxDiff(got.data, fx.getValue("grid$grid").data) shouldBeLessThan 2e-6
            got.data.copyOf(8).toList() shouldBe pe.data.copyOf(8).toList()
        }
    }

    test("a pos_embed that is not cls + a square grid is refused with its shape in the message") {
        val e = shouldThrow<IllegalArgumentException> { EncoderWeights.interpolatePosEmbed(HostTensor.zeros(1, 1 + 10, 4), 1, 3) }
        e.message shouldContain "[1, 11, 4]"
    }

    for (file in listOf("model.safetensors", "model.pth")) {
        test("$file: the encoder loads non-strict; decoder and mask_token are ignored silently; head and fc_norm reported missing") {
            val model = VitClassifier(ClassifierConfig.finetune(maeConfig, 10, 0.1), be)
            val report = EncoderWeights.load(model, mae.resolve(file))
            report.missing() shouldContainExactlyInAnyOrder listOf("head.weight", "head.bias", "fc_norm.weight", "fc_norm.bias")
            report.unexpected() shouldContainExactlyInAnyOrder listOf("norm.weight", "norm.bias") // gap replaces norm
            report.mismatched().shouldBeEmpty()
            val weights = Safetensors.read(mae.resolve("model.safetensors"))
            for (name in listOf("cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.1.mlp.fc2.weight")) {
                maxDiff(be.toHost(model.parameters().get(name).value()), weights.getValue(name).data) shouldBe 0.0
            }
        }
    }

    test("cls-token features of the classifier equal the MAE encoder's cls output (same weights, no masking)") {
        val model = VitClassifier(ClassifierConfig.linprobe(maeConfig, 10), be)
        val report = EncoderWeights.load(model, mae.resolve("model.safetensors"))
        report.missing() shouldContainExactlyInAnyOrder listOf("head.1.weight", "head.1.bias", "head.0.running_mean", "head.0.running_var")
        report.unexpected().shouldBeEmpty()
        val reference = MaeModel(maeConfig, be)
        reference.parameters().load(Safetensors.read(mae.resolve("model.safetensors")), true)
        val imgs = Safetensors.read(mae.resolve("inputs.safetensors")).getValue("imgs")
        val x = be.fromHost(imgs.data, *imgs.shape())
        model.train(false)
        val feats = be.toHost(model.forwardFeatures(x))
        val latent = be.toHost(reference.encode(x)) // [B, 1 + L, D], row 0 = cls after norm
        val d = 64
        val cls = FloatArray(2 * d) { i -> latent[(i / d) * (1 + 16) * d + i % d] }
        maxDiff(feats, cls) shouldBeLessThan 1e-5
    }

    test("a larger image size interpolates pos_embed from the 4x4 grid to 6x6, as interpolate_pos_embed") {
        val model = VitClassifier(ClassifierConfig.finetune(maeConfig, 10, 0.0).withImgSize(48), be)
        val report = EncoderWeights.load(model, mae.resolve("model.safetensors"))
        report.mismatched().shouldBeEmpty()
        val expected = EncoderWeights.interpolatePosEmbed(Safetensors.read(mae.resolve("model.safetensors")).getValue("pos_embed"), 1, 6)
        maxDiff(be.toHost(model.parameters().get("pos_embed").value()), expected.data) shouldBe 0.0
    }

    test("a missing file fails with its name") {
        val e = shouldThrow<java.nio.file.NoSuchFileException> {
            EncoderWeights.load(VitClassifier(ClassifierConfig.finetune(maeConfig, 10, 0.0), be), Path.of("no-such.safetensors"))
        }
        e.message shouldContain "no-such.safetensors"
    }
})
