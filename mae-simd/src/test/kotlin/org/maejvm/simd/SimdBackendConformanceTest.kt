package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import org.maejvm.ops.testing.backendConformanceTests

/** The shared conformance suite on one thread (no splitting) and on two (ranges and per-range partials). */
class SimdBackendConformanceTest : FunSpec({
    include(backendConformanceTests("simd, 1 thread") { SimdBackend(1) })
    include(backendConformanceTests("simd, 2 threads") { SimdBackend(2) })
})
