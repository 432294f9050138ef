package org.maejvm.train;

/**
 * The loss, or the gradient at an optimizer step, became NaN or infinite. The run stops before the bad step changes
 * any weight; nothing is saved for it, so earlier checkpoints stay valid and are the place to resume from (with a
 * lower lr or clip_grad).
 */
public final class TrainingDivergedException extends RuntimeException {
    /** What went non-finite. */
    public enum Quantity { LOSS, GRADIENT }

    private final int epoch;
    private final int step;
    private final float loss;
    private final Quantity quantity;
    private final String parameter;

    /** A non-finite loss at data step {@code step} of {@code epoch}. */
    public TrainingDivergedException(int epoch, int step, float loss) {
        super("Loss is " + (Float.isNaN(loss) ? "NaN" : String.valueOf(loss)) + " at epoch " + epoch + " step " + step
                + ", stopping training");
        this.epoch = epoch;
        this.step = step;
        this.loss = loss;
        this.quantity = Quantity.LOSS;
        this.parameter = null;
    }

    private TrainingDivergedException(int epoch, int step, float loss, double gradNorm, String parameter) {
        super("Gradient norm is " + (Double.isNaN(gradNorm) ? "NaN" : String.valueOf(gradNorm)) + " at epoch " + epoch
                + " step " + step + " (first non-finite gradient: " + parameter + "; the loss was " + loss
                + "), stopping training before the optimizer step");
        this.epoch = epoch;
        this.step = step;
        this.loss = loss;
        this.quantity = Quantity.GRADIENT;
        this.parameter = parameter;
    }

    /**
     * Non-finite gradients at the optimizer step that ends at data step {@code step}: {@code gradNorm} is their total
     * L2 norm (NaN or infinite), {@code parameter} the first parameter whose gradient is not finite.
     */
    public static TrainingDivergedException gradient(int epoch, int step, float loss, double gradNorm, String parameter) {
        return new TrainingDivergedException(epoch, step, loss, gradNorm, parameter);
    }

    public int epoch() { return epoch; }

    public int step() { return step; }

    /** The loss of the step (finite when the gradient is what diverged). */
    public float loss() { return loss; }

    public Quantity quantity() { return quantity; }

    /** For a gradient divergence, the first parameter whose gradient is not finite; else null. */
    public String parameter() { return parameter; }
}
