package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.PrintWriter
import java.io.StringWriter

class ParityCommandTest : FunSpec({
    val fixture = "../mae-core/src/test/resources/fixtures/mae/tiny-perturbed"

    fun parity(vararg args: String): Pair<Int, String> {
        val cli = MaeCli.commandLine()
        val out = StringWriter()
        cli.out = PrintWriter(out, true)
        cli.err = PrintWriter(out, true)
        return cli.execute("parity", *args) to out.toString()
    }

    test("a PyTorch fixture matches on the reference and SIMD backends, also from model.pth") {
        for (args in listOf(arrayOf("--backend", "reference"), arrayOf("--backend", "simd", "--threads", "2"),
                arrayOf("--pth", "$fixture/model.pth"))) {
            val (code, out) = parity("--fixture", fixture, *args)
            out shouldContain "grad.blocks.0.attn.qkv.weight"
            out shouldContain "step.decoder_pred.bias"
            code shouldBe 0
        }
    }

    test("a tolerance nothing float32 can meet exits 1 and names the mismatches") {
        val (code, out) = parity("--fixture", fixture, "--backend", "simd", "--tolerance", "1e-12")
        out shouldContain "MISMATCH"
        code shouldBe 1
    }

    test("a missing fixture directory is one clear error") {
        val (code, out) = parity("--fixture", "no/such/dir")
        out shouldContain "fixture directory not found: no/such/dir"
        code shouldBe 1
    }
})
