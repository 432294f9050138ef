package org.maejvm.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.io.Safetensors
import org.maejvm.model.CaeConfig
import org.maejvm.model.CaeModel
import org.maejvm.model.MaskPlan
import org.maejvm.model.PretrainModel
import org.maejvm.model.masking.GridMasking
import org.maejvm.model.masking.MaskingSpec

/** CAE and the masking strategies through the shared pretraining loop: training, checkpoints, exact resume. */
class CaePretrainTest : FunSpec({
    fun cae(out: java.nio.file.Path?, epochs: Int = 3) = TinyRuns.config(out, epochs = epochs).toBuilder()
        .method("cae").maskRatio(0.5).cae(CaeConfig.defaults().withDepths(1, 1)).build()

    fun PretrainModel.snapshot(): Map<String, List<Float>> =
        parameters().all().associate { it.name() to backend().toHost(it.value()).toList() }

    test("CAE pretraining through the shared loop lowers the loss") {
        val steps = ArrayList<TrainingEvent.Step>()
        val t = Pretrainer(cae(null, epochs = 8).toBuilder().lr(5e-3).build(), TinyRuns.source(), TinyRuns.backend())
        t.listener { if (it is TrainingEvent.Step) steps += it }.run()
        (t.pretrainModel() is CaeModel) shouldBe true
        steps.size shouldBe 32
        val first = steps.take(4).map { it.loss.toDouble() }.average()
        val last = steps.takeLast(4).map { it.loss.toDouble() }.average()
        withClue("first $first last $last") { last shouldBeLessThan first * 0.8 }
        shouldThrow<IllegalStateException> { t.model() }.message shouldContain "pretrainModel()"
    }

    test("CAE checkpoints hold encoder, teacher and neck under official names; resume is bit-identical") {
        val dir = tempdir().toPath()
        val c = cae(dir, epochs = 3).toBuilder().keepLast(5).build()
        val full = Pretrainer(c.toBuilder().outputDir(null as String?).build(), TinyRuns.source(), TinyRuns.backend())
        full.run()
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).run()
        val tensors = Safetensors.read(dir.resolve("checkpoint-2.safetensors"))
        for (k in listOf("encoder.blocks.0.attn.q_bias", "teacher.blocks.0.gamma_1", "mask_token",
            "pretext_neck.regressor_blocks.0.cross_attn.q.weight", "optimizer.exp_avg.pretext_neck.head.weight")) {
            withClue(k) { tensors.containsKey(k) shouldBe true }
        }
        // the teacher is saved but never optimised
        tensors.containsKey("optimizer.exp_avg.teacher.blocks.0.gamma_1") shouldBe false
        val resumed = Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).resume(dir.resolve("checkpoint-0.safetensors"))
        resumed.run()
        resumed.pretrainModel().snapshot() shouldBe full.pretrainModel().snapshot()
        // the config round-trips with its method and CAE settings
        Checkpoint.read(dir.resolve("checkpoint-2.safetensors")).config().isCae() shouldBe true
    }

    test("an MAE checkpoint does not resume a CAE run") {
        val dir = tempdir().toPath()
        Pretrainer(TinyRuns.config(dir, epochs = 1), TinyRuns.source(), TinyRuns.backend()).run()
        shouldThrow<IllegalArgumentException> {
            Pretrainer(cae(null), TinyRuns.source(), TinyRuns.backend()).resume(dir.resolve(Pretrainer.LAST))
        }.message shouldContain "method mae"
    }

    test("MAE with grid masking: every step keeps one patch per 2x2 cell") {
        val plans = ArrayList<MaskPlan>()
        val c = TinyRuns.config(null, epochs = 1).toBuilder().maskStrategy("grid:cell=2").build()
        val t = Pretrainer(c, TinyRuns.source(), TinyRuns.backend())
        t.listener { if (it is TrainingEvent.Step) plans += t.model().maskPlan() }.run()
        plans.size shouldBe 4
        for (p in plans) p.idsKeep().toList() shouldBe List(4) { listOf(0, 2, 8, 10) }.flatten()
    }

    test("a CAE section with an unknown or null field is refused, naming the field") {
        shouldThrow<IllegalArgumentException> {
            PretrainConfig.fromJson("""{"method": "cae", "cae": {"regresor_depth": 2}}""")
        }.message shouldContain "unknown field 'cae.regresor_depth'"
        shouldThrow<IllegalArgumentException> {
            PretrainConfig.fromJson("""{"method": "cae", "cae": {"regressor_depth": null}}""")
        }.message shouldContain "field 'cae.regressor_depth' must not be null"
    }

    test("config: method, mask strategy and CAE settings validate with clear messages and survive JSON") {
        val c = cae(null).toBuilder().maskStrategy("focus:weight=2").build().validate()
        val back = PretrainConfig.fromJson(c.toJson())
        back.methodName() shouldBe "cae"
        back.effectiveMaskStrategy() shouldBe "focus:weight=2"
        back.caeConfig() shouldBe c.caeConfig()
        TinyRuns.config(null).effectiveMaskStrategy() shouldBe "random"
        cae(null).effectiveMaskStrategy() shouldBe "block"
        fun problem(b: PretrainConfig.Builder) = shouldThrow<IllegalArgumentException> { b.build().validate() }.message!!
        problem(TinyRuns.config(null).toBuilder().method("simclr")) shouldContain "method must be 'mae' or 'cae'"
        problem(TinyRuns.config(null).toBuilder().maskStrategy("blocks")) shouldContain "known: random, block, grid, focus"
        problem(TinyRuns.config(null).toBuilder().maskStrategy("grid:cell=2").maskRatio(0.5)) shouldContain "0.75"
        problem(cae(null).toBuilder().cae(CaeConfig.defaults().withAlignLossWeight(-1.0))) shouldContain "align_loss_weight"
        problem(cae(null).toBuilder().maskRatio(0.0)) shouldContain "CAE needs masked patches"
        (MaskingSpec.parse("grid") is GridMasking) shouldBe true
    }
})
