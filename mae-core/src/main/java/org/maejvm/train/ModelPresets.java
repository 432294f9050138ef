package org.maejvm.train;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.maejvm.model.MaeConfig;

/**
 * Model presets by name: the official ones of {@link MaeConfig#named} plus small models that pretrain on a CPU in
 * minutes (the demo's {@code mae_vit_tiny_fmnist}).
 */
public final class ModelPresets {
    private ModelPresets() {}

    /**
     * Fashion-MNIST sized: 28x28 gray images, 7x7 patches (16 tokens, 4 visible at mask ratio 0.75), a 4-block
     * width-96 encoder and a 2-block width-64 decoder, about 0.55 M parameters: cheap enough to pretrain on two
     * CPU cores in minutes (patch 4 would mean 49 tokens and about 3x the compute).
     */
    public static MaeConfig tinyFmnist() {
        return new MaeConfig(28, 7, 1, 96, 4, 4, 64, 2, 4, 4.0, false);
    }

    /** 32x32 RGB (CIFAR-10 sized), 4x4 patches, width-192 encoder of 6 blocks, width-128 decoder of 2 blocks. */
    public static MaeConfig smallCifar() {
        return new MaeConfig(32, 4, 3, 192, 6, 3, 128, 2, 4, 4.0, false);
    }

    /** The names this class knows beyond the official ones, with one line each for help texts. */
    public static Map<String, String> small() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mae_vit_tiny_fmnist", "28x28x1, patch 7, encoder 96d x 4 blocks, decoder 64d x 2 blocks (CPU demo)");
        m.put("mae_vit_small_cifar", "32x32x3, patch 4, encoder 192d x 6 blocks, decoder 128d x 2 blocks");
        return m;
    }

    /** A preset by name: the small ones above or an official one (mae_vit_base_patch16, ..., base, large, huge). */
    public static MaeConfig named(String name) {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("model name is empty");
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "mae_vit_tiny_fmnist", "tiny_fmnist" -> tinyFmnist();
            case "mae_vit_small_cifar", "small_cifar" -> smallCifar();
            default -> {
                try {
                    yield MaeConfig.named(name);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage() + ", " + String.join(", ", small().keySet()));
                }
            }
        };
    }
}
