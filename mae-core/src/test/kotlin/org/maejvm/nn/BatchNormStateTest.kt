package org.maejvm.nn

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import org.maejvm.io.Safetensors
import org.maejvm.model.ClassifierConfig
import org.maejvm.model.MaeConfig
import org.maejvm.model.VitClassifier
import org.maejvm.ops.ReferenceBackend
import org.maejvm.tensor.HostTensor

/** BatchNorm1d's num_batches_tracked: counted, saved and loaded under torch's name, absent in old files. */
class BatchNormStateTest : FunSpec({
    val be = ReferenceBackend()
    val x = be.fromHost(FloatArray(4 * 3) { it * 0.37f - 1f }, 4, 3)

    fun bn(): Pair<ParameterSet, BatchNorm1d> {
        val ps = ParameterSet(be)
        return ps to BatchNorm1d(ps, "bn", 3, 1e-5f, BatchNorm1d.TORCH_MOMENTUM, false)
    }

    test("each training forward counts one batch, eval forwards none; the state_dict holds it as a scalar int") {
        val (ps, norm) = bn()
        norm.forward(x); norm.forward(x)
        norm.train(false); norm.forward(x)
        norm.numBatchesTracked().value() shouldBe 2L
        val state = ps.stateDict()
        state.keys.toList() shouldBe listOf("bn.running_mean", "bn.running_var", "bn.num_batches_tracked")
        val n = state.getValue("bn.num_batches_tracked")
        n.rank() shouldBe 0
        n.ints.toList() shouldBe listOf(2)
    }

    test("loads from a file that stores it as int64 (as torch writes it), and a file without it sets 0 unreported") {
        val (ps, norm) = bn()
        repeat(3) { norm.forward(x) }
        val file = tempdir().toPath().resolve("bn.safetensors")
        Safetensors.write(file, ps.stateDict(), emptyMap(), Safetensors.IntFormat.I64)
        val (ps2, norm2) = bn()
        val report = ps2.load(Safetensors.read(file), true)
        report.loaded() shouldContain "bn.num_batches_tracked"
        norm2.numBatchesTracked().value() shouldBe 3L

        val old = Safetensors.read(file).filterKeys { it != "bn.num_batches_tracked" }
        val r2 = ps2.load(old, true) // strict: an old checkpoint without the counter still loads
        r2.missing().shouldBeEmpty()
        norm2.numBatchesTracked().value() shouldBe 0L
        val r3 = ps2.load(mapOf("bn.num_batches_tracked" to HostTensor(intArrayOf(1, 2), 2)), false)
        r3.mismatched().size shouldBe 1
    }

    test("the linear-probing head carries head.0.num_batches_tracked, the official checkpoint name") {
        val enc = MaeConfig(8, 4, 1, 8, 1, 2, 8, 1, 2, 2.0, false)
        VitClassifier(ClassifierConfig.linprobe(enc, 3), be).parameters().stateDict().keys shouldContain "head.0.num_batches_tracked"
    }
})
