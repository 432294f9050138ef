package org.maejvm.viz

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.property.Arb
import io.kotest.property.arbitrary.element
import io.kotest.property.arbitrary.int
import io.kotest.property.checkAll
import org.maejvm.ops.ReferenceBackend
import java.util.SplittableRandom

class PatchesTest : FunSpec({
    val be = ReferenceBackend()

    fun randomImages(rng: SplittableRandom, n: Int) = FloatArray(n) { rng.nextGaussian().toFloat() }

    for (channels in listOf(1, 3)) {
        test("unpatchify inverts the backend's (i, j, c) patchify, $channels channel(s)") {
            checkAll(25, Arb.int(1..3), Arb.element(1, 2, 4, 7), Arb.int(1..4), Arb.int(0..1000)) { batch, patch, grid, seed ->
                val size = patch * grid
                val imgs = randomImages(SplittableRandom(seed.toLong()), batch * channels * size * size)
                val patches = be.zeros(batch, grid * grid, patch * patch * channels)
                be.patchify(be.fromHost(imgs, batch, channels, size, size), patch, true, patches)
                Patches.unpatchify(be.toHost(patches), batch, channels, size, patch) shouldBe imgs
            }
        }
    }

    test("features of a patch are ordered (i, j, c): channel fastest, as the model's predictions") {
        // One 2x2 patch of a 2-channel image: pixel (i, j) of channel c holds 100 c + 10 i + j.
        val patch = floatArrayOf(0f, 100f, 1f, 101f, 10f, 110f, 11f, 111f)
        Patches.unpatchify(patch, 1, 2, 2, 2) shouldBe floatArrayOf(0f, 1f, 10f, 11f, 100f, 101f, 110f, 111f)
    }

    test("patchAt numbers patches row by row over the grid") {
        Patches.patchAt(0, 0, 28, 7) shouldBe 0
        Patches.patchAt(0, 27, 28, 7) shouldBe 3
        Patches.patchAt(7, 0, 28, 7) shouldBe 4
        Patches.patchAt(27, 27, 28, 7) shouldBe 15
    }

    test("a wrong length or a patch that does not divide the image is refused with the expected numbers") {
        shouldThrow<IllegalArgumentException> { Patches.unpatchify(FloatArray(10), 1, 1, 4, 2) }
            .message shouldContain "expected B x L x p*p*C = 1 x 4 x 4 = 16"
        shouldThrow<IllegalArgumentException> { Patches.unpatchify(FloatArray(25), 1, 1, 5, 2) }
            .message shouldContain "patch size 2 must divide the image size 5"
    }
})
