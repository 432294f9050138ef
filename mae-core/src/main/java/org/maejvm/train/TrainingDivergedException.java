package org.maejvm.train;

/** The loss became NaN or infinite; nothing was saved for the failing step, earlier checkpoints stay valid. */
public final class TrainingDivergedException extends RuntimeException {
    private final int epoch;
    private final int step;
    private final float loss;

    public TrainingDivergedException(int epoch, int step, float loss) {
        super("Loss is " + (Float.isNaN(loss) ? "NaN" : String.valueOf(loss)) + " at epoch " + epoch + " step " + step
                + ", stopping training");
        this.epoch = epoch;
        this.step = step;
        this.loss = loss;
    }

    public int epoch() { return epoch; }

    public int step() { return step; }

    public float loss() { return loss; }
}
