package org.maejvm.bench

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldStartWith
import java.io.ByteArrayOutputStream
import java.io.PrintWriter
import org.maejvm.bench.blas.OpenBlasSelector

/** A tiny real run of the ops runner: the JSON lines have the agreed keys and self-consistent numbers. */
class OpsBenchmarkTest : FunSpec({

    fun run(options: OpsBenchmark.Options): Pair<List<JsonNode>, String> {
        val out = ByteArrayOutputStream()
        val info = ByteArrayOutputStream()
        OpsBenchmark(options, PrintWriter(out, true), PrintWriter(info, true)).run()
        val mapper = ObjectMapper()
        val lines = out.toString().lines().filter { it.isNotBlank() }
        return lines.map { mapper.readTree(it) } to info.toString()
    }

    test("--json prints one object per line with the required keys, GEMM compared with OpenBLAS") {
        val (rows, info) = run(OpsBenchmark.Options(2, true, OpCases.Size.TINY, OpenBlasSelector.Choice.JAVACPP,
            listOf("reference", "simd"), "^(gemm|add|attentionForward:enc)$", 0.02))
        info shouldStartWith "# "
        rows.map { it["op"].asText() }.toSet() shouldBe setOf("gemm", "add", "attentionForward")
        for (r in rows) {
            r.fieldNames().asSequence().toList() shouldContainAll listOf("op", "shape", "threads", "backend", "gflops", "gbps")
            r["threads"].asInt() shouldBe (if (r["backend"].asText() == "reference") 1 else 2)
        }
        val adds = rows.filter { it["op"].asText() == "add" }
        adds.map { it["backend"].asText() } shouldBe listOf("reference", "simd")
        for (a in adds) {
            a["gflops"].isNull shouldBe true
            a["gbps"].asDouble() shouldBeGreaterThan 0.0
            // add on [98, 768] moves 3 floats per element; GB/s is bytes / best time.
            a["gbps"].asDouble() shouldBe ((3.0 * 98 * 768 * 4) / (a["best_ms"].asDouble() * 1e6) plusOrMinus a["gbps"].asDouble() * 1e-2)
        }
        val simdGemm = rows.filter { it["op"].asText() == "gemm" && it["backend"].asText() == "simd" }
        simdGemm.map { it["shape"].asText() } shouldBe listOf("37x96x83 fwd NT", "37x96x83 dX NN", "37x96x83 dW TN")
        for (g in simdGemm) {
            g["openblas"].asText() shouldBe "javacpp"
            g["openblas_gflops"].asDouble() shouldBeGreaterThan 0.0
            g["ratio"].asDouble() shouldBe (g["gflops"].asDouble() / g["openblas_gflops"].asDouble() plusOrMinus 1e-2 * g["ratio"].asDouble())
            // The timed kernel computed what OpenBLAS computed.
            g["rel_err"].asDouble() shouldBeLessThan 1e-5
        }
        val refGemm = rows.filter { it["op"].asText() == "gemm" && it["backend"].asText() == "reference" }
        refGemm.size shouldBe 3
        for (g in refGemm) {
            g["gflops"].asDouble() shouldBeGreaterThan 0.0
            g.has("openblas_gflops") shouldBe true
            g["openblas_gflops"].isNull shouldBe true
        }
    }

    test("the table has a header and one aligned row per case") {
        val out = ByteArrayOutputStream()
        OpsBenchmark(OpsBenchmark.Options(1, false, OpCases.Size.TINY, OpenBlasSelector.Choice.NONE,
            listOf("simd"), "^(softmax|adamw)$", 0.02), PrintWriter(out, true), PrintWriter(ByteArrayOutputStream(), true)).run()
        val lines = out.toString().lines().filter { it.isNotBlank() && !it.startsWith("#") }
        lines.size shouldBe 3
        lines[0] shouldStartWith "op "
        lines.drop(1).map { it.substringBefore(' ') } shouldBe listOf("softmax", "adamw")
        lines.map { it.indexOf("backend") }.first() shouldBe lines[1].indexOf("simd")
    }
})
