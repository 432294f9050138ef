package org.maejvm.bench.train

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.comparables.shouldBeGreaterThan as shouldBeGreaterThanC
import io.kotest.matchers.comparables.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import java.util.Optional
import kotlin.io.path.Path
import org.maejvm.model.MaeConfig

class TrainBenchmarkTest : FunSpec({

    test("StepFlops counts every matrix product of a small MAE, worked out by hand") {
        // img 8, patch 4 -> L = 4 patches of 4*4*3 = 48 values; width 8, 1 block, 2 heads; decoder width 4, 1 block;
        // mlp ratio 4; batch 2; mask ratio 0.5 -> 2 kept, so the encoder sees 3 tokens, the decoder 5.
        val c = MaeConfig(8, 4, 3, 8, 1, 2, 4, 1, 2, 4.0, false)
        val patchEmbed = 2.0 * 2 * 4 * 48 * 8                       // [8 x 48] @ [48 x 8]
        val encLinear = 2.0 * 6 * 8 * (24 + 8 + 32 + 32)           // 6 rows: qkv, proj, fc1, fc2
        val encAttention = 2 * 2.0 * 2 * 3 * 3 * 8                  // QK^T and PV over all heads
        val decEmbed = 2.0 * 6 * 8 * 4
        val decLinear = 2.0 * 10 * 4 * (12 + 4 + 16 + 16)
        val decAttention = 2 * 2.0 * 2 * 5 * 5 * 4
        val pred = 2.0 * 10 * 4 * 48
        val rest = encLinear + encAttention + decEmbed + decLinear + decAttention + pred
        val f = StepFlops.of(c, 2, 0.5)
        f.forward() shouldBe (patchEmbed + rest plusOrMinus 1e-6)
        f.backward() shouldBe (patchEmbed + 2 * rest plusOrMinus 1e-6)   // no input gradient for the images
        f.train() shouldBe (2 * patchEmbed + 3 * rest plusOrMinus 1e-6)
    }

    test("utilisation is achieved FLOP/s over threads x per-core peak") {
        val f = StepFlops(1e9, 2e9)                 // 3 GFLOP per step of 4 images
        val r = TrainResult("mae-jvm", "tiny", 4, 2, "simd", 40.0, 100.0, 300.0, 1.0)
        // 10 steps/s x 3 GFLOP = 30 GFLOP/s over 2 x 100
        r.trainUtilisation(f, 100.0) shouldBe (0.15 plusOrMinus 1e-12)
    }

    test("a short run on the simd backend trains: finite loss, positive rates, the JSON fields of the issue") {
        val o = TrainBenchmark.Options(TrainCase.TINY, 2, 1, "simd", 0.0, 0.01)
        val r = TrainBenchmark.run(o)
        r.finalLoss().isFinite() shouldBe true
        r.trainImgPerSec() shouldBeGreaterThan 0.0
        r.fwdImgPerSec() shouldBeGreaterThan 0.0
        val json = r.toJson()
        for (key in listOf("model", "batch", "threads", "backend", "train_img_s", "fwd_img_s", "peak_rss_mb")) {
            json shouldContain "\"$key\":"
        }
        val back = TrainResult.fromFields(FlatJson.parse(json))
        back.model() shouldBe "tiny"
        back.batch() shouldBe 2
        back.trainImgPerSec() shouldBe (r.trainImgPerSec() plusOrMinus 1e-3)
        back.peakRssMb() shouldBe (r.peakRssMb() plusOrMinus 0.1)
    }

    test("the op profile of a step counts each op per step and stays within the step's time") {
        val o = TrainBenchmark.Options(TrainCase.TINY, 2, 1, "simd", 0.0, 0.01)
        val p = TrainBenchmark.profile(o, 2, false)
        p.steps() shouldBe 2
        val byOp = p.ops().associateBy { it.op() }
        // one AdamW update per trainable tensor per step, one loss per step
        val trainable = org.maejvm.model.MaeModel(TrainCase.TINY.config(), org.maejvm.ops.ReferenceBackend(), 0)
            .parameters().trainable().size.toLong()
        byOp.getValue("adamw").calls() shouldBe 2 * trainable
        byOp.getValue("maskedMseForward").calls() shouldBe 2L
        byOp.getValue("gemm NT").calls() shouldBeGreaterThanC 0L
        byOp.getValue("gemm NT").gflops() shouldBeGreaterThan 0.0
        p.ops().sumOf { it.nanos() } shouldBeLessThan p.nanos()
        p.ops().zipWithNext().all { (a, b) -> a.nanos() >= b.nanos() } shouldBe true
    }

    test("bad options are refused with the valid values named") {
        shouldThrow<IllegalArgumentException> { TrainCase.named("huge") }.message shouldContain "tiny, small, base"
        shouldThrow<IllegalArgumentException> { TrainBenchmark.Options(TrainCase.TINY, 0, 1, "simd", 1.0, 1.0) }
            .message shouldContain "--batch-size"
    }

    test("the child-process arguments round-trip") {
        val o = TrainBenchmark.Options(TrainCase.SMALL, 7, 2, "reference", 1.5, 2.5)
        TrainBenchmark.fromArgs(TrainBenchmark.toArgs(o)) shouldBe o
    }

    test("PyTorch runs with OpenBLAS first on the library path and every thread knob set") {
        val dir = Files.createTempDirectory("openblas")
        val script = Files.createTempFile("bench", ".py")
        val y = TorchYardstick(Path("/bin/sh"), script, Optional.of(dir))
        val env = y.environment(3, "/opt/x")
        env["LD_LIBRARY_PATH"] shouldBe "$dir:/opt/x"
        env["OMP_NUM_THREADS"] shouldBe "3"
        env["OPENBLAS_NUM_THREADS"] shouldBe "3"
        y.command(TrainBenchmark.Options(TrainCase.BASE, 8, 3, "simd", 1.0, 2.0)).joinToString(" ") shouldContain
            "--model base --batch-size 8 --threads 3"
    }

    test("the PyTorch result line is parsed, and a slow BLAS is recognised") {
        val line = """{"framework": "pytorch", "model": "tiny", "batch": 64, "threads": 2, "backend": "torch-cpu", """ +
            """"train_img_s": 40.5, "fwd_img_s": 130.25, "peak_rss_mb": 750.0, "loss": 1.18, """ +
            """"torch_version": "1.13.0a0", "blas": "openblas-openmp/libblas.so.3", "sgemm_gflops": 9.5}"""
        val m = TorchYardstick.parse(line)
        m.result().trainImgPerSec() shouldBe 40.5
        m.result().threads() shouldBe 2
        m.sgemmGflops() shouldBe 9.5
        m.blasLooksReal() shouldBe false          // 9.5 GFLOP/s on 2 threads: the reference BLAS
        TorchYardstick.parse(line.replace("9.5}", "120.0}")).blasLooksReal() shouldBe true
    }

    test("a failing child process is reported with its command and last output") {
        val pb = ProcessBuilder("/bin/sh", "-c", "echo loading; echo boom >&2; exit 3")
        shouldThrow<java.io.IOException> { ChildProcess.lastJsonLine(pb, "test child") }.message!!.let {
            it shouldContain "exit 3"
            it shouldContain "boom"
        }
    }
})

