package org.maejvm.cli;

import java.io.PrintWriter;
import org.maejvm.io.MalformedFileException;
import org.maejvm.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns an exception thrown by a command into one line on stderr and exit code 1. The stack trace is shown
 * only with {@code --verbose} or {@code MAE_DEBUG=1}: users need the message, developers the trace.
 * (Invalid command lines never get here: picocli reports them with the usage and exit code 2.)
 */
final class ErrorReporter implements IExecutionExceptionHandler {
    static final String DEBUG_ENV = "MAE_DEBUG";

    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        err.println(cmd.getColorScheme().errorText(cmd.getCommandName() + ": error: " + describe(ex)));
        if (wantsStackTrace(parsed)) {
            ex.printStackTrace(err);
        } else {
            err.println("(run again with --verbose or " + DEBUG_ENV + "=1 for the stack trace)");
        }
        err.flush();
        return 1;
    }

    /** The message, prefixed with the exception type when the type says something the message does not. */
    static String describe(Throwable ex) {
        String message = ex.getMessage();
        if (message == null || message.isBlank()) {
            return ex.getClass().getSimpleName() + (ex.getCause() != null ? " caused by " + describe(ex.getCause()) : "");
        }
        // These messages already say what is wrong and where (a bad file's message starts with the file).
        boolean plain = ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                || ex instanceof MalformedFileException || ex instanceof TrainingDivergedException;
        return plain ? message : ex.getClass().getSimpleName() + ": " + message;
    }

    private static boolean wantsStackTrace(ParseResult parsed) {
        if ("1".equals(System.getenv(DEBUG_ENV))) return true;
        // --verbose is inherited by every subcommand, so look at each level of the parsed command line.
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }
}
