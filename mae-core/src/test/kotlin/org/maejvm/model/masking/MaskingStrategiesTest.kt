package org.maejvm.model.masking

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThanOrEqual
import io.kotest.matchers.ints.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.maejvm.model.MaskPlan
import java.util.SplittableRandom
import kotlin.math.abs
import kotlin.math.ln

class MaskingStrategiesTest : FunSpec({
    val strategies = listOf(
        "random", "block", "block:min=4,max=20,aspect=0.5", "grid", "grid:cell=2,offset=random", "focus",
        "focus:x0=0,y0=0,x1=0.5,y1=1,weight=0.2",
    )

    /** The MaskPlan contract every strategy must honour. */
    fun checkContract(plan: MaskPlan, batch: Int, patches: Int, keep: Int) {
        plan.batch() shouldBe batch
        plan.patches() shouldBe patches
        plan.keep() shouldBe keep
        val shuffle = plan.idsShuffle(); val restore = plan.idsRestore(); val mask = plan.mask()
        for (b in 0 until batch) {
            val base = b * patches
            (0 until patches).map { shuffle[base + it] }.sorted() shouldBe (0 until patches).toList()
            for (j in 0 until patches) {
                // ids_restore undoes ids_shuffle, and mask is 1 exactly for patches shuffled past keep
                shuffle[base + restore[base + j]] shouldBe j
                mask[base + j] shouldBe (if (restore[base + j] < keep) 0f else 1f)
            }
            (0 until patches).count { mask[base + it] == 1f } shouldBe patches - keep
        }
        val kept = plan.idsKeep()
        for (b in 0 until batch) for (j in 0 until keep) mask[b * patches + kept[b * keep + j]] shouldBe 0f
        val masked = plan.idsMasked()
        for (b in 0 until batch) for (j in 0 until patches - keep) mask[b * patches + masked[b * (patches - keep) + j]] shouldBe 1f
    }

    for (spec in strategies) {
        test("$spec: exact count per image, contract, and determinism under a seed") {
            val s = MaskingSpec.parse(spec)
            for ((grid, ratio) in listOf(14 to 0.75, 8 to 0.75, 4 to 0.75) + (if (spec.startsWith("grid")) listOf() else listOf(14 to 0.5, 7 to 0.6))) {
                val l = grid * grid
                val keep = (l * (1 - ratio)).toInt()
                val a = s.plan(5, grid, grid, ratio, SplittableRandom(42))
                withClue("$spec grid $grid ratio $ratio") {
                    checkContract(a, 5, l, keep)
                    val again = s.plan(5, grid, grid, ratio, SplittableRandom(42))
                    again.idsShuffle().toList() shouldBe a.idsShuffle().toList()
                }
            }
        }
    }

    for (spec in strategies) {
        test("$spec: image i's mask depends only on noise row i (as random masking), so ranks and resumed runs agree") {
            val s = MaskingSpec.parse(spec)
            val rng = SplittableRandom(17)
            val l = 64
            val noise = FloatArray(4 * l) { rng.nextFloat() }
            val batch = s.planFromNoise(noise, 4, 8, 8, 0.75)
            for (i in 0 until 4) {
                // the same row alone, and as the second image of another batch
                val alone = s.planFromNoise(noise.copyOfRange(i * l, (i + 1) * l), 1, 8, 8, 0.75)
                val other = FloatArray(l) { rng.nextFloat() }
                val pair = s.planFromNoise(other + noise.copyOfRange(i * l, (i + 1) * l), 2, 8, 8, 0.75)
                withClue("$spec image $i") {
                    alone.mask().toList() shouldBe batch.mask().copyOfRange(i * l, (i + 1) * l).toList()
                    pair.mask().copyOfRange(l, 2 * l).toList() shouldBe alone.mask().toList()
                }
            }
            // and plan(rng) is planFromNoise of the noise drawn row-major from the generator
            val drawn = SplittableRandom(3).let { r -> FloatArray(2 * l) { r.nextFloat() } }
            s.plan(2, 8, 8, 0.75, SplittableRandom(3)).idsShuffle().toList() shouldBe
                s.planFromNoise(drawn, 2, 8, 8, 0.75).idsShuffle().toList()
        }
    }

    test("focus masking with equal weights masks exactly what random masking masks from the same noise") {
        val rng = SplittableRandom(21)
        val noise = FloatArray(6 * 49) { rng.nextFloat() }
        for (ratio in listOf(0.5, 0.75)) {
            val random = RandomMasking().planFromNoise(noise, 6, 7, 7, ratio)
            val focus = FocusMasking.box(0.25, 0.25, 0.75, 0.75, 1.0).planFromNoise(noise, 6, 7, 7, ratio)
            focus.mask().toList() shouldBe random.mask().toList()
        }
        shouldThrow<IllegalArgumentException> { BlockMasking().planFromNoise(FloatArray(10), 1, 4, 4, 0.5) }
            .message shouldContain "expected batch x patches = 1 x 16"
    }

    test("random strategy draws the same noise as MAE's argsort of uniform noise") {
        val rng = SplittableRandom(9)
        val noise = FloatArray(3 * 16) { rng.nextFloat() }
        RandomMasking().plan(3, 4, 4, 0.75, SplittableRandom(9)).idsShuffle().toList() shouldBe
            MaskPlan.random(noise, 3, 16, 0.75).idsShuffle().toList()
    }

    test("random strategies differ between seeds and between images") {
        for (spec in listOf("random", "block", "focus", "grid:offset=random")) {
            val s = MaskingSpec.parse(spec)
            val a = s.plan(8, 8, 8, 0.75, SplittableRandom(1)).mask()
            val b = s.plan(8, 8, 8, 0.75, SplittableRandom(2)).mask()
            withClue(spec) { (a.toList() == b.toList()) shouldBe false }
            val images = (0 until 8).map { i -> a.copyOfRange(i * 64, (i + 1) * 64).toList() }.toSet()
            withClue("$spec: images should not all share one mask") { images.size shouldBeGreaterThanOrEqual 2 }
        }
    }

    test("block masking places contiguous rectangles inside the grid, with the aspect range, and tops up rarely") {
        val blk = BlockMasking()
        var toppedUp = 0
        var blocks = 0
        for (seed in 0L until 200L) {
            val rng = SplittableRandom(seed)
            val s = blk.sample(14, 14, 98, rng) // CAE's 98 of 196
            s.masked().count { it } shouldBe 98
            val covered = BooleanArray(196)
            for (r in s.blocks()) {
                r.h() shouldBeGreaterThanOrEqual 1
                r.w() shouldBeGreaterThanOrEqual 1
                r.h() shouldBeLessThan 14 // BEiT: strictly smaller than the grid
                r.w() shouldBeLessThan 14
                (r.top() + r.h() <= 14 && r.left() + r.w() <= 14) shouldBe true
                // aspect h/w within rounding of (0.3, 1/0.3)
                val aspect = r.h().toDouble() / r.w()
                withClue("block $r") { (aspect > 0.3 / 2.5 && aspect < 2.5 / 0.3) shouldBe true }
                for (i in r.top() until r.top() + r.h()) for (j in r.left() until r.left() + r.w()) {
                    s.masked()[i * 14 + j] shouldBe true
                    covered[i * 14 + j] = true
                }
            }
            // everything masked is a block patch or one of the top-up patches
            (s.masked().indices.count { s.masked()[it] && !covered[it] }) shouldBe s.toppedUp()
            toppedUp += s.toppedUp()
            blocks += s.blocks().size
        }
        withClue("blocks do almost all the masking: top-up $toppedUp of ${200 * 98}") {
            (toppedUp.toDouble() / (200 * 98)) shouldBeLessThan 0.05
        }
        (blocks / 200.0) shouldBeLessThan 98.0 / 16 + 1 // areas of at least 16 patches: few blocks per image
    }

    test("block masks are spatially clustered: far more masked 4-neighbours than random masking") {
        fun neighbourRate(plan: MaskPlan, grid: Int): Double {
            var pairs = 0; var both = 0
            val m = plan.mask()
            for (b in 0 until plan.batch()) for (i in 0 until grid) for (j in 0 until grid) {
                val at = b * grid * grid + i * grid + j
                if (m[at] != 1f) continue
                for ((di, dj) in listOf(0 to 1, 1 to 0, 0 to -1, -1 to 0)) {
                    val ni = i + di; val nj = j + dj
                    if (ni !in 0 until grid || nj !in 0 until grid) continue
                    pairs++
                    if (m[b * grid * grid + ni * grid + nj] == 1f) both++
                }
            }
            return both.toDouble() / pairs
        }
        val block = neighbourRate(BlockMasking().plan(50, 14, 14, 0.5, SplittableRandom(3)), 14)
        val random = neighbourRate(RandomMasking().plan(50, 14, 14, 0.5, SplittableRandom(3)), 14)
        withClue("masked neighbours of masked patches: block $block, random $random") {
            random shouldBeLessThan 0.56
            block shouldBeGreaterThan 0.7
        }
    }

    test("minimum block area scales with the grid: 16 at 14x14, at least 4") {
        BlockMasking().minPatchesFor(14, 14) shouldBe 16
        BlockMasking().minPatchesFor(4, 4) shouldBe 4
        BlockMasking().minPatchesFor(28, 28) shouldBe 64
        BlockMasking(9, 0, 0.3).minPatchesFor(14, 14) shouldBe 9
    }

    test("grid masking keeps one patch per 2x2 cell at a fixed offset, or one offset per image") {
        val fixed = GridMasking(2, false).plan(2, 4, 4, 0.75, SplittableRandom(0))
        val expected = FloatArray(16) { p -> if (p / 4 % 2 == 0 && p % 4 % 2 == 0) 0f else 1f }
        fixed.mask().copyOfRange(0, 16).toList() shouldBe expected.toList()
        fixed.mask().copyOfRange(16, 32).toList() shouldBe expected.toList()
        fixed.idsKeep().toList() shouldBe listOf(0, 2, 8, 10, 0, 2, 8, 10)

        val offsets = mutableSetOf<Pair<Int, Int>>()
        val plan = GridMasking(3, true).plan(40, 6, 6, 1 - 1.0 / 9, SplittableRandom(5))
        for (b in 0 until 40) {
            val kept = plan.idsKeep().copyOfRange(b * 4, b * 4 + 4).toList()
            val dy = kept[0] / 6 % 3; val dx = kept[0] % 6 % 3
            kept shouldBe listOf(0, 3, 18, 21).map { it + dy * 6 + dx } // the same offset in every cell
            offsets += dy to dx
        }
        offsets.size shouldBe 9 // all 9 offsets appear over 40 images
    }

    test("grid masking refuses a ratio or grid it cannot produce, naming the valid ratio") {
        shouldThrow<IllegalArgumentException> { GridMasking(2, false).plan(1, 4, 4, 0.6, SplittableRandom(0)) }.message shouldContain "0.75"
        shouldThrow<IllegalArgumentException> { GridMasking(3, false).plan(1, 4, 4, 1 - 1.0 / 9, SplittableRandom(0)) }.message shouldContain "divisible by 3"
        MaskingSpec.problem("grid:cell=2", 14, 14, 0.5)!! shouldContain "0.75"
        MaskingSpec.problem("grid:cell=2", 14, 14, 0.75) shouldBe null
    }

    test("focus masking is a multinomial draw without replacement: exact probabilities on 3 patches") {
        val w = floatArrayOf(1f, 2f, 3f)
        val n = 60_000
        val rng = SplittableRandom(11)
        val one = IntArray(3); val two = IntArray(3)
        repeat(n) {
            FocusMasking.sample(w, 1, rng).forEachIndexed { i, m -> if (m) one[i]++ }
            FocusMasking.sample(w, 2, rng).forEachIndexed { i, m -> if (!m) two[i]++ }
        }
        // one draw: P(i) = w_i / 6
        for (i in 0 until 3) withClue("P(mask $i) in one draw") { abs(one[i].toDouble() / n - w[i] / 6.0) shouldBeLessThan 0.01 }
        // two sequential draws: P(i is the one left) = sum over orders of the other two
        fun left(i: Int): Double {
            val (a, b) = (0 until 3).filter { it != i }
            return w[a] / 6.0 * w[b] / (6.0 - w[a]) + w[b] / 6.0 * w[a] / (6.0 - w[b])
        }
        for (i in 0 until 3) withClue("P(keep $i) after two draws") { abs(two[i].toDouble() / n - left(i)) shouldBeLessThan 0.01 }
    }

    test("focus masking masks the box more often with weight > 1 and less with weight < 1; weight 0 only when forced") {
        fun rates(spec: String): Pair<Double, Double> {
            val s = MaskingSpec.parse(spec) as FocusMasking
            val w = s.weightsFor(8, 8)
            val plan = s.plan(200, 8, 8, 0.5, SplittableRandom(4))
            var inside = 0.0; var outside = 0.0
            val nIn = w.count { it != 1f }
            for (b in 0 until 200) for (p in 0 until 64) {
                if (plan.mask()[b * 64 + p] == 1f) { if (w[p] != 1f) inside++ else outside++ }
            }
            return inside / (200.0 * nIn) to outside / (200.0 * (64 - nIn))
        }
        val (hiIn, hiOut) = rates("focus:weight=3")
        withClue("weight 3: inside $hiIn outside $hiOut") { hiIn shouldBeGreaterThan hiOut + 0.2 }
        val (loIn, loOut) = rates("focus:weight=0.2")
        withClue("weight 0.2: inside $loIn outside $loOut") { loIn shouldBeLessThan loOut - 0.2 }
        // central 16 patches at weight 0: 48 positive, so masking 32 never touches the box ...
        val zero = FocusMasking.box(0.25, 0.25, 0.75, 0.75, 0.0)
        val w = zero.weightsFor(8, 8)
        val p = zero.plan(20, 8, 8, 0.5, SplittableRandom(1))
        for (b in 0 until 20) for (i in 0 until 64) if (w[i] == 0f) p.mask()[b * 64 + i] shouldBe 0f
        // ... and masking 56 of 64 takes all 48 positive ones and 8 of the box
        val forced = zero.plan(3, 8, 8, 0.875, SplittableRandom(1))
        for (b in 0 until 3) for (i in 0 until 64) if (w[i] > 0f) forced.mask()[b * 64 + i] shouldBe 1f
    }

    test("a focus weight map must match the grid and be non-negative") {
        shouldThrow<IllegalArgumentException> { FocusMasking.weights(floatArrayOf(1f, -1f)) }.message shouldContain "entry 1"
        shouldThrow<IllegalArgumentException> { FocusMasking.weights(FloatArray(4)) }.message shouldContain "positive"
        shouldThrow<IllegalArgumentException> { FocusMasking.weights(FloatArray(4) { 1f }).plan(1, 3, 3, 0.5, SplittableRandom(0)) }
            .message shouldContain "3x3"
        // a map that is all on the left half masks only there at ratio 0.5
        val map = FloatArray(16) { if (it % 4 < 2) 1f else 0f }
        val plan = FocusMasking.weights(map).plan(4, 4, 4, 0.5, SplittableRandom(2))
        for (b in 0 until 4) for (i in 0 until 16) plan.mask()[b * 16 + i] shouldBe (if (i % 4 < 2) 1f else 0f)
    }

    test("specs: names, options and clear errors") {
        MaskingSpec.parse("block:min=16").spec() shouldBe "block:min=16"
        MaskingSpec.parse("grid:cell=2,offset=random").spec() shouldBe "grid:cell=2,offset=random"
        MaskingSpec.parse(" Random ").spec() shouldBe "random"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("blocky") }.message shouldContain "random, block, grid, focus"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("grid:size=2") }.message shouldContain "known: cell, offset"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("grid:cell") }.message shouldContain "key=value"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("grid:cell=two") }.message shouldContain "integer"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("grid:offset=left") }.message shouldContain "fixed"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("random:x=1") }.message shouldContain "takes none"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("focus:x0=0.8,x1=0.2") }.message shouldContain "x0 < x1"
        shouldThrow<IllegalArgumentException> { MaskingSpec.parse("block:aspect=2") }.message shouldContain "(0, 1]"
    }

    test("fromMasked refuses batches whose images mask different counts") {
        val m = BooleanArray(8) { it == 0 || it == 5 || it == 6 }
        shouldThrow<IllegalArgumentException> { MaskPlan.fromMasked(m, 2, 4) }.message shouldContain "same count"
    }

    test("the log-uniform aspect ratio is symmetric: tall and wide blocks equally common") {
        var tall = 0; var wide = 0
        for (seed in 0L until 300L) for (r in BlockMasking().sample(14, 14, 98, SplittableRandom(seed)).blocks()) {
            if (r.h() > r.w()) tall++ else if (r.w() > r.h()) wide++
        }
        val ratio = tall.toDouble() / wide
        withClue("tall $tall wide $wide") { abs(ln(ratio)) shouldBeLessThan ln(1.25) }
    }
})
