package org.maejvm.eval

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.floats.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.util.SplittableRandom
import kotlinx.coroutines.runBlocking
import org.maejvm.api.Downstream
import org.maejvm.api.extractFeatures
import org.maejvm.data.DataLoader
import org.maejvm.data.EvalTransform
import org.maejvm.data.FloatImage
import org.maejvm.data.InMemoryDataset
import org.maejvm.data.Normalization
import org.maejvm.io.Safetensors
import org.maejvm.model.EncoderWeights
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.AdamW
import org.maejvm.train.Checkpoint
import org.maejvm.train.PretrainConfig

/** 16 x 16 gray images of 4 x 4 patches: 16 patch tokens + cls, width 8. */
private val TINY = MaeConfig(16, 4, 1, 8, 1, 2, 8, 1, 2, 2.0, false)

class FeatureExtractionTest : FunSpec({
    val be = ReferenceBackend()
    val rng = SplittableRandom(5)
    val images = List(7) { FloatImage(FloatArray(256) { rng.nextFloat() }, 1, 16, 16) }
    val labels = intArrayOf(0, 1, 2, 0, 1, 2, 0)
    val data = InMemoryDataset(images, labels, listOf("a", "b", "c"), Normalization.HALF)
    // crop_pct 1: the eval transform is the identity at the model's size, so the expected features need no resize.
    fun loader() = DataLoader(data, EvalTransform(16, 1.0, Normalization.HALF), 3, 0L, false, false)

    /** The encoder output of image i, computed alone: [17, 8]. */
    fun latentOf(model: MaeModel, i: Int): FloatArray {
        val x = images[i].data().map { (it - 0.5f) / 0.5f }.toFloatArray()
        return be.toHost(model.encode(be.fromHost(x, 1, 1, 16, 16)))
    }

    test("cls features are row 0 of the unmasked encoder output, mean features the mean of the patch rows") {
        val model = MaeModel(TINY, be, 3)
        val cls = runBlocking { model.extractFeatures(loader(), Pooling.CLS) }
        val mean = runBlocking { model.extractFeatures(loader(), Pooling.MEAN) }
        cls.count() shouldBe 7
        cls.dim() shouldBe 8
        cls.labels().toList() shouldBe labels.toList()
        cls.files() shouldBe (0 until 7).map { "#$it" }
        for (i in 0 until 7) {
            val latent = latentOf(model, i)
            val row = cls.row(i)
            for (d in 0 until 8) {
                row[d] shouldBe (latent[d] plusOrMinus 1e-5f)
                val m = (1..16).sumOf { latent[it * 8 + d].toDouble() } / 16
                mean.row(i)[d] shouldBe (m.toFloat() plusOrMinus 1e-5f)
            }
        }
    }

    test("save and load keep features, labels, files, class names, pooling and extra metadata") {
        val model = MaeModel(TINY, be, 3)
        var progress = 0
        val set = Downstream.extractFeatures(model, loader(), Pooling.MEAN, mapOf("checkpoint" to "x.safetensors")) {
            progress = it
        }
        progress shouldBe 7
        val file = tempdir().toPath().resolve("features.safetensors")
        set.save(file)
        val meta = Safetensors.readMetadata(file)
        meta["format"] shouldBe FeatureSet.FORMAT
        meta["files"] shouldBe "[\"#0\",\"#1\",\"#2\",\"#3\",\"#4\",\"#5\",\"#6\"]"
        val back = FeatureSet.load(file)
        back.features().toList() shouldBe set.features().toList()
        back.labels().toList() shouldBe labels.toList()
        back.classNames() shouldBe listOf("a", "b", "c")
        back.pool() shouldBe Pooling.MEAN
        back.metadata()["checkpoint"] shouldBe "x.safetensors"
    }

    test("the encoder loads from a pretraining checkpoint; a file without the encoder is refused by name") {
        val dir = tempdir().toPath()
        val trained = MaeModel(TINY, be, 11)
        val config = PretrainConfig.builder().model(TINY).modelName("tiny_test").epochs(1).build()
        val ckpt = dir.resolve("checkpoint-last.safetensors")
        Checkpoint.save(ckpt, config, Checkpoint.Position(1, 0, 3), trained, AdamW.forMae(trained.parameters(), 0.05f))
        val loaded = EncoderWeights.loadMae(ckpt, null, be)
        loaded.name() shouldBe "tiny_test"
        val a = runBlocking { loaded.model().extractFeatures(loader()) }
        val b = runBlocking { trained.extractFeatures(loader()) }
        a.features().toList() shouldBe b.features().toList()

        // Encoder-only weights (no decoder) load; weights missing the patch embedding do not.
        val encoderOnly = trained.parameters().stateDict().filterKeys { !it.startsWith("decoder") && it != "mask_token" }
        Safetensors.write(dir.resolve("enc.safetensors"), encoderOnly)
        EncoderWeights.loadMae(dir.resolve("enc.safetensors"), TINY, be).report().missing().all { it.startsWith("decoder") || it == "mask_token" } shouldBe true
        Safetensors.write(dir.resolve("bad.safetensors"), encoderOnly.filterKeys { !it.startsWith("patch_embed") })
        shouldThrow<Exception> { EncoderWeights.loadMae(dir.resolve("bad.safetensors"), TINY, be) }.message shouldContain
            "missing [patch_embed.proj.weight, patch_embed.proj.bias]"
        shouldThrow<IllegalArgumentException> { EncoderWeights.loadMae(dir.resolve("enc.safetensors"), null, be) }
            .message shouldContain "records no model config"
    }

    test("pooling names parse case-insensitively; others are refused with the valid names") {
        Pooling.parse("CLS") shouldBe Pooling.CLS
        Pooling.parse("mean") shouldBe Pooling.MEAN
        shouldThrow<IllegalArgumentException> { Pooling.parse("max") }.message shouldBe
            "unknown pooling 'max'; use cls or mean"
    }
})

