package org.maejvm.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code mae} command line: a thin layer over the library. Subcommands are registered here, in
 * {@link #subcommands()}, and nowhere else; each inherits {@code --help}, {@code --version} and {@code --verbose}.
 *
 * <p>Exit codes: 0 success, 1 the command failed, 2 the command line was invalid (picocli's usage code).
 */
@Command(
        name = "mae",
        scope = ScopeType.INHERIT,
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        sortOptions = false,
        description = {
            "Masked Autoencoder (MAE) vision pretraining on the JVM.",
            "Computes on a Vector-API CPU backend (simd) or, where installed, on TornadoVM (tornado); "
                    + "the scalar reference backend is the correctness oracle."
        })
public final class MaeCli implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "Print stack traces of errors (also: environment variable MAE_DEBUG=1).")
    boolean verbose;

    /** Every subcommand of {@code mae}, in the order {@code --help} lists them. */
    static Object[] subcommands() {
        return new Object[] {
            new PretrainCommand(),
            new DemoCommand(),
            new BackendsCommand(),
            new BenchCommand(),
            new ParityCommand(),
            new ReconstructCommand(),
            new ExtractCommand(),
            new DevicesCommand(),
            new FinetuneCommand(),
            new LinprobeCommand(),
            new EvalCommand(),
            new AttnprobeCommand(),
        };
    }

    /** A fully configured command line: subcommands, error handling, help on the given streams. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new MaeCli());
        for (Object sub : subcommands()) {
            cli.addSubcommand(sub);
        }
        // Set after the subcommands are added, so that they do not inherit it.
        cli.getCommandSpec().usageMessage().footer("", "Run 'mae <command> --help' for the options of a command.");
        cli.setExecutionExceptionHandler(new ErrorReporter());
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** {@code mae} with no command: name the problem, show the usage, exit 2 like any other bad command line. */
    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "Missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }
}
