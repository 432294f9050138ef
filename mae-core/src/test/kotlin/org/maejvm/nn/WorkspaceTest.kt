package org.maejvm.nn

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.booleans.shouldBeFalse
import io.kotest.matchers.booleans.shouldBeTrue
import io.kotest.matchers.longs.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.model.MaeConfig
import org.maejvm.model.MaeModel
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom

class WorkspaceTest : FunSpec({
    val be = ReferenceBackend()

    test("a released buffer is lent again; buffers lent at once are distinct") {
        val ws = Workspace(be)
        val a = ws.borrow(2, 3)
        val b = ws.borrow(2, 3)
        a.sharesStorageWith(b).shouldBeFalse()
        ws.lentCount() shouldBe 2
        ws.release(a)
        ws.borrow(2, 3).sharesStorageWith(a).shouldBeTrue()
        ws.bufferCount() shouldBe 2
        ws.bytes() shouldBe 2L * 6 * 4
    }

    test("the lowest free buffer of a shape is lent, so a repeated pattern gets the same buffers") {
        val ws = Workspace(be)
        fun pattern(): List<Any> {
            val x = ws.borrow(4)
            val y = ws.borrow(4)
            ws.release(x)
            val z = ws.borrow(4)
            val w = ws.borrow(4)
            ws.release(y); ws.release(z); ws.release(w)
            return listOf(x, y, z, w)
        }
        val first = pattern()
        val second = pattern()
        for (i in first.indices) (first[i] === second[i]).shouldBeTrue()
        ws.bufferCount() shouldBe 3
    }

    test("releasing twice or releasing a foreign tensor is refused") {
        val ws = Workspace(be)
        val a = ws.borrow(3)
        ws.release(a)
        shouldThrow<IllegalStateException> { ws.release(a) }.message shouldContain "released twice"
        shouldThrow<IllegalArgumentException> { ws.release(be.zeros(3)) }.message shouldContain "not lent"
    }

    test("a new batch size frees the free buffers of the old one, not those of other shapes or lent ones") {
        val ws = Workspace(be)
        val old = ws.borrow(8, 5, 4)
        val held = ws.borrow(8, 5, 4)
        val other = ws.borrow(8, 7, 4)
        ws.release(old); ws.release(other)
        ws.borrow(3, 5, 4)
        ws.bufferCount() shouldBe 3 // held, other, the new one
        ws.bytes() shouldBe 4L * (8 * 5 * 4 + 8 * 7 * 4 + 3 * 5 * 4)
        ws.release(held)
    }

    // The memory plan of a model: activation gradients and residual branches are workspace scratch, so after a
    // step nothing is lent, a second step allocates nothing, and the scratch does not grow with depth.
    fun step(model: MaeModel, seed: Long): Float {
        val c = model.config()
        val rng = SplittableRandom(seed)
        val batch = 3
        val imgs = be.fromHost(FloatArray(batch * c.inChans() * c.imgSize() * c.imgSize()) { rng.nextFloat() },
            batch, c.inChans(), c.imgSize(), c.imgSize())
        val loss = model.forward(imgs, FloatArray(batch * c.numPatches()) { rng.nextFloat() }, 0.75)
        model.backward()
        return loss
    }

    fun config(depth: Int, decoderDepth: Int) = MaeConfig(16, 4, 3, 16, depth, 2, 8, decoderDepth, 2, 4.0, false)

    test("an MAE step returns every loan and the next step allocates no scratch") {
        val model = MaeModel(config(2, 1), be, 1)
        step(model, 1)
        val ws = model.parameters().workspace()
        ws.lentCount() shouldBe 0
        val buffers = ws.bufferCount()
        val bytes = ws.bytes()
        bytes shouldBeGreaterThan 0L
        step(model, 2)
        ws.lentCount() shouldBe 0
        ws.bufferCount() shouldBe buffers
        ws.bytes() shouldBe bytes
    }

    test("the scratch of an MAE step does not grow with depth") {
        val shallow = MaeModel(config(1, 1), be, 1)
        val deep = MaeModel(config(6, 3), be, 1)
        step(shallow, 1)
        step(deep, 1)
        deep.parameters().workspace().peakBytes() shouldBe shallow.parameters().workspace().peakBytes()
    }
    test("a step after one that threw with loans outstanding takes them back, allocates nothing and computes as a fresh model") {
        val model = MaeModel(config(2, 1), be, 1)
        val fresh = MaeModel(config(2, 1), be, 1)
        step(model, 1)
        step(fresh, 1)
        val ws = model.parameters().workspace()
        val buffers = ws.bufferCount()
        // what a step that threw inside the decoder's backward leaves behind: its two token-gradient buffers
        // ([batch 3, 1 + 16 patches, decoder width 8]) lent and never released
        ws.borrow(3, 17, 8)
        ws.borrow(3, 17, 8)
        ws.lentCount() shouldBe 2
        val lossAfter = step(model, 2)
        ws.lentCount() shouldBe 0
        ws.bufferCount() shouldBe buffers
        lossAfter shouldBe step(fresh, 2)
        for ((a, b) in model.parameters().trainable().zip(fresh.parameters().trainable())) {
            be.toHost(a.grad()).toList() shouldBe be.toHost(b.grad()).toList()
        }
    }
})
