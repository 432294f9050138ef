package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom
import kotlin.math.abs

/** Modes, freezing, reproducibility and config checks of the classifier (its numbers are checked against PyTorch in the parity tests). */
class VitClassifierTest : FunSpec({
    val be = ReferenceBackend()
    val enc = MaeConfig(8, 4, 3, 16, 3, 2, 8, 1, 2, 2.0, false)
    val rng = SplittableRandom(5)
    val pixels = FloatArray(4 * 3 * 8 * 8) { rng.nextGaussian().toFloat() }
    val imgs = be.fromHost(pixels, 4, 3, 8, 8)
    val targets = be.fromHost(FloatArray(4 * 3) { if (it % 3 == it / 3 % 3) 1f else 0f }, 4, 3)

    fun step(model: VitClassifier): Float {
        val logits = model.forward(imgs)
        val d = be.zeros(*logits.shape())
        val loss = be.softmaxCrossEntropy(logits, targets, d)
        model.parameters().zeroGrad()
        model.backward(d)
        return loss
    }

    fun maxAbs(a: FloatArray) = a.maxOf { abs(it.toDouble()) }

    test("drop-path rates increase linearly from 0 to drop_path over the blocks") {
        val c = ClassifierConfig.finetune(enc, 3, 0.3)
        (0 until 3).map { c.dropPathRate(it) } shouldBe listOf(0.0, 0.15, 0.3)
    }

    test("the head starts as official: trunc_normal std 2e-5 (fine-tune) or 0.01 (linear probe), zero bias") {
        for ((cfg, std) in listOf(ClassifierConfig.finetune(enc, 3, 0.0) to 2e-5, ClassifierConfig.linprobe(enc, 3) to 0.01)) {
            val m = VitClassifier(cfg, be, 1)
            val w = be.toHost(m.headParameters()[0].value())
            val sd = kotlin.math.sqrt(w.sumOf { it.toDouble() * it } / w.size)
            (sd / std) shouldBeLessThan 1.6
            (std / sd) shouldBeLessThan 1.6
            maxAbs(be.toHost(m.headParameters()[1].value())) shouldBe 0.0
        }
    }

    test("with a frozen encoder only the head gets gradients, and they equal the unfrozen head gradients") {
        val model = VitClassifier(ClassifierConfig.linprobe(enc, 3), be, 2)
        step(model)
        val full = model.headParameters().map { be.toHost(it.grad()) }
        model.freezeEncoder(true)
        model.trainableParameters() shouldBe model.headParameters()
        step(model)
        model.headParameters().map { be.toHost(it.grad()).toList() } shouldBe full.map { it.toList() }
        for (p in model.parameters().trainable().filter { it !in model.headParameters() }) maxAbs(be.toHost(p.grad())) shouldBe 0.0
    }

    test("training mode with drop path is random but reproducible from the seed; eval mode is deterministic") {
        val model = VitClassifier(ClassifierConfig.finetune(enc, 3, 0.5), be, 3)
        model.reseed(42)
        val a = be.toHost(model.forward(imgs))
        val b = be.toHost(model.forward(imgs))
        model.reseed(42)
        val c = be.toHost(model.forward(imgs))
        c.toList() shouldBe a.toList()
        (a.toList() == b.toList()) shouldBe false
        model.train(false)
        be.toHost(model.forward(imgs)).toList() shouldBe be.toHost(model.forward(imgs)).toList()
    }

    test("gradients match central finite differences of the loss (fine-tune model, eval mode)") {
        val model = VitClassifier(ClassifierConfig.finetune(enc, 3, 0.0), be, 4)
        val head = model.headParameters()[0]
        be.upload(FloatArray(head.value().size()) { (rng.nextGaussian() * 0.3).toFloat() }, head.value())
        model.train(false)
        step(model)
        for (name in listOf("blocks.0.attn.qkv.weight", "cls_token", "pos_embed", "fc_norm.weight", "patch_embed.proj.bias")) {
            val p = model.parameters().get(name)
            val grad = be.toHost(p.grad())
            val v = be.toHost(p.value())
            val i = (0 until v.size).maxBy { abs(grad[it]) }
            val h = 2e-3f
            fun lossAt(x: Float): Double { v[i] = x; be.upload(v, p.value()); val l = model.forward(imgs); return be.softmaxCrossEntropy(l, targets, null).toDouble() }
            val x0 = v[i]
            val fd = (lossAt(x0 + h) - lossAt(x0 - h)) / (2 * h)
            lossAt(x0)
            withClue("$name[$i]: finite difference $fd, gradient ${grad[i]}") { abs(fd - grad[i]) shouldBeLessThan 1e-3 * maxOf(0.1, abs(fd)) }
        }
    }

    test("bad inputs and configs are refused with what was wrong") {
        val model = VitClassifier(ClassifierConfig.finetune(enc, 3, 0.0), be)
        shouldThrow<IllegalArgumentException> { model.forward(be.zeros(2, 3, 16, 16)) }.message shouldContain "[B, 3, 8, 8]"
        shouldThrow<IllegalStateException> { VitClassifier(ClassifierConfig.finetune(enc, 3, 0.0), be).backward(be.zeros(2, 3)) }
        shouldThrow<IllegalArgumentException> { ClassifierConfig.finetune(enc, 0, 1.5).validate() }.message.let {
            it shouldContain "num_classes"
            it shouldContain "drop_path"
        }
        val bn = VitClassifier(ClassifierConfig.linprobe(enc, 3), be)
        shouldThrow<IllegalArgumentException> { bn.forward(be.zeros(1, 3, 8, 8)) }.message shouldContain "more than 1 sample"
    }
})
