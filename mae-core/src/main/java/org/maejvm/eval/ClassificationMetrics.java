package org.maejvm.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Accumulates what the official {@code engine_finetune.evaluate} reports over a validation set: top-1 and top-5
 * accuracy ({@code timm.utils.accuracy}) and the mean cross-entropy loss over images, plus a confusion matrix
 * (rows: true class, columns: predicted class).
 *
 * <p>Ranks follow a stable descending sort of the logits: a class is ahead of the true class when its logit is
 * larger, or equal with a smaller class id. Top-k uses {@code k = min(5, classes)}, so data with fewer than five
 * classes still reports a (trivially full) top-5. The loss is computed in double from the logits with the
 * log-sum-exp trick, as {@code torch.nn.CrossEntropyLoss} does.
 */
public final class ClassificationMetrics {
    /** The k of the second accuracy, as the official {@code topk=(1, 5)}. */
    public static final int TOP_K = 5;

    private final List<String> classNames;
    private final int classes;
    private final long[] confusion;
    private long count;
    private long top1;
    private long topK;
    private double lossSum;

    /** For {@code classNames.size()} classes; labels are indices into this list. */
    public ClassificationMetrics(List<String> classNames) {
        Objects.requireNonNull(classNames, "classNames");
        if (classNames.size() < 2) {
            throw new IllegalArgumentException("classification needs at least 2 classes, got " + classNames.size()
                    + " " + classNames + "; is the data labelled (one sub-folder per class)?");
        }
        this.classNames = List.copyOf(classNames);
        this.classes = classNames.size();
        this.confusion = new long[classes * classes];
    }

    /** Class names {@code class0 .. class(n-1)} when the data has no names. */
    public static List<String> numberedClasses(int n) {
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) names.add("class" + i);
        return names;
    }

    public int classes() { return classes; }

    /** The k of {@link #topKAccuracy}: {@code min(5, classes)}. */
    public int k() { return Math.min(TOP_K, classes); }

    /**
     * Adds a batch: {@code logits} holds {@code batch} rows of {@code classes()} scores (row-major), {@code labels}
     * the true class of each row.
     */
    public void add(float[] logits, int[] labels, int batch) {
        if (batch < 0 || labels.length < batch || (long) logits.length < (long) batch * classes) {
            throw new IllegalArgumentException("a batch of " + batch + " needs " + ((long) batch * classes)
                    + " logits (" + classes + " classes) and " + batch + " labels, got " + logits.length + " and "
                    + labels.length);
        }
        int k = k();
        for (int i = 0; i < batch; i++) {
            int label = labels[i];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " of row " + i + " is outside 0.." + (classes - 1)
                        + " (" + classes + " classes)");
            }
            int row = i * classes;
            float truth = logits[row + label];
            int ahead = 0;
            int argmax = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                float v = logits[row + c];
                if (v > truth || (v == truth && c < label)) ahead++;
                if (v > max) {
                    max = v;
                    argmax = c;
                }
            }
            if (Float.isNaN(truth)) ahead = classes; // a NaN score is never a correct prediction
            if (ahead == 0) top1++;
            if (ahead < k) topK++;
            double sum = 0;
            for (int c = 0; c < classes; c++) sum += Math.exp(logits[row + c] - max);
            lossSum += Math.log(sum) + max - truth;
            confusion[label * classes + argmax]++;
            count++;
        }
    }

    /** Images seen so far. */
    public long count() { return count; }

    /** Fraction of images whose highest logit is their class (0 when none were added). */
    public double top1Accuracy() { return count == 0 ? 0 : (double) top1 / count; }

    /** Fraction of images whose class is among the {@link #k()} highest logits. */
    public double topKAccuracy() { return count == 0 ? 0 : (double) topK / count; }

    /** Mean cross-entropy over the images (NaN when none were added). */
    public double meanLoss() { return count == 0 ? Double.NaN : lossSum / count; }

    /** Images of true class {@code truth} predicted as {@code predicted}. */
    public long confusion(int truth, int predicted) { return confusion[truth * classes + predicted]; }

    /** The accumulated numbers as an immutable result. */
    public EvalResult result() {
        long[][] m = new long[classes][classes];
        for (int t = 0; t < classes; t++) System.arraycopy(confusion, t * classes, m[t], 0, classes);
        return new EvalResult(count, top1Accuracy(), topKAccuracy(), k(), meanLoss(), classNames, m);
    }
}
