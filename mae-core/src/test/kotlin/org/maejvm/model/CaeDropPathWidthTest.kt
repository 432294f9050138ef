package org.maejvm.model

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.model.masking.BlockMasking
import org.maejvm.nn.LayerScaleBlock
import org.maejvm.nn.ParameterSet
import org.maejvm.ops.ReferenceBackend
import org.maejvm.tensor.Tensor
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.max

/** CAE's stochastic depth and the encoder-to-decoder width projection. */
class CaeDropPathWidthTest : FunSpec({
    val be = ReferenceBackend()
    // 8x8 RGB, 2x2 patches (16 tokens), encoder width 8 of 3 blocks
    val tiny = MaeConfig(8, 2, 3, 8, 3, 2, 8, 1, 2, 2.0, false)

    fun images(batch: Int, seed: Long): Tensor {
        val rng = SplittableRandom(seed)
        return be.fromHost(FloatArray(batch * 3 * 64) { rng.nextGaussian().toFloat() }, batch, 3, 8, 8)
    }

    /** Moves every parameter away from its init (biases, LayerNorms and gammas too), the teacher included. */
    fun perturb(model: CaeModel, seed: Long) {
        val rng = SplittableRandom(seed)
        for (p in model.parameters().all()) if (!p.name().endsWith("pos_embed")) {
            val v = be.toHost(p.value())
            be.upload(FloatArray(v.size) { v[it] + 0.1f * rng.nextGaussian().toFloat() }, p.value())
        }
    }

    test("drop-path rates rise linearly from 0 per stack, as torch.linspace(0, drop_path, depth)") {
        val c = CaeConfig.defaults().withDropPath(0.3)
        val expected = listOf(0.0, 0.1, 0.2, 0.3)
        for (i in 0 until 4) abs(c.dropPathRate(i, 4) - expected[i]) shouldBeLessThan 1e-12
        c.dropPathRate(0, 1) shouldBe 0.0
        val model = CaeModel(tiny, CaeConfig.defaults().withDepths(2, 3).withDropPath(0.3), be, 1)
        // rate 0 at the first block of each stack: no drop path there
        model.dropPaths().keys.toList() shouldBe listOf(
            "encoder.blocks.1.drop_path.attn", "encoder.blocks.1.drop_path.mlp",
            "encoder.blocks.2.drop_path.attn", "encoder.blocks.2.drop_path.mlp",
            "teacher.blocks.1.drop_path.attn", "teacher.blocks.1.drop_path.mlp",
            "teacher.blocks.2.drop_path.attn", "teacher.blocks.2.drop_path.mlp",
            "pretext_neck.regressor_blocks.1.drop_path.attn", "pretext_neck.regressor_blocks.1.drop_path.mlp",
            "pretext_neck.decoder_blocks.1.drop_path.attn", "pretext_neck.decoder_blocks.1.drop_path.mlp",
            "pretext_neck.decoder_blocks.2.drop_path.attn", "pretext_neck.decoder_blocks.2.drop_path.mlp",
        )
        abs(model.dropPaths().getValue("encoder.blocks.1.drop_path.attn").rate() - 0.15) shouldBeLessThan 1e-12
        abs(model.dropPaths().getValue("pretext_neck.decoder_blocks.1.drop_path.mlp").rate() - 0.15) shouldBeLessThan 1e-12
        CaeModel(tiny, CaeConfig.defaults().withDropPath(0.0), be, 1).dropPaths().isEmpty() shouldBe true
    }

    test("a dropped sample's residual branches add nothing; a kept branch is scaled by 1 / keep (hand-checked)") {
        val rate = 0.25
        val withDp = ParameterSet(be)
        val blk = LayerScaleBlock(withDp, "b", 8, 2, 2.0, 0.1, rate)
        val plainSet = ParameterSet(be)
        val plain = LayerScaleBlock(plainSet, "b", 8, 2, 2.0, 0.1, 0.0)
        val rng = SplittableRandom(5)
        for (p in withDp.all()) {
            val v = FloatArray(p.value().size()) { 0.3f * rng.nextGaussian().toFloat() }
            be.upload(v, p.value())
            be.upload(v, plainSet.get(p.name()).value())
        }
        // the twin without drop path and with gamma_2 = 0 computes x + gamma_1 * attn(norm1(x)) alone
        be.fill(plainSet.get("b.gamma_2").value(), 0f)
        val x = FloatArray(2 * 3 * 8) { rng.nextGaussian().toFloat() }
        // sample 0: both branches dropped; sample 1: attention kept, MLP dropped
        blk.dropPathAttn().setKeepMask(floatArrayOf(0f, 1f))
        blk.dropPathMlp().setKeepMask(floatArrayOf(0f, 0f))
        val out = be.toHost(blk.forward(be.fromHost(x, 2, 3, 8)))
        for (i in 0 until 24) out[i] shouldBe x[i] // exactly the input
        val attnOnly = be.toHost(plain.forward(be.fromHost(x, 2, 3, 8)))
        for (i in 24 until 48) {
            val branch = attnOnly[i] - x[i]
            val expected = x[i] + branch / (1 - rate)
            withClue("sample 1, element ${i - 24}") { abs(out[i] - expected).toDouble() shouldBeLessThan 1e-5 }
        }
        // the backward passes nothing through a dropped sample's branches: d(x) = d(out) for sample 0
        val dy = FloatArray(48) { rng.nextGaussian().toFloat() }
        val dx = be.toHost(blk.backward(be.fromHost(dy, 2, 3, 8)))
        for (i in 0 until 24) dx[i] shouldBe dy[i]
    }

    test("eval mode turns stochastic depth off: equal to the same weights without drop path; training draws from the seed") {
        val dp = CaeModel(tiny, CaeConfig.defaults().withDepths(2, 2).withDropPath(0.5), be, 3).teacherUpdates(false)
        val none = CaeModel(tiny, CaeConfig.defaults().withDepths(2, 2).withDropPath(0.0), be, 3).teacherUpdates(false)
        perturb(dp, 4)
        none.parameters().load(dp.parameters().stateDict(), true)
        val imgs = images(4, 6)
        val plan = BlockMasking().plan(4, 4, 4, 0.5, SplittableRandom(7))
        dp.train(false).forward(imgs, plan) shouldBe none.forward(imgs, plan)
        dp.train(true)
        dp.reseed(9); val a = dp.forward(imgs, plan)
        dp.reseed(9); val b = dp.forward(imgs, plan)
        dp.reseed(10); val c = dp.forward(imgs, plan)
        a shouldBe b
        a shouldNotBe c
        a shouldNotBe none.forward(imgs, plan)
        // all-kept masks are not the identity: kept branches are scaled by 1 / (1 - rate)
        val allKept = dp.dropPaths().keys.associateWith { FloatArray(4) { 1f } }
        dp.forward(imgs, plan, allKept) shouldNotBe none.forward(imgs, plan)
        // explicit masks must name exactly the drop paths with a rate > 0
        shouldThrow<IllegalArgumentException> { dp.forward(imgs, plan, mapOf("encoder.blocks.1.drop_path.attn" to FloatArray(4))) }
            .message shouldContain "missing"
        shouldThrow<IllegalArgumentException> { dp.forward(imgs, plan, allKept + ("encoder.blocks.0.drop_path.attn" to FloatArray(4))) }
            .message shouldContain "unknown [encoder.blocks.0.drop_path.attn]"
        shouldThrow<IllegalArgumentException> { dp.forward(imgs, plan, allKept.mapValues { FloatArray(3) }) }
            .message shouldContain "for a batch of 4"
        // encode (downstream features) never drops
        val f1 = be.toHost(dp.encode(imgs))
        val f2 = be.toHost(none.encode(imgs))
        f1.toList() shouldBe f2.toList()
    }

    test("width projection: encoder_to_decoder [D' x D] + its LayerNorm, neck at width D', positions rebuilt at D'") {
        val model = CaeModel(tiny, CaeConfig.defaults().withDepths(1, 1).withDecoder(12, 3), be, 2)
        val p = model.parameters()
        p.get("encoder_to_decoder.weight").shape().toList() shouldBe listOf(12, 8)
        p.get("encoder_to_decoder.bias").shape().toList() shouldBe listOf(12)
        p.get("encoder_to_decoder_norm.weight").shape().toList() shouldBe listOf(12)
        p.get("mask_token").shape().toList() shouldBe listOf(1, 1, 12)
        p.get("pretext_neck.head.weight").shape().toList() shouldBe listOf(12, 12)
        p.get("pretext_neck.regressor_blocks.0.cross_attn.q.weight").shape().toList() shouldBe listOf(12, 12)
        p.get("encoder.blocks.0.attn.qkv.weight").shape().toList() shouldBe listOf(24, 8)
        // the same width needs no projection (the official default)
        CaeModel(tiny, CaeConfig.defaults().withDepths(1, 1).withDecoder(8, 0), be, 2).parameters().all()
            .none { it.name().startsWith("encoder_to_decoder") } shouldBe true
        model.teacherUpdates(false).train(false)
        model.forward(images(2, 3), BlockMasking().plan(2, 4, 4, 0.5, SplittableRandom(1)))
        model.latentPred().shape().toList() shouldBe listOf(2, 8, 12)
        model.latentTarget().shape().toList() shouldBe listOf(2, 8, 12)
        // targets go through the projection too: LayerNorm output with weight 1, bias 0 has zero mean per row
        val t = be.toHost(model.latentTarget())
        for (r in 0 until 16) abs(t.copyOfRange(r * 12, r * 12 + 12).sum().toDouble()) shouldBeLessThan 1e-4
    }

    test("config: decoder width and drop path validated with clear messages") {
        fun problem(c: CaeConfig) = shouldThrow<IllegalArgumentException> { c.validate(tiny) }.message!!
        problem(CaeConfig.defaults().withDecoder(10, 2)) shouldContain "decoder_embed_dim must be a multiple of 4"
        problem(CaeConfig.defaults().withDecoder(12, 5)) shouldContain "decoder_num_heads 5 does not divide the regressor/decoder width 12"
        problem(CaeConfig.defaults().withDecoder(-4, 0)) shouldContain "decoder_embed_dim must be >= 0"
        problem(CaeConfig.defaults().withDropPath(1.0)) shouldContain "drop_path must be in [0, 1)"
        CaeConfig.defaults().dropPath() shouldBe 0.1
        CaeConfig.defaults().widthFor(tiny) shouldBe 8
    }

    // The teacher's target also passes through encoder_to_decoder, under no_grad (the official stop-gradient), so
    // moving the projection moves the target, which the gradient ignores by design. With λ = 2 the finite
    // differences leave the projection alone; with λ = 0 (no target in the loss) they move every parameter.
    for (lambda in listOf(2.0, 0.0)) test("gradient with drop path (fixed masks) and a width projection against finite differences (λ = $lambda)") {
        val cae = CaeConfig.defaults().withDepths(2, 2).withDropPath(0.4).withDecoder(12, 3).withAlignLossWeight(lambda)
        val model = CaeModel(tiny, cae, be, 21).teacherUpdates(false)
        perturb(model, 22)
        val rng = SplittableRandom(23)
        val imgs = images(3, 24)
        val plan = BlockMasking().plan(3, 4, 4, 0.5, rng)
        // each mask drops one of the three images, a different one per drop path
        val names = model.dropPaths().keys.toList()
        val keep = names.withIndex().associate { (i, n) -> n to FloatArray(3) { if (it == i % 3) 0f else 1f } }
        val params = model.parameters()
        params.zeroGrad()
        model.forward(imgs, plan, keep)
        model.backward(1f)
        val trainable = params.trainable()
        val grads = trainable.map { be.toHost(it.grad()) }
        val values = trainable.map { be.toHost(it.value()) }
        repeat(3) {
            val dirs = trainable.indices.map { i ->
                val still = lambda != 0.0 && trainable[i].name().startsWith("encoder_to_decoder")
                FloatArray(values[i].size) { if (still) 0f else rng.nextGaussian().toFloat() }
            }
            var analytic = 0.0
            for (i in trainable.indices) for (j in dirs[i].indices) analytic += grads[i][j].toDouble() * dirs[i][j]
            fun lossAt(step: Float): Double {
                for (i in trainable.indices) {
                    be.upload(FloatArray(values[i].size) { j -> values[i][j] + step * dirs[i][j] }, trainable[i].value())
                }
                return model.forward(imgs, plan, keep).toDouble()
            }
            // central differences at h and h/2 with Richardson extrapolation: the h² curvature term cancels
            val h = 6e-4f
            val dh = (lossAt(h) - lossAt(-h)) / (2 * h)
            val dh2 = (lossAt(h / 2) - lossAt(-h / 2)) / h
            val numeric = (4 * dh2 - dh) / 3
            for (i in trainable.indices) be.upload(values[i], trainable[i].value())
            val rel = abs(numeric - analytic) / max(1e-6, abs(analytic))
            withClue("numeric $numeric analytic $analytic") { rel shouldBeLessThan 1e-2 }
        }
        for (n in listOf("encoder_to_decoder.weight", "encoder_to_decoder_norm.bias", "encoder.blocks.2.gamma_2",
            "pretext_neck.decoder_blocks.1.mlp.fc2.weight", "mask_token")) {
            withClue("$n receives gradient") { (be.sumSquares(params.get(n).grad()) > 0f) shouldBe true }
        }
    }
})
