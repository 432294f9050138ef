package org.maejvm.viz;

import java.awt.image.BufferedImage;

/**
 * One image's four panels, as the official MAE visualisation: the original, the input with its masked patches
 * greyed out, the model's reconstruction of every patch, and the reconstruction with the visible patches pasted back.
 */
public record Panels(BufferedImage original, BufferedImage masked, BufferedImage reconstruction, BufferedImage pasted) {

    /** The panels left to right. */
    public BufferedImage[] inOrder() {
        return new BufferedImage[] {original, masked, reconstruction, pasted};
    }
}
