package org.maejvm.optim;

import java.util.ArrayList;
import java.util.List;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * torch.optim.SGD with momentum (dampening 0, not Nesterov), as CAE's attentive probing uses it:
 * {@code d = grad + wd * p}, {@code mu = momentum * mu + d} (the first step sets {@code mu = d}, which the zeroed
 * buffer gives too), {@code p -= lr * mu}. Built from backend ops, so it runs on every backend.
 */
public final class Sgd {
    /** A parameter with its momentum buffer ({@code optimizer.momentum_buffer.<name>} in checkpoints). */
    public record Slot(Parameter param, Tensor momentumBuffer) {}

    private final Backend backend;
    private final List<Slot> slots = new ArrayList<>();
    private final float weightDecay, momentum;
    private int step;

    public Sgd(Backend backend, List<Parameter> params, float momentum, float weightDecay) {
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("SGD weight decay must be >= 0, got " + weightDecay);
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("SGD momentum must be in [0, 1), got " + momentum);
        this.backend = backend;
        this.weightDecay = weightDecay;
        this.momentum = momentum;
        for (Parameter p : params) {
            if (!p.trainable()) throw new IllegalArgumentException("SGD: parameter " + p.name() + " is fixed (it has no gradient)");
            slots.add(new Slot(p, backend.zeros(p.shape())));
        }
    }

    /** One update of every parameter with learning rate lr; adds the weight decay to the gradient in place. */
    public void step(float lr) {
        step++;
        for (Slot s : slots) {
            Tensor p = s.param().value(), g = s.param().grad();
            if (weightDecay != 0) backend.axpy(weightDecay, p, g);
            backend.scale(s.momentumBuffer(), momentum);
            backend.axpy(1f, g, s.momentumBuffer());
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
