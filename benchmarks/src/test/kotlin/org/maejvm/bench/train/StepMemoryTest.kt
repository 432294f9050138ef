package org.maejvm.bench.train

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.lang.reflect.Modifier
import java.util.IdentityHashMap
import java.util.SplittableRandom
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.Backend
import org.maejvm.ops.ReferenceBackend
import org.maejvm.optim.AdamW
import org.maejvm.tensor.HostTensor

/** The memory plan against the arrays a real model, its optimizer and the batch hold after a training step. */
class StepMemoryTest : FunSpec({

    /** Bytes of the distinct tensor storages reachable from [roots] through mae-jvm objects and collections. */
    fun heldBytes(vararg roots: Any): Long {
        val seen = IdentityHashMap<Any, Boolean>()
        var bytes = 0L
        val stack = ArrayDeque<Any>(roots.toList())
        while (stack.isNotEmpty()) {
            val o = stack.removeLast()
            if (seen.put(o, true) != null) continue
            when (o) {
                is HostTensor -> {
                    val storage: Any = o.data ?: o.ints
                    if (seen.put(storage, true) == null) bytes += 4L * o.size()
                }
                is FloatArray, is IntArray -> {}               // host-side arrays (mask plans), not tensors
                is Backend -> {}                               // the backend's own scratch is not the model's
                is Array<*> -> o.filterNotNull().forEach { stack.add(it) }
                is Collection<*> -> o.filterNotNull().forEach { stack.add(it) }
                is Map<*, *> -> o.values.filterNotNull().forEach { stack.add(it) }
                else -> if (o.javaClass.name.startsWith("org.maejvm.")) {
                    var k: Class<*>? = o.javaClass
                    while (k != null && k != Any::class.java) {
                        for (f in k.declaredFields) {
                            if (Modifier.isStatic(f.modifiers) || f.type.isPrimitive) continue
                            f.isAccessible = true
                            f.get(o)?.let { stack.add(it) }
                        }
                        k = k.superclass
                    }
                }
            }
        }
        return bytes
    }

    fun check(c: MaeConfig, batch: Int, maskRatio: Double) {
        val be = ReferenceBackend()
        val model = MaeModel(c, be, 1)
        val opt = AdamW.forMae(model.parameters(), 0.05f)
        val rng = SplittableRandom(2)
        val images = TrainBenchmark.randomImages(be, c, batch, rng)
        repeat(2) {
            model.forward(images, FloatArray(batch * c.numPatches()) { rng.nextFloat() }, maskRatio)
            model.backward()
            opt.step(1e-3f)
            model.parameters().zeroGrad()
        }
        val plan = StepMemory.of(c, batch, maskRatio)
        plan.parameters() shouldBe 16 * model.parameters().trainableCount() +
            4 * model.parameters().all().filter { !it.trainable() }.sumOf { it.value().size().toLong() }
        model.parameters().workspace().bytes() shouldBe plan.scratch()
        heldBytes(model, opt, images) shouldBe plan.total()
    }

    test("the plan counts every array of a step: RGB, decoder narrower than the encoder") {
        check(MaeConfig(16, 4, 3, 16, 2, 2, 8, 1, 2, 4.0, false), batch = 3, maskRatio = 0.75)
    }
    test("the plan counts every array of a step: grayscale, odd sizes, mlp ratio 2") {
        check(MaeConfig(9, 3, 1, 12, 1, 3, 8, 2, 2, 2.0, true), batch = 2, maskRatio = 0.6)
    }
})

class BenchJvmFlagsTest : FunSpec({
    test("the benchmark child gets the serial collector and a heap bound above its planned tensors") {
        val o = TrainBenchmark.Options(TrainCase.BASE, 8, 2, "simd", 1.0, 1.0)
        val flags = TrainComparison.memoryFlags(o)
        flags shouldContain "-XX:+UseSerialGC"
        val xmxMb = flags.single { it.startsWith("-Xmx") }.removePrefix("-Xmx").removeSuffix("m").toLong()
        val plannedMb = StepMemory.of(TrainCase.BASE.config(), 8, TrainCase.MASK_RATIO).total() / (1 shl 20)
        // base: ~1.8 GB of weights, gradients and AdamW moments, plus activations
        (plannedMb in 1800..3000) shouldBe true
        (xmxMb > plannedMb + TrainComparison.YOUNG_MB) shouldBe true
        TrainComparison.JvmRunner.current().command(o).joinToString(" ") shouldContain "-Xmx${xmxMb}m"
    }
})
