package org.maejvm.cli

import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldMatch
import io.kotest.matchers.string.shouldNotContain
import io.kotest.matchers.string.shouldStartWith
import java.io.PrintWriter
import java.io.StringWriter
import java.util.concurrent.Callable
import picocli.CommandLine
import picocli.CommandLine.Command

/** What one run of the command line printed and returned. */
private data class Run(val code: Int, val out: String, val err: String)

private fun mae(vararg args: String, configure: (CommandLine) -> Unit = {}): Run {
    val cli = MaeCli.commandLine()
    configure(cli)
    val out = StringWriter()
    val err = StringWriter()
    cli.out = PrintWriter(out, true)
    cli.err = PrintWriter(err, true)
    val code = cli.execute(*args)
    return Run(code, out.toString(), err.toString())
}

@Command(name = "boom", description = ["Fails, for the error-handling tests."])
private class BoomCommand : Callable<Int> {
    override fun call(): Int = throw IllegalStateException("the flux capacitor is empty")
}

private fun withBoom(cli: CommandLine) {
    cli.addSubcommand(BoomCommand())
}

class MaeCliTest : FunSpec({

    test("--version prints the project version that Maven filtered in, and the Java version") {
        val run = mae("--version")
        run.code shouldBe 0
        run.out.lines()[0] shouldMatch Regex("""mae-jvm \d+\.\d+\.\d+(-SNAPSHOT)?""")
        run.out shouldContain "Java ${Runtime.version()}"
    }

    test("--help describes mae and lists the backends command") {
        val run = mae("--help")
        run.code shouldBe 0
        run.out shouldStartWith "Usage: mae"
        run.out shouldContain "Masked Autoencoder"
        run.out shouldContain Regex("""\n\s+backends\s+List the compute backends""")
    }

    test("every subcommand, nested ones too, answers --help with its own usage") {
        fun paths(cli: CommandLine, prefix: List<String>): List<List<String>> =
            cli.subcommands.flatMap { (name, sub) -> listOf(prefix + name) + paths(sub, prefix + name) }
        val all = paths(MaeCli.commandLine(), emptyList())
        all.isEmpty() shouldBe false
        for (path in all) {
            val run = mae(*(path + "--help").toTypedArray())
            run.code shouldBe 0
            run.out shouldStartWith "Usage: mae ${path.joinToString(" ")}"
            run.out shouldContain "--verbose"
        }
    }

    test("an unknown option is one error line plus the usage, exit code 2") {
        val run = mae("backends", "--frobnicate")
        run.code shouldBe 2
        run.err.lines()[0] shouldBe "Unknown option: '--frobnicate'"
        run.err shouldContain "Usage: mae backends"
        run.out shouldBe ""
    }

    test("no command at all is a usage error naming the commands") {
        val run = mae()
        run.code shouldBe 2
        run.err.lines()[0] shouldStartWith "Missing command: choose one of"
        run.err shouldContain "backends"
        run.err shouldContain "Usage: mae"
    }

    test("a failing command prints one line without a stack trace and exits 1") {
        val run = mae("boom", configure = ::withBoom)
        run.code shouldBe 1
        val lines = run.err.trim().lines()
        lines[0] shouldBe "boom: error: the flux capacitor is empty"
        lines.size shouldBe 2
        lines[1] shouldContain "--verbose"
        run.err shouldNotContain "\tat "
    }

    test("--verbose on the subcommand adds the stack trace") {
        val run = mae("boom", "--verbose", configure = ::withBoom)
        run.code shouldBe 1
        run.err shouldContain "boom: error: the flux capacitor is empty"
        run.err shouldContain "java.lang.IllegalStateException: the flux capacitor is empty"
        run.err shouldContain "\tat org.maejvm.cli.BoomCommand.call"
    }

    test("error messages keep the exception type unless it is a plain argument or state error") {
        ErrorReporter.describe(IllegalArgumentException("bad size 3")) shouldBe "bad size 3"
        ErrorReporter.describe(java.io.FileNotFoundException("x.bin")) shouldBe "FileNotFoundException: x.bin"
        ErrorReporter.describe(RuntimeException(NullPointerException())) shouldBe
            "RuntimeException: java.lang.NullPointerException"
        ErrorReporter.describe(UnsupportedOperationException()) shouldBe "UnsupportedOperationException"
    }

    test("backends lists reference, simd with this machine's vector width and threads, and tornado not installed") {
        val run = mae("backends")
        run.code shouldBe 0
        val rows = run.out.trim().lines().associateBy { it.substringBefore(' ') }
        rows.keys shouldBe setOf("backend", "reference", "simd", "tornado")
        rows.getValue("reference") shouldContain Regex("""^reference\s+available\s+scalar Java""")
        // Oracle for the vector width: ask the Vector API directly, by reflection (Kotlin does not see incubator modules).
        val species = Class.forName("jdk.incubator.vector.FloatVector").getField("SPECIES_PREFERRED").get(null)
        val speciesApi = Class.forName("jdk.incubator.vector.VectorSpecies")
        val lanes = speciesApi.getMethod("length").invoke(species)
        val bits = speciesApi.getMethod("vectorBitSize").invoke(species)
        val simd = rows.getValue("simd")
        simd shouldContain Regex("""^simd\s+available\s+""")
        simd shouldContain "$lanes floats per vector ($bits-bit)"
        simd shouldContain "up to ${Runtime.getRuntime().availableProcessors()} threads"
        rows.getValue("tornado") shouldContain Regex("""^tornado\s+not installed\s+TornadoVM is not installed: install the TornadoVM SDK""")
    }

    test("devices says that TornadoVM is not installed (exit 1), and how to install it") {
        val run = mae("devices")
        run.code shouldBe 1
        run.err shouldContain "TornadoVM is not installed"
        run.err shouldContain "README"
    }

    test("--backend tornado without TornadoVM fails with the reason; --device is refused for CPU backends") {
        val tornado = mae("parity", "--fixture", "../mae-core/src/test/resources/fixtures/mae/tiny-perturbed", "--backend", "tornado", "--device", "1")
        tornado.code shouldBe 1
        tornado.err shouldContain "TornadoVM is not installed"
        val simd = mae("parity", "--fixture", "../mae-core/src/test/resources/fixtures/mae/tiny-perturbed", "--backend", "simd", "--device", "1")
        simd.code shouldBe 1
        simd.err shouldContain "--device applies to --backend tornado only"
        val bench = mae("bench", "ops", "--backends", "tornado", "--quick")
        bench.code shouldBe 1
        bench.err shouldContain "TornadoVM is not installed"
    }

    test("backends --check compares each available backend with the reference on a matmul and a layerNorm") {
        val run = mae("backends", "--check")
        run.code shouldBe 0
        val diff = Regex("""max \|diff\| vs reference (\S+) \(ok\)""")
        val reference = diff.find(run.out.lines().first { it.startsWith("reference") })!!.groupValues[1].toDouble()
        val simd = diff.find(run.out.lines().first { it.startsWith("simd") })!!.groupValues[1].toDouble()
        reference shouldBe 0.0
        simd shouldBeLessThanOrEqual BackendsCommand.CHECK_TOLERANCE
    }
})
