package org.maejvm.simd

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.shouldBe
import org.maejvm.ops.Backend
import org.maejvm.ops.HostBackend
import java.lang.reflect.Method
import java.lang.reflect.Modifier
import java.nio.file.Files
import java.nio.file.Paths

/** Guards against an op silently running somewhere other than the SIMD kernels. */
class SimdBackendOverridesTest : FunSpec({

    /** The class whose body SimdBackend runs for this method of Backend. */
    fun implementor(m: Method): Class<*> {
        var c: Class<*>? = SimdBackend::class.java
        while (c != null) {
            val found = c.declaredMethods.any { it.name == m.name && it.parameterTypes.contentEquals(m.parameterTypes) && !Modifier.isAbstract(it.modifiers) }
            if (found) return c
            c = c.superclass
        }
        error("no implementation of ${m.name}")
    }

    // Heap storage is shared by the CPU backends on purpose: arraycopy and Arrays.fill are already the fast path.
    val hostStorage = setOf("uploadKernel", "downloadKernel", "fillKernel", "copyKernel", "copyRowsKernel")

    test("SimdBackend itself implements every protected abstract kernel of Backend except heap storage and copies") {
        val kernels = Backend::class.java.declaredMethods.filter { Modifier.isAbstract(it.modifiers) && Modifier.isProtected(it.modifiers) }
        kernels.map { it.name } shouldContainAll listOf("gemmKernel", "attentionForwardKernel", "attentionBackwardKernel",
            "layerNormBackwardKernel", "geluForwardKernel", "adamwKernel", "sumSquaresKernel")
        val elsewhere = kernels.filter { it.name !in hostStorage && implementor(it) != SimdBackend::class.java }
        elsewhere.map { "${it.name} runs in ${implementor(it).simpleName}" }.shouldBeEmpty()
        for (k in kernels.filter { it.name in hostStorage }) implementor(k) shouldBe HostBackend::class.java
    }

    test("no class of the SIMD backend refers to the reference backend") {
        val dir = Paths.get(SimdBackend::class.java.getResource("SimdBackend.class")!!.toURI()).parent
        val classes = Files.list(dir).use { s -> s.filter { it.toString().endsWith(".class") }.toList() }
        classes.size shouldBeGreaterThanOrEqual 8
        val referring = classes.filter { f ->
            String(Files.readAllBytes(f), Charsets.ISO_8859_1).contains("org/maejvm/ops/ReferenceBackend")
        }
        referring.map { it.fileName.toString() }.shouldBeEmpty()
    }
})
