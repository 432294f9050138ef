package org.maejvm.ops;

/**
 * One AdamW update, as {@code torch.optim.AdamW} (decoupled weight decay, bias-corrected moments);
 * {@code step} counts from 1.
 */
public record AdamWParams(float lr, float beta1, float beta2, float eps, float weightDecay, int step) {
    public AdamWParams {
        if (step < 1) throw new IllegalArgumentException("AdamW step counts from 1, got " + step);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("AdamW betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps > 0)) throw new IllegalArgumentException("AdamW eps must be > 0, got " + eps);
    }
}
