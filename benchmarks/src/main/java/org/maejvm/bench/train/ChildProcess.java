package org.maejvm.bench.train;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/** Runs a benchmark process to its end and returns the last line of its stdout that is a JSON object. */
final class ChildProcess {
    private ChildProcess() {}

    /** Lines of the child's stderr kept to explain a failure. */
    static final int TAIL_LINES = 20;

    static String lastJsonLine(ProcessBuilder pb, String what) throws IOException, InterruptedException {
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String json = null;
        Deque<String> tail = new ArrayDeque<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("{") && line.endsWith("}")) json = line;
                tail.addLast(line);
                if (tail.size() > TAIL_LINES) tail.removeFirst();
            }
        } finally {
            if (p.waitFor() != 0 || Thread.currentThread().isInterrupted()) p.destroyForcibly();
        }
        int rc = p.exitValue();
        if (rc != 0 || json == null) {
            throw new IOException(what + " failed (exit " + rc + ", command " + String.join(" ", pb.command())
                    + "); its last output:\n  " + String.join("\n  ", tail));
        }
        return json;
    }
}
