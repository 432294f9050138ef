package org.maejvm.ops

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe

class ErfTest : FunSpec({
    // Known values of erf (Abramowitz & Stegun table 7.1 and high-precision tables).
    val known = listOf(
        0.0 to 0.0,
        0.1 to 0.1124629160182849,
        0.5 to 0.5204998778130465,
        1.0 to 0.8427007929497149,
        2.0 to 0.9953222650189527,
        2.9 to 0.9999589021219005,
        3.0 to 0.9999779095030014,
        3.5 to 0.9999992569016276,
        5.0 to 0.9999999999984626,
    )
    test("erf matches tabulated values to 1e-13") {
        for ((x, y) in known) {
            Erf.erf(x) shouldBe (y plusOrMinus 1e-13)
            Erf.erf(-x) shouldBe (-y plusOrMinus 1e-13)
        }
    }
})
