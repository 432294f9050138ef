package org.maejvm.bench.train;

import java.util.Arrays;
import java.util.Locale;
import org.maejvm.model.MaeConfig;

/**
 * The model configurations of the end-to-end training benchmark, identical in the JVM and the PyTorch counterpart
 * ({@code benchmarks/python/bench_train_torch.py} keeps the same table).
 */
public enum TrainCase {
    /** img 32, patch 4 (64 patches), ViT 192-d depth 12 heads 3, decoder 128-d depth 4 heads 4. */
    TINY(new MaeConfig(32, 4, 3, 192, 12, 3, 128, 4, 4, 4.0, false), 64),
    /** img 64, patch 8 (64 patches), ViT 384-d depth 12 heads 6, decoder 256-d depth 4 heads 8. */
    SMALL(new MaeConfig(64, 8, 3, 384, 12, 6, 256, 4, 8, 4.0, false), 32),
    /** The official mae_vit_base_patch16 (224, dec512d8b). */
    BASE(MaeConfig.base(), 8);

    /** The mask ratio every case trains at, as the official pretraining. */
    public static final double MASK_RATIO = 0.75;

    private final MaeConfig config;
    private final int defaultBatch;

    TrainCase(MaeConfig config, int defaultBatch) {
        this.config = config;
        this.defaultBatch = defaultBatch;
    }

    public MaeConfig config() { return config; }

    public int defaultBatch() { return defaultBatch; }

    /** The lower-case name used on the command line and in JSON. */
    public String label() { return name().toLowerCase(Locale.ROOT); }

    /** Parses a command-line name, naming the valid ones when it is not one of them. */
    public static TrainCase named(String name) {
        for (TrainCase c : values()) {
            if (c.label().equals(name.toLowerCase(Locale.ROOT))) return c;
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; valid: "
                + String.join(", ", Arrays.stream(values()).map(TrainCase::label).toList()));
    }
}
