package org.maejvm.optim;

import java.util.ArrayList;
import java.util.List;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * LARS as the official util/lars.py (used by main_linprobe.py): for a parameter with more than one dimension,
 * {@code d = grad + wd * p}, scaled by the trust ratio {@code trust * |p| / |d|} (1 when either norm is 0); 1-d
 * parameters (biases, norm weights) use the plain gradient. Then SGD with momentum: {@code mu = momentum * mu + d},
 * {@code p -= lr * mu}. Built from backend ops (axpy, scale, sum of squares), so it runs on every backend.
 */
public final class Lars {
    /** A parameter with its momentum buffer. */
    public record Slot(Parameter param, Tensor momentumBuffer) {}

    private final Backend backend;
    private final List<Slot> slots = new ArrayList<>();
    private final float weightDecay, momentum, trustCoefficient;
    private final List<Tensor> scratch = new ArrayList<>();
    private int step;

    public Lars(Backend backend, List<Parameter> params, float weightDecay, float momentum, float trustCoefficient) {
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("LARS weight decay must be >= 0, got " + weightDecay);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("LARS momentum must be in [0, 1), got " + momentum);
        if (!(trustCoefficient > 0)) throw new IllegalArgumentException("LARS trust coefficient must be > 0, got " + trustCoefficient);
        this.backend = backend;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        this.trustCoefficient = trustCoefficient;
        for (Parameter p : params) {
            if (!p.trainable()) throw new IllegalArgumentException("LARS: parameter " + p.name() + " is fixed (it has no gradient)");
            slots.add(new Slot(p, backend.zeros(p.shape())));
            scratch.add(p.shape().length > 1 ? backend.zeros(p.shape()) : null);
        }
    }

    /** The official defaults: momentum 0.9, trust coefficient 0.001. */
    public static Lars official(Backend backend, List<Parameter> params, float weightDecay) {
        return new Lars(backend, params, weightDecay, 0.9f, 0.001f);
    }

    /** One update of every parameter with learning rate lr, using the gradients as they are. */
    public void step(float lr) {
        step++;
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            Tensor p = s.param().value(), update = s.param().grad();
            Tensor d = scratch.get(i);
            if (d != null) {
                backend.copy(update, 0, d, 0, update.size());
                if (weightDecay != 0) backend.axpy(weightDecay, p, d);
                double paramNorm = Math.sqrt(backend.sumSquares(p));
                double updateNorm = Math.sqrt(backend.sumSquares(d));
                float q = paramNorm > 0 && updateNorm > 0 ? (float) (trustCoefficient * paramNorm / updateNorm) : 1f;
                backend.scale(d, q);
                update = d;
            }
            backend.scale(s.momentumBuffer(), momentum);
            backend.axpy(1f, update, s.momentumBuffer());
            backend.axpy(-lr, s.momentumBuffer(), p);
        }
    }

    public int stepCount() { return step; }

    /** Restores the step count (with the momentum buffers, for resuming). */
    public void setStepCount(int step) {
        if (step < 0) throw new IllegalArgumentException("step count must be >= 0, got " + step);
        this.step = step;
    }

    public List<Slot> slots() { return List.copyOf(slots); }
}
