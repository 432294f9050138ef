package org.maejvm.train;

/**
 * The official MAE learning-rate schedule ({@code util/lr_sched.py adjust_learning_rate}): linear warmup from 0 to
 * the peak lr over {@code warmup_epochs}, then a half-cycle cosine down to {@code min_lr} at {@code epochs}. The
 * argument is a fractional epoch, {@code epoch + data_iter_step / steps_per_epoch}.
 */
public record LrSchedule(double lr, double minLr, double warmupEpochs, int epochs) {

    public static LrSchedule of(PretrainConfig c) {
        return new LrSchedule(c.effectiveLr(), c.minLr(), c.warmupEpochs(), c.epochs());
    }

    /** The learning rate at fractional epoch {@code epoch}. */
    public double at(double epoch) {
        if (epoch < warmupEpochs) return lr * epoch / warmupEpochs;
        double progress = (epoch - warmupEpochs) / (epochs - warmupEpochs);
        return minLr + (lr - minLr) * 0.5 * (1.0 + Math.cos(Math.PI * progress));
    }

    /** The rate for data step {@code step} of {@code epoch} when an epoch has {@code stepsPerEpoch} steps. */
    public double at(int epoch, int step, int stepsPerEpoch) {
        return at(epoch + (double) step / stepsPerEpoch);
    }
}
