package org.maejvm.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
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
import kotlin.math.abs

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

    fun PretrainModel.encoderAndTeacher(): Map<String, FloatArray> = parameters().all()
        .filter { it.name().startsWith("encoder.") || it.name().startsWith("teacher.") }
        .associate { it.name() to backend().toHost(it.value()) }

    test("with accum_iter 2 the teacher moves once per optimizer step, towards the encoder of that cycle") {
        val m = 0.5f
        val c = cae(null, epochs = 1).toBuilder().accumIter(2).lr(5e-3).warmupEpochs(0.0)
            .cae(CaeConfig.defaults().withDepths(1, 1).withBaseMomentum(m.toDouble()).withDropPath(0.0)).build()
        val t = Pretrainer(c, TinyRuns.source(), TinyRuns.backend()) // 4 steps: 2 cycles
        val w0 = t.pretrainModel().encoderAndTeacher()
        val afterStep = ArrayList<Map<String, FloatArray>>()
        var forwards = 0
        t.listener {
            if (it is TrainingEvent.Step) { forwards++; if (it.optimizerStepped) afterStep += t.pretrainModel().encoderAndTeacher() }
        }.run()
        forwards shouldBe 4
        afterStep.size shouldBe 2
        val w1 = afterStep[0]
        val end = afterStep[1]
        var moved = 0.0
        for ((k, teacher) in end) if (k.startsWith("teacher.")) {
            val e = "encoder." + k.removePrefix("teacher.")
            // cycle 1 (encoder W0): T1 = m T0 + (1 - m) W0 = W0, since T0 is a copy of W0; cycle 2 (encoder W1):
            // T2 = m W0 + (1 - m) W1. Moving per forward would give m² W0 + (1 - m²) W1 instead.
            val t0 = w0.getValue(k); val e0 = w0.getValue(e); val e1 = w1.getValue(e)
            for (i in teacher.indices) {
                t0[i] shouldBe e0[i]
                val expected = m * e0[i] + (1 - m) * e1[i]
                withClue("$k[$i]") { abs(teacher[i] - expected).toDouble() shouldBeLessThan 1e-6 * (1 + abs(expected)) }
                moved = maxOf(moved, abs((m * m * e0[i] + (1 - m * m) * e1[i]) - expected).toDouble())
            }
            afterStep[0].getValue(k).toList() shouldBe e0.toList() // T1 = W0
        }
        withClue("the encoder moved enough to tell once-per-step from once-per-forward: $moved") { moved shouldBeGreaterThan 1e-4 }
    }

    test("accum_iter 2 with batch b equals batch 2b for CAE with block masking and drop path (per-image noise: same masks, one EMA step)") {
        val n = 16
        val imgs = TinyRuns.images(n)
        val small = EpochSource.fixed(TinyRuns.fixedBatches(imgs, n, 4))
        val large = EpochSource.fixed(TinyRuns.fixedBatches(imgs, n, 8))
        fun run(batch: Int, accum: Int, src: EpochSource): Pretrainer {
            val c = TinyRuns.config(null, epochs = 3, batch = batch, accum = accum).toBuilder().method("cae").maskRatio(0.5)
                .maskStrategy("block").cae(CaeConfig.defaults().withDepths(2, 2).withBaseMomentum(0.5).withDropPath(0.3)).build()
            return Pretrainer(c, src, TinyRuns.backend()).maskingNoise(MaskingNoise.PER_IMAGE).also { it.run() }
        }
        val a = run(4, 2, small).pretrainModel().snapshot()
        val b = run(8, 1, large).pretrainModel().snapshot()
        var worst = 0.0
        var where = ""
        for ((k, v) in a) {
            // a LayerNorm bias before the keys shifts a softmax row by a constant: its true gradient is 0 and Adam
            // turns the rounding noise into lr-sized steps, so it is not comparable (as the MAE key bias)
            if (k.endsWith("norm1_k.bias")) continue
            val u = b.getValue(k)
            for (i in v.indices) {
                val d = abs(v[i] - u[i]).toDouble() / (1e-3 + abs(u[i]))
                if (d > worst) { worst = d; where = "$k[$i]: ${v[i]} vs ${u[i]}" }
            }
        }
        withClue("largest relative difference $worst at $where") { worst shouldBeLessThan 1e-3 }
        val init = Pretrainer(cae(null), TinyRuns.source(), TinyRuns.backend()).pretrainModel().snapshot()
        (init.getValue("teacher.blocks.0.attn.qkv.weight") == a.getValue("teacher.blocks.0.attn.qkv.weight")) shouldBe false
    }

    test("a cae section may give only some fields: the others are the official defaults; new fields round-trip") {
        val c = PretrainConfig.fromJson("""{"method": "cae", "cae": {"align_loss_weight": 1.5, "drop_path": 0.2}}""")
        c.caeConfig() shouldBe CaeConfig.defaults().withAlignLossWeight(1.5).withDropPath(0.2)
        val wide = cae(null).toBuilder().cae(CaeConfig.defaults().withDepths(1, 1).withDecoder(12, 3)).build().validate()
        PretrainConfig.fromJson(wide.toJson()).caeConfig() shouldBe wide.caeConfig()
    }

    test("with drop path on (regressor and decoder block 1 at 0.3), resume is still bit-identical") {
        val dir = tempdir().toPath()
        val c = cae(dir, epochs = 2).toBuilder().keepLast(5)
            .cae(CaeConfig.defaults().withDepths(2, 2).withDropPath(0.3)).build()
        val full = Pretrainer(c.toBuilder().outputDir(null as String?).build(), TinyRuns.source(), TinyRuns.backend())
        (full.pretrainModel() as CaeModel).dropPaths().size shouldBe 4
        full.run()
        Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).run()
        val resumed = Pretrainer(c, TinyRuns.source(), TinyRuns.backend()).resume(dir.resolve("checkpoint-0.safetensors"))
        resumed.run()
        resumed.pretrainModel().snapshot() shouldBe full.pretrainModel().snapshot()
        // and stochastic depth did change the run: another seed for the masks gives other weights
        val noDrop = Pretrainer(c.toBuilder().outputDir(null as String?).cae(CaeConfig.defaults().withDepths(2, 2)
            .withDropPath(0.0)).build(), TinyRuns.source(), TinyRuns.backend())
        noDrop.run()
        (noDrop.pretrainModel().snapshot() == full.pretrainModel().snapshot()) shouldBe false
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
