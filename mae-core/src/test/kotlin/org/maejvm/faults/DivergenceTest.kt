package org.maejvm.faults

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import kotlin.io.path.listDirectoryEntries
import kotlin.io.path.name
import org.maejvm.nn.ParameterSet
import org.maejvm.train.Checkpoint
import org.maejvm.train.GradientSync
import org.maejvm.train.Pretrainer
import org.maejvm.train.TinyRuns
import org.maejvm.train.TrainingDivergedException

/**
 * A gradient that turns NaN or infinite while the loss stays finite (an overflow in backward, a bad all-reduce)
 * must stop the run before the optimizer applies it, naming the step and the parameter. The gradient is poisoned
 * through the all-reduce seam, which runs right before the check.
 */
class DivergenceTest : FunSpec({
    /** One process that corrupts one gradient at the [at]-th optimizer step (0-based). */
    fun poisoning(at: Int, value: Float, parameter: String) = object : GradientSync {
        var calls = 0
        override fun allReduceMean(params: ParameterSet) {
            if (calls++ == at) {
                val g = params.get(parameter).grad()
                val host = params.backend().toHost(g)
                host[host.size / 2] = value
                params.backend().upload(host, g)
            }
        }
        override fun broadcast(params: ParameterSet) {}
        override fun barrier() {}
    }

    for ((value, shown) in listOf(Float.NaN to "NaN", Float.POSITIVE_INFINITY to "Infinity")) {
        test("a $shown gradient stops the run at its step, naming the parameter; weights and checkpoints stay good") {
            val dir = tempdir().toPath()
            val c = TinyRuns.config(dir, epochs = 3)
            val t = Pretrainer(c, TinyRuns.source(), TinyRuns.backend())
                .gradientSync(poisoning(6, value, "blocks.0.mlp.fc1.weight"))
            val e = shouldThrow<TrainingDivergedException> { t.run() }
            // optimizer step 6 (0-based) ends data step 2 of epoch 1 (4 steps per epoch, accum_iter 1)
            e.quantity() shouldBe TrainingDivergedException.Quantity.GRADIENT
            e.epoch() shouldBe 1
            e.step() shouldBe 2
            e.parameter() shouldBe "blocks.0.mlp.fc1.weight"
            e.loss().isFinite() shouldBe true
            e.message!! shouldStartWith "Gradient norm is $shown at epoch 1 step 2 (first non-finite gradient: blocks.0.mlp.fc1.weight"
            // the step was not applied: every weight is finite
            t.model().parameters().all().all { p -> t.model().backend().toHost(p.value()).all { it.isFinite() } } shouldBe true
            dir.listDirectoryEntries("checkpoint-*").map { it.name }.sorted() shouldContainExactly
                listOf("checkpoint-0.safetensors", "checkpoint-last.safetensors")
            Checkpoint.read(dir.resolve(Pretrainer.LAST)).position() shouldBe Checkpoint.Position(1, 0, 4)
        }
    }
})
