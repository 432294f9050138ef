package org.maejvm.cli

import com.fasterxml.jackson.databind.ObjectMapper
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.PrintWriter
import java.io.StringWriter
import picocli.CommandLine

class BenchCommandTest : FunSpec({

    fun run(vararg args: String): Triple<Int, String, String> {
        val out = StringWriter()
        val err = StringWriter()
        val cli = CommandLine(BenchCommand())
        cli.out = PrintWriter(out, true)
        cli.err = PrintWriter(err, true)
        val code = cli.execute(*args)
        return Triple(code, out.toString(), err.toString())
    }

    test("bench ops --json prints JSON lines with the agreed keys, GEMM next to OpenBLAS") {
        val (code, out, err) = run("ops", "--json", "--size", "tiny", "--threads", "1", "--openblas", "javacpp",
            "--backends", "simd", "--filter", "^(gemm|layerNormForward)$", "--seconds", "0.02")
        code shouldBe 0
        err shouldContain "# openblas: using javacpp"
        val rows = out.lines().filter { it.isNotBlank() }.map { ObjectMapper().readTree(it) }
        rows.map { it["op"].asText() } shouldBe listOf("gemm", "gemm", "gemm", "layerNormForward")
        for (r in rows) {
            r.fieldNames().asSequence().toList() shouldContainAll listOf("op", "shape", "threads", "backend", "gflops", "gbps")
            r["threads"].asInt() shouldBe 1
            r["backend"].asText() shouldBe "simd"
        }
        for (g in rows.take(3)) {
            g["gflops"].asDouble() shouldBeGreaterThan 0.0
            g["openblas"].asText() shouldBe "javacpp"
            g["openblas_gflops"].asDouble() shouldBeGreaterThan 0.0
            g["ratio"].asDouble() shouldBeGreaterThan 0.0
            g["rel_err"].asDouble() shouldBeLessThan 1e-5
        }
        rows[3]["gflops"].isNull shouldBe true
        rows[3]["gbps"].asDouble() shouldBeGreaterThan 0.0
    }

    test("a bad option value is a usage error naming the valid choices") {
        val (code, _, err) = run("ops", "--openblas", "mkl")
        code shouldBe 2
        err shouldContain "--openblas must be auto, debian, javacpp or none, got 'mkl'"
    }

    test("an unknown backend is a usage error") {
        val (code, _, err) = run("ops", "--backends", "cuda")
        code shouldBe 2
        err shouldContain "unknown backend 'cuda'; valid: reference, simd"
    }

    test("mae bench ops runs through the top-level command line") {
        val out = StringWriter()
        val cli = MaeCli.commandLine()
        cli.out = PrintWriter(out, true)
        cli.err = PrintWriter(StringWriter(), true)
        cli.execute("bench", "ops", "--json", "--size", "tiny", "--backends", "reference", "--filter", "^sum$",
            "--seconds", "0.02") shouldBe 0
        val row = ObjectMapper().readTree(out.toString().trim())
        row["op"].asText() shouldBe "sum"
        row["backend"].asText() shouldBe "reference"
        row["gbps"].asDouble() shouldBeGreaterThan 0.0
    }

    test("bench without a subcommand names the subcommands") {
        val (code, _, err) = run()
        code shouldBe 2
        err shouldContain "Missing subcommand: choose one of ops, train"
    }

    test("bench train --json prints one line per model with the fields of the issue") {
        val out = StringWriter()
        val cli = MaeCli.commandLine()
        cli.out = PrintWriter(out, true)
        cli.err = PrintWriter(StringWriter(), true)
        cli.execute("bench", "train", "--json", "--model", "tiny", "--batch-size", "2", "--threads", "1",
            "--seconds", "0.01", "--warmup-seconds", "0") shouldBe 0
        val row = ObjectMapper().readTree(out.toString().trim())
        for (key in listOf("model", "batch", "threads", "backend", "train_img_s", "fwd_img_s", "peak_rss_mb")) {
            row.has(key) shouldBe true
        }
        row["model"].asText() shouldBe "tiny"
        row["batch"].asInt() shouldBe 2
        row["train_img_s"].asDouble() shouldBeGreaterThan 0.0
    }

    test("bench train names the valid models and comparisons") {
        val (code, _, err) = run("train", "--model", "huge")
        code shouldBe 2
        err shouldContain "unknown model 'huge'; valid: tiny, small, base"
        val (code2, _, err2) = run("train", "--compare", "tensorflow")
        code2 shouldBe 2
        err2 shouldContain "--compare takes 'torch'"
    }

    test("bench train --device is for TornadoVM only, and a device run is not compared with PyTorch on the CPU") {
        val (code, _, err) = run("train", "--backend", "simd", "--device", "1")
        code shouldBe 2
        err shouldContain "--device applies to --backend tornado only"
        val (code2, _, err2) = run("train", "--backend", "tornado", "--compare", "torch")
        code2 shouldBe 2
        err2 shouldContain "--compare torch measures PyTorch on the CPU"
        val (code3, _, err3) = run("train", "--backend", "tornado", "--device", "-1")
        code3 shouldBe 2
        err3 shouldContain "--device must be >= 0"
    }

    test("bench train and bench ops on tornado without the TornadoVM SDK say it is not installed").config(
        enabled = !org.maejvm.tornado.TornadoDevices.runtimeInstalled()) {
        fun mae(vararg args: String): Pair<Int, String> {
            val err = StringWriter()
            val cli = MaeCli.commandLine()
            cli.out = PrintWriter(StringWriter(), true)
            cli.err = PrintWriter(err, true)
            return cli.execute(*args) to err.toString()
        }
        val (code, err) = mae("bench", "train", "--backend", "tornado", "--model", "tiny", "--seconds", "0.01")
        code shouldBe 1
        err shouldContain "train: error: TornadoVM is not installed"
        val (code2, err2) = mae("bench", "ops", "--backends", "tornado:1", "--size", "tiny", "--filter", "^sum$")
        code2 shouldBe 1
        err2 shouldContain "ops: error: TornadoVM is not installed"
        val (code3, _, err3) = run("ops", "--backends", "tornado:x")
        code3 shouldBe 2
        err3 shouldContain "the device must be a number >= 0 (tornado:N)"
    }
})
