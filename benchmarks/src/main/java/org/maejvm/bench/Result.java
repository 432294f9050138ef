package org.maejvm.bench;

import java.util.Locale;

/**
 * One measured row: an op at a shape on a backend. Compute-bound rows carry {@code gflops}, memory-bound rows
 * {@code gbps}; GEMM rows also carry the OpenBLAS figure at the same shape, transposes and threads.
 *
 * @param relErr GEMM only: max |C - C_openblas| / max |C_openblas|, a check that the timed kernel is right
 */
public record Result(String op, String shape, String backend, int threads, Measure.Timing timing,
                     Double gflops, Double gbps, Double openblasGflops, String openblas, Double relErr) {

    /** GEMM rows have the OpenBLAS keys (null when there is no comparison). */
    public boolean isGemm() {
        return op.equals("gemm");
    }

    public Double ratio() {
        return gflops == null || openblasGflops == null || openblasGflops == 0 ? null : gflops / openblasGflops;
    }

    /** One JSON object on one line. */
    public String toJson() {
        StringBuilder sb = new StringBuilder("{");
        field(sb, "op", quote(op));
        field(sb, "shape", quote(shape));
        field(sb, "threads", Integer.toString(threads));
        field(sb, "backend", quote(backend));
        field(sb, "gflops", num(gflops));
        field(sb, "gbps", num(gbps));
        field(sb, "best_ms", num(timing.bestNanos() / 1e6));
        field(sb, "median_ms", num(timing.medianNanos() / 1e6));
        field(sb, "calls", Integer.toString(timing.calls()));
        if (isGemm()) {
            field(sb, "openblas_gflops", num(openblasGflops));
            field(sb, "openblas", openblas == null ? "null" : quote(openblas));
            field(sb, "ratio", num(ratio()));
            field(sb, "rel_err", relErr == null ? "null" : String.format(Locale.ROOT, "%.3g", relErr));
        }
        sb.setLength(sb.length() - 1);
        return sb.append('}').toString();
    }

    /** Column header matching {@link #toRow()}. */
    public static String header() {
        return String.format(Locale.ROOT, "%-20s %-34s %-9s %3s %10s %9s %8s %9s %6s",
                "op", "shape", "backend", "thr", "best ms", "GFLOP/s", "GB/s", "OpenBLAS", "ratio");
    }

    public String toRow() {
        return String.format(Locale.ROOT, "%-20s %-34s %-9s %3d %10.3f %9s %8s %9s %6s",
                op, shape, backend, threads, timing.bestNanos() / 1e6, cell(gflops, "%.1f"), cell(gbps, "%.1f"),
                cell(openblasGflops, "%.1f"), cell(ratio(), "%.2f"));
    }

    private static String cell(Double v, String fmt) {
        return v == null ? "-" : String.format(Locale.ROOT, fmt, v);
    }

    private static void field(StringBuilder sb, String key, String value) {
        sb.append('"').append(key).append("\":").append(value).append(',');
    }

    private static String num(Double v) {
        if (v == null || v.isNaN() || v.isInfinite()) return "null";
        return String.format(Locale.ROOT, "%.4g", v);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
