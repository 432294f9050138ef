package org.maejvm.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.model.MaeConfig

class LrScheduleTest : FunSpec({
    // lr 1e-3, min_lr 1e-5, 2 warmup epochs of 10: values of the official adjust_learning_rate by hand.
    val s = LrSchedule(1e-3, 1e-5, 2.0, 10)

    test("linear warmup from 0 to the peak") {
        s.at(0.0) shouldBe 0.0
        s.at(0.5) shouldBe (2.5e-4 plusOrMinus 1e-15)
        s.at(1.0) shouldBe (5e-4 plusOrMinus 1e-15)
        s.at(2.0) shouldBe (1e-3 plusOrMinus 1e-15)
    }

    test("half-cycle cosine to min_lr") {
        // progress 1/2: cos(pi/2) = 0, halfway between peak and min
        s.at(6.0) shouldBe (1e-5 + 0.5 * (1e-3 - 1e-5) plusOrMinus 1e-15)
        // progress 1/4: 0.5 * (1 + cos(pi/4)) = 0.853553390593...
        s.at(4.0) shouldBe (1e-5 + (1e-3 - 1e-5) * 0.8535533905932737 plusOrMinus 1e-15)
        s.at(10.0) shouldBe (1e-5 plusOrMinus 1e-18)
    }

    test("fractional epoch from the step within an epoch") {
        s.at(1, 50, 100) shouldBe s.at(1.5)
        s.at(0, 1, 4) shouldBe (1e-3 * 0.25 / 2 plusOrMinus 1e-15)
    }

    test("no warmup starts at the peak") {
        LrSchedule(2e-3, 0.0, 0.0, 5).at(0.0) shouldBe 2e-3
    }

    test("effective lr = blr * batch_size * accum_iter * world_size / 256") {
        val base = PretrainConfig.builder().model(MaeConfig.base())
        base.batchSize(64).accumIter(4).build().effectiveLr() shouldBe (1.5e-4 plusOrMinus 1e-18)
        base.batchSize(256).accumIter(1).worldSize(8).build().effectiveLr() shouldBe (1.2e-3 plusOrMinus 1e-15)
        base.batchSize(128).accumIter(1).worldSize(1).blr(1e-3).build().effectiveLr() shouldBe (5e-4 plusOrMinus 1e-15)
        // an explicit lr wins over blr
        base.lr(3e-4).build().effectiveLr() shouldBe 3e-4
        LrSchedule.of(base.lr(3e-4).build()).lr() shouldBe 3e-4
    }

    test("official defaults") {
        val c = PretrainConfig.builder().model(MaeConfig.base()).build()
        c.blr() shouldBe 1.5e-4
        c.weightDecay() shouldBe 0.05
        c.maskRatio() shouldBe 0.75
        c.minLr() shouldBe 0.0
        c.lr() shouldBe null
    }

    test("config JSON uses the official names and round-trips") {
        val c = TinyRuns.config(null, accum = 2).toBuilder().clipGrad(1.0).normPixLoss(true).build()
        val json = c.toJson()
        for (k in listOf("\"batch_size\"", "\"accum_iter\"", "\"blr\"", "\"min_lr\"", "\"warmup_epochs\"",
            "\"weight_decay\"", "\"mask_ratio\"", "\"norm_pix_loss\"", "\"clip_grad\"", "\"output_dir\"", "\"embed_dim\"")) {
            json shouldContain k
        }
        PretrainConfig.fromJson(json) shouldBe c
        c.modelConfig().normPixLoss() shouldBe true
    }

    test("missing JSON fields take the defaults") {
        val c = PretrainConfig.fromJson("""{"model": {"img_size": 8, "patch_size": 2, "in_chans": 1, "embed_dim": 8,
            "depth": 1, "num_heads": 2, "decoder_embed_dim": 8, "decoder_depth": 1, "decoder_num_heads": 2,
            "mlp_ratio": 2.0, "norm_pix_loss": true}, "epochs": 5}""")
        c.epochs() shouldBe 5
        c.batchSize() shouldBe 64
        c.accumIter() shouldBe 1
        c.blr() shouldBe 1.5e-4
        c.maskRatio() shouldBe 0.75
        c.normPixLoss() shouldBe true
        c.validate()
    }

    test("bad JSON and bad values are named") {
        shouldThrow<IllegalArgumentException> { PretrainConfig.fromJson("{\"epochs\": ") }.message shouldContain "not valid JSON"
        val e = shouldThrow<IllegalArgumentException> {
            TinyRuns.config(null).toBuilder().epochs(0).accumIter(0).maskRatio(1.0).clipGrad(-1.0).build().validate()
        }
        e.message shouldContain "epochs must be >= 1, got 0"
        e.message shouldContain "accum_iter must be >= 1, got 0"
        e.message shouldContain "mask_ratio must be in (0, 1), got 1.0"
        e.message shouldContain "clip_grad must be > 0"
        shouldThrow<IllegalArgumentException> { PretrainConfig.builder().epochs(1).build().validate() }
            .message shouldContain "model is missing"
        shouldThrow<IllegalArgumentException> { ModelPresets.named("vit_nope") }.message shouldContain "mae_vit_tiny_fmnist"
    }
})
