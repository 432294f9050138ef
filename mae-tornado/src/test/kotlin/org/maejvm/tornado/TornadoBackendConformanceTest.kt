package org.maejvm.tornado

import io.kotest.core.spec.style.FunSpec
import org.maejvm.ops.testing.backendConformanceTests

/**
 * The shared conformance suite on the TornadoVM backend. Without the tornado profile the kernels run on the
 * API emulation (work-groups on virtual threads); with it, on TornadoVM's device 0 (float32 device math, so the
 * bounds are looser there).
 */
class TornadoBackendConformanceTest : FunSpec({
    val real = TornadoDevices.runtimeInstalled()
    include(backendConformanceTests(if (real) "tornado" else "tornado (emulated)", looseness = if (real) 4.0 else 1.0) {
        TornadoBackend(0)
    })
})
