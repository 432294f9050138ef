package org.maejvm.eval

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import kotlin.math.exp
import kotlin.math.ln

class ClassificationMetricsTest : FunSpec({
    val names = (0 until 6).map { "c$it" }

    test("top-1, top-5 and loss of a hand-made batch") {
        val m = ClassificationMetrics(names)
        // Row 0: class 2 highest -> top-1 right. Row 1: true class 0 is 6th of 6 -> wrong in top-1 and top-5.
        // Row 2: true class 5 is 2nd -> top-5 only. Row 3: true class 1 is 5th -> top-5 only.
        val logits = floatArrayOf(
            0f, 1f, 5f, 2f, 3f, 4f,
            -9f, 1f, 2f, 3f, 4f, 5f,
            6f, 0f, 0f, 0f, 0f, 3f,
            5f, 1f, 4f, 3f, 2f, 0f,
        )
        m.add(logits, intArrayOf(2, 0, 5, 1), 4)
        m.count() shouldBe 4
        m.top1Accuracy() shouldBe 0.25
        m.topKAccuracy() shouldBe 0.75
        fun ce(row: Int, label: Int): Double {
            val r = (0 until 6).map { logits[row * 6 + it].toDouble() }
            return ln(r.sumOf { exp(it) }) - r[label]
        }
        m.meanLoss() shouldBe ((ce(0, 2) + ce(1, 0) + ce(2, 5) + ce(3, 1)) / 4 plusOrMinus 1e-12)
        m.confusion(2, 2) shouldBe 1
        m.confusion(0, 5) shouldBe 1
        m.confusion(5, 0) shouldBe 1
        m.confusion(1, 0) shouldBe 1
    }

    test("cross-entropy of uniform logits is ln(classes); large logits do not overflow") {
        val m = ClassificationMetrics(names)
        m.add(FloatArray(6) { 1000f }, intArrayOf(3), 1)
        m.meanLoss() shouldBe (ln(6.0) plusOrMinus 1e-12)
        val n = ClassificationMetrics(listOf("a", "b"))
        n.add(floatArrayOf(1000f, 0f), intArrayOf(1), 1)
        n.meanLoss() shouldBe (1000.0 plusOrMinus 1e-9)
    }

    test("ties rank the smaller class id first, as a stable sort") {
        val m = ClassificationMetrics(names)
        m.add(FloatArray(6) { 1f }, intArrayOf(0), 1) // tie with all: class 0 is first
        m.top1Accuracy() shouldBe 1.0
        val n = ClassificationMetrics(names)
        n.add(FloatArray(6) { 1f }, intArrayOf(5), 1) // class 5 comes 6th
        n.top1Accuracy() shouldBe 0.0
        n.topKAccuracy() shouldBe 0.0
        n.confusion(5, 0) shouldBe 1
    }

    test("fewer than five classes: top-k is over all classes, so always 1") {
        val m = ClassificationMetrics(listOf("a", "b", "c"))
        m.k() shouldBe 3
        m.add(floatArrayOf(3f, 2f, 1f, 0f, 1f, 2f), intArrayOf(0, 0), 2)
        m.top1Accuracy() shouldBe 0.5
        m.topKAccuracy() shouldBe 1.0
    }

    test("a NaN score is never counted correct") {
        val m = ClassificationMetrics(listOf("a", "b"))
        m.add(floatArrayOf(Float.NaN, 0f), intArrayOf(0), 1)
        m.top1Accuracy() shouldBe 0.0
    }

    test("bad labels and short logits are refused with the numbers") {
        val m = ClassificationMetrics(names)
        shouldThrow<IllegalArgumentException> { m.add(FloatArray(6), intArrayOf(6), 1) }.message shouldContain
            "label 6 of row 0 is outside 0..5"
        shouldThrow<IllegalArgumentException> { m.add(FloatArray(5), intArrayOf(0), 1) }.message shouldContain
            "needs 6 logits"
        shouldThrow<IllegalArgumentException> { ClassificationMetrics(listOf("only")) }.message shouldContain
            "at least 2 classes"
    }

    test("confusion CSV has a header of class names, quotes names with commas; JSON has acc1/acc5/loss") {
        val m = ClassificationMetrics(listOf("cat", "dog, big", "bird"))
        m.add(floatArrayOf(1f, 0f, 0f, 0f, 1f, 0f, 1f, 0f, 0f, 0f, 0f, 1f), intArrayOf(0, 1, 1, 2), 4)
        val r = m.result()
        r.confusionCsv() shouldBe "true\\predicted,cat,\"dog, big\",bird\n" +
            "cat,1,0,0\n\"dog, big\",1,1,0\nbird,0,0,1\n"
        r.perClassAccuracy().toList() shouldBe listOf(1.0, 0.5, 1.0)
        r.summary() shouldContain "Acc@1 75.000 Acc@3 100.000"
        val dir = tempdir().toPath()
        r.writeJson(dir.resolve("eval.json"))
        r.writeConfusionCsv(dir.resolve("confusion.csv"))
        val json = Files.readString(dir.resolve("eval.json"))
        json shouldContain "\"acc1\" : 75.0"
        json shouldContain "\"acc3\" : 100.0"
        json shouldContain "\"images\" : 4"
        Files.readString(dir.resolve("confusion.csv")) shouldBe r.confusionCsv()
    }
})
