package org.maejvm.model

import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.engine.spec.tempdir
import org.maejvm.ops.ReferenceBackend
import org.maejvm.train.Checkpoint
import org.maejvm.train.DownstreamConfig
import org.maejvm.train.DownstreamTrainer
import org.maejvm.train.PretrainConfig
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.max

/** A CAE encoder converted to plain ViT weights computes the same features in MaeModel and VitClassifier. */
class CaeWeightsTest : FunSpec({
    val be = ReferenceBackend()
    val config = MaeConfig(8, 2, 3, 8, 2, 2, 8, 1, 2, 2.0, false)

    fun relDiff(a: FloatArray, b: FloatArray): Double {
        var worst = 0.0; var scale = 0.0
        for (i in a.indices) { worst = max(worst, abs(a[i] - b[i]).toDouble()); scale = max(scale, abs(b[i]).toDouble()) }
        return worst / scale
    }

    // q/v biases, gammas and biases away from their init, so a dropped or misplaced term shows
    val cae = CaeModel(config, CaeConfig.defaults().withDepths(1, 1), be, 3)
    val rng = SplittableRandom(4)
    for (p in cae.parameters().trainable()) if (p.name().startsWith("encoder.") && p.shape().size == 1) {
        val v = be.toHost(p.value())
        be.upload(FloatArray(v.size) { v[it] + 0.3f * rng.nextGaussian().toFloat() }, p.value())
    }
    val imgs = be.fromHost(FloatArray(2 * 3 * 64) { rng.nextGaussian().toFloat() }, 2, 3, 8, 8)
    val expected = be.toHost(cae.encode(imgs)) // [2, 17, 8]

    test("toVit: ViT names, qkv.bias = [q_bias, 0, v_bias], no gammas, teacher and neck left out") {
        val vit = CaeWeights.toVit(cae.parameters().stateDict())
        CaeWeights.isCae(cae.parameters().stateDict()) shouldBe true
        CaeWeights.isCae(vit) shouldBe false
        vit.keys.filter { it.contains("gamma") || it.contains("q_bias") || it.startsWith("teacher") || it.startsWith("pretext") }.shouldBeEmpty()
        val qkvBias = vit.getValue("blocks.0.attn.qkv.bias").data
        qkvBias.copyOfRange(0, 8).toList() shouldBe be.toHost(cae.parameters().get("encoder.blocks.0.attn.q_bias").value()).toList()
        qkvBias.copyOfRange(8, 16).all { it == 0f } shouldBe true
        qkvBias.copyOfRange(16, 24).toList() shouldBe be.toHost(cae.parameters().get("encoder.blocks.0.attn.v_bias").value()).toList()
    }

    test("MaeModel.encode with the converted weights equals CaeModel.encode (layer scale folded exactly)") {
        val mae = MaeModel(config, be, 9)
        val report = mae.parameters().load(CaeWeights.toVit(cae.parameters().stateDict()), false)
        report.unexpected().shouldBeEmpty()
        report.missing().filter { !it.startsWith("decoder") && it != "mask_token" }.shouldBeEmpty()
        val got = be.toHost(mae.encode(imgs))
        withClue("relative difference") { relDiff(got, expected) shouldBeLessThan 1e-5 }
    }

    test("EncoderWeights loads a CAE state_dict into the downstream classifier: same cls features") {
        val model = VitClassifier(ClassifierConfig.linprobe(config, 10), be)
        val report = EncoderWeights.load(model, cae.parameters().stateDict())
        report.unexpected().shouldBeEmpty()
        model.train(false)
        val feats = be.toHost(model.forwardFeatures(imgs))
        val cls = FloatArray(2 * 8) { i -> expected[(i / 8) * 17 * 8 + i % 8] }
        withClue("relative difference") { relDiff(feats, cls) shouldBeLessThan 1e-5 }
    }

    test("a CAE pretraining checkpoint file feeds the classifier (attentive tokens) and feature extraction directly") {
        val dir = tempdir().toPath()
        val ckpt = dir.resolve("checkpoint-last.safetensors")
        val pretrain = PretrainConfig.builder().model(config).modelName("cae_test").method("cae")
            .cae(CaeConfig.defaults().withDepths(1, 1)).epochs(1).build()
        Checkpoint.save(ckpt, pretrain, Checkpoint.Position(1, 0, 3), cae, CaeModel.adamW(cae.parameters(), 0.05f))
        val recorded = EncoderWeights.recordedConfig(ckpt)
        recorded.embedDim() shouldBe config.embedDim()
        recorded.depth() shouldBe config.depth()
        // The attentive probe reads every token after the encoder's norm: CaeModel.encode's latent.
        val built = DownstreamTrainer.newClassifier(DownstreamConfig.attnprobe().build(), recorded, 10, ckpt, be)
        built.report().unexpected().shouldBeEmpty()
        built.report().missing().all { it == "query_token" || it.startsWith("attentive_blocks.") || it.startsWith("fc_norm.") || it.startsWith("head.") } shouldBe true
        built.model().train(false)
        withClue("classifier tokens vs CaeModel.encode") { relDiff(be.toHost(built.model().forwardFeatures(imgs)), expected) shouldBeLessThan 1e-5 }
        val loaded = EncoderWeights.loadMae(ckpt, null, be)
        loaded.name() shouldBe "cae_test"
        withClue("MaeModel.encode of the loaded file vs CaeModel.encode") { relDiff(be.toHost(loaded.model().encode(imgs)), expected) shouldBeLessThan 1e-5 }
    }

    test("a CAE whose regressor/decoder is narrower (encoder_to_decoder present) loads the same way: its encoder features") {
        val wide = CaeModel(config, CaeConfig.defaults().withDepths(1, 1).withDecoder(12, 3), be, 5)
        wide.parameters().load(cae.parameters().stateDict().filterKeys { it.startsWith("encoder.") }, false)
        wide.parameters().stateDict().keys.any { it.startsWith("encoder_to_decoder") } shouldBe true
        val model = VitClassifier(ClassifierConfig.linprobe(config, 10), be)
        val report = EncoderWeights.load(model, wide.parameters().stateDict())
        report.unexpected().shouldBeEmpty()
        model.train(false)
        val feats = be.toHost(model.forwardFeatures(imgs))
        val cls = FloatArray(2 * 8) { i -> expected[(i / 8) * 17 * 8 + i % 8] }
        withClue("relative difference") { relDiff(feats, cls) shouldBeLessThan 1e-5 }
    }
})
