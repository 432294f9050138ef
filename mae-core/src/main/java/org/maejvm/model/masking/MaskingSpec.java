package org.maejvm.model.masking;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Masking strategies by name, as written in a pretraining config ({@code "mask_strategy"}) and on the command line
 * ({@code --mask-strategy}): {@code name} or {@code name:key=value,key=value}.
 *
 * <ul>
 *   <li>{@code random}: official MAE masking.</li>
 *   <li>{@code block[:min=N,max=N,aspect=A]}: BEiT/CAE block-wise masking (min block area, 0 = scaled 16-at-14x14;
 *       max block area, 0 = none; aspect ratios in (A, 1/A), default 0.3).</li>
 *   <li>{@code grid[:cell=K,offset=fixed|random]}: keep one patch per K x K cell (default 2: ratio 0.75).</li>
 *   <li>{@code focus[:x0=,y0=,x1=,y1=,weight=W]}: weighted random masking, patches in the box (image fractions,
 *       default the central half) weighted W (default 3) against 1 outside.</li>
 * </ul>
 */
public final class MaskingSpec {
    public static final String NAMES = "random, block, grid, focus";

    private MaskingSpec() {}

    /** The strategy a spec names; the error says what is wrong and what would be valid. */
    public static MaskingStrategy parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("mask strategy is empty; known: " + NAMES);
        }
        String s = spec.trim();
        int colon = s.indexOf(':');
        String name = (colon < 0 ? s : s.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        Map<String, String> opts = options(spec, colon < 0 ? "" : s.substring(colon + 1));
        try {
            return switch (name) {
                case "random" -> {
                    allow(opts, Set.of());
                    yield new RandomMasking();
                }
                case "block", "blockwise", "block-wise" -> {
                    allow(opts, Set.of("min", "max", "aspect"));
                    yield new BlockMasking(intOpt(opts, "min", 0), intOpt(opts, "max", 0), doubleOpt(opts, "aspect", 0.3));
                }
                case "grid" -> {
                    allow(opts, Set.of("cell", "offset"));
                    String offset = opts.getOrDefault("offset", "fixed").toLowerCase(Locale.ROOT);
                    if (!offset.equals("fixed") && !offset.equals("random")) {
                        throw new IllegalArgumentException("offset must be 'fixed' or 'random', got '" + offset + "'");
                    }
                    yield new GridMasking(intOpt(opts, "cell", 2), offset.equals("random"));
                }
                case "focus" -> {
                    allow(opts, Set.of("x0", "y0", "x1", "y1", "weight"));
                    yield FocusMasking.box(doubleOpt(opts, "x0", 0.25), doubleOpt(opts, "y0", 0.25),
                            doubleOpt(opts, "x1", 0.75), doubleOpt(opts, "y1", 0.75), doubleOpt(opts, "weight", 3.0));
                }
                default -> throw new IllegalArgumentException("unknown kind '" + name + "'; known: " + NAMES);
            };
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("mask strategy '" + spec + "': " + e.getMessage(), e);
        }
    }

    /** Null when {@code spec} works for this grid and ratio, else the reason (for config validation). */
    public static String problem(String spec, int gridH, int gridW, double maskRatio) {
        MaskingStrategy strategy;
        try {
            strategy = parse(spec);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (strategy instanceof GridMasking g) return g.problem(gridH, gridW, maskRatio);
        return null;
    }

    private static Map<String, String> options(String spec, String text) {
        Map<String, String> out = new LinkedHashMap<>();
        if (text.isBlank()) return out;
        for (String part : text.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("mask strategy '" + spec + "': option '" + part.trim()
                        + "' is not key=value (e.g. grid:cell=2,offset=random)");
            }
            out.put(part.substring(0, eq).trim().toLowerCase(Locale.ROOT), part.substring(eq + 1).trim());
        }
        return out;
    }

    private static void allow(Map<String, String> opts, Set<String> known) {
        for (String k : opts.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown option '" + k + "'"
                        + (known.isEmpty() ? " (this strategy takes none)" : "; known: " + String.join(", ", known.stream().sorted().toList())));
            }
        }
    }

    private static int intOpt(Map<String, String> opts, String key, int dflt) {
        String v = opts.get(key);
        if (v == null) return dflt;
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be an integer, got '" + v + "'");
        }
    }

    private static double doubleOpt(Map<String, String> opts, String key, double dflt) {
        String v = opts.get(key);
        if (v == null) return dflt;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a number, got '" + v + "'");
        }
    }
}
