package org.maejvm.tornado

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.ops.Backends
import uk.ac.manchester.tornado.api.GridScheduler
import uk.ac.manchester.tornado.api.KernelContext
import uk.ac.manchester.tornado.api.TaskGraph
import uk.ac.manchester.tornado.api.TornadoExecutionPlan
import uk.ac.manchester.tornado.api.WorkerGrid1D
import uk.ac.manchester.tornado.api.enums.DataTransferMode
import uk.ac.manchester.tornado.api.types.arrays.FloatArray

/** Each work-item publishes its id in local memory, waits, then reads its right neighbour's. */
fun rotateInGroup(ctx: KernelContext, out: FloatArray) {
    val local = ctx.allocateFloatLocalArray(8)
    local[ctx.localIdx] = ctx.globalIdx.toFloat()
    ctx.localBarrier()
    out.set(ctx.globalIdx, local[(ctx.localIdx + 1) % ctx.localGroupSizeX])
}

/** Work-item 0 returns without reaching the barrier the others wait at. */
fun divergentBarrier(ctx: KernelContext, out: FloatArray) {
    if (ctx.localIdx == 0) return
    ctx.localBarrier()
    out.set(ctx.globalIdx, 1f)
}

/** Work-item 5 fails before the barrier. */
fun failingItem(ctx: KernelContext, out: FloatArray) {
    if (ctx.globalIdx == 5) throw IllegalStateException("item 5 failed")
    ctx.localBarrier()
    out.set(ctx.globalIdx, 1f)
}

private fun launch(kernel: (KernelContext, FloatArray) -> Unit, out: FloatArray, global: Int, local: Int) {
    val graph = TaskGraph("g").transferToDevice(DataTransferMode.FIRST_EXECUTION, out)
        .task("t", kernel, KernelContext(), out)
        .transferToHost(DataTransferMode.EVERY_EXECUTION, out)
    val grid = WorkerGrid1D(global)
    grid.setLocalWork(local.toLong(), 1, 1)
    TornadoExecutionPlan(graph.snapshot()).withGridScheduler(GridScheduler("g.t", grid)).execute()
}

/**
 * The emulation behaves as a device would where the kernels depend on it (work-groups, local memory, barriers)
 * and fails loudly where a device would silently misbehave. Skipped on a real TornadoVM runtime.
 */
class TornadoEmulationTest : FunSpec({
    val emulated = !TornadoDevices.runtimeInstalled()

    test("local memory is shared within a work-group and a barrier orders its writes and reads").config(enabled = emulated) {
        val out = FloatArray(16)
        launch(::rotateInGroup, out, 16, 8)
        (0 until 16).map { out.get(it) } shouldContainExactly (0 until 16).map { g -> (g / 8 * 8 + (g % 8 + 1) % 8).toFloat() }
    }

    test("a work-item returning while others wait at a barrier is an error, not a hang").config(enabled = emulated) {
        shouldThrow<IllegalStateException> { launch(::divergentBarrier, FloatArray(8), 8, 4) }.message shouldContain "divergent barrier"
    }

    test("a work-item's exception reaches the caller and releases the rest of its group").config(enabled = emulated) {
        shouldThrow<IllegalStateException> { launch(::failingItem, FloatArray(8), 8, 8) }.message shouldContain "item 5 failed"
    }

    test("a global size that is not a multiple of the work-group size is rejected, as OpenCL does").config(enabled = emulated) {
        shouldThrow<IllegalArgumentException> { launch(::rotateInGroup, FloatArray(12), 12, 8) }.message shouldContain
            "not a multiple of the local work"
    }

    test("the emulation is never offered as a backend: tornado is unavailable without the TornadoVM runtime").config(enabled = emulated) {
        val provider = Backends.providers().single { it.name() == "tornado" }
        provider.available() shouldBe false
        provider.describe() shouldContain "TornadoVM is not installed"
        shouldThrow<IllegalArgumentException> { Backends.create("tornado", 0) }.message shouldContain "TornadoVM is not installed"
        shouldThrow<IllegalStateException> { TornadoDevices.open(0) }.message shouldContain "TornadoVM is not installed"
    }

    test("devices are numbered across TornadoVM's backends; a wrong number names the valid ones") {
        val devices = TornadoDevices.list()
        devices.map { it.number() } shouldContainExactly devices.indices.toList()
        shouldThrow<IllegalArgumentException> { TornadoBackend(devices.size) }.message shouldContain
            "devices are numbered 0 to ${devices.size - 1}"
    }
})
