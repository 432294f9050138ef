package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.string.shouldStartWith
import java.io.File
import java.io.PrintWriter
import java.io.StringWriter

/**
 * Hostile files given to the command line end in exit code 1 and one error line that names the file and the
 * problem, followed by the hint about --verbose: no stack trace, nothing run. The files are mae-core's hostile
 * corpus.
 */
class HostileInputCliTest : FunSpec({
    val hostile = File("../mae-core/src/test/resources/hostile").absoluteFile

    fun mae(vararg args: String): Triple<Int, String, String> {
        val cli = MaeCli.commandLine()
        val out = StringWriter()
        val err = StringWriter()
        cli.out = PrintWriter(out, true)
        cli.err = PrintWriter(err, true)
        return Triple(cli.execute(*args), out.toString(), err.toString())
    }

    fun shouldBeOneErrorLine(err: String, command: String, vararg parts: String) {
        val lines = err.trimEnd().lines()
        lines.size shouldBe 2
        lines[0] shouldStartWith "$command: error: "
        for (p in parts) lines[0] shouldContain p
        lines[1] shouldStartWith "(run again with --verbose"
        err shouldNotContain "\tat "
        err shouldNotContain "Exception:"
    }

    test("reconstruct refuses a .pth whose pickle calls os.system, naming the file and the global") {
        val pth = File(hostile, "pth_os_system.pth")
        val images = tempdir()
        val (code, _, err) = mae("reconstruct", "--checkpoint", pth.path, "--images", images.path, "--model",
            "mae_vit_tiny_fmnist", "--backend", "reference", "--out", File(images, "x.png").path)
        code shouldBe 1
        shouldBeOneErrorLine(err, "reconstruct", "refusing to load ${pth.path}", "os.system")
    }

    test("reconstruct refuses a safetensors file whose tensors overlap") {
        val st = File(hostile, "st_overlapping_tensors.safetensors")
        val images = tempdir()
        val (code, _, err) = mae("reconstruct", "--checkpoint", st.path, "--images", images.path, "--model",
            "mae_vit_tiny_fmnist", "--backend", "reference", "--out", File(images, "x.png").path)
        code shouldBe 1
        shouldBeOneErrorLine(err, "reconstruct", st.path, "overlap")
    }

    test("pretrain refuses a config with an unknown field and one with an impossible model") {
        for ((name, problem) in listOf("config_unknown_field.json" to "unknown field 'mask_ration'",
            "config_patch_not_dividing_image.json" to "patch_size 3 does not divide img_size 8")) {
            val cfg = File(hostile, name)
            val (code, _, err) = mae("pretrain", "--config", cfg.path, "--backend", "reference", "--no-progress")
            code shouldBe 1
            shouldBeOneErrorLine(err, "pretrain", cfg.path, problem)
        }
    }
})
