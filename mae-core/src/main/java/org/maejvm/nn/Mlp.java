package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** timm's Mlp: fc1, exact GELU, fc2 (no dropout: MAE pretraining uses none). */
public final class Mlp extends Layer {
    private final Linear fc1, fc2;
    private Tensor h, y, dx;

    public Mlp(ParameterSet params, String prefix, int dim, int hidden) {
        super(params);
        fc1 = new Linear(params, join(prefix, "fc1"), dim, hidden, true);
        fc2 = new Linear(params, join(prefix, "fc2"), hidden, dim, true);
    }

    public Tensor forward(Tensor x) {
        y = ensure(y, x.shape());
        forwardInto(x, y);
        return y;
    }

    /** Writes the output into {@code out} (shaped as x). Keeps fc1's output and the activation for backward. */
    public void forwardInto(Tensor x, Tensor out) {
        Tensor pre = fc1.forward(x);
        h = ensure(h, pre.shape());
        backend.geluForward(pre, h);
        fc2.forwardInto(h, out);
    }

    public Tensor backward(Tensor dy) {
        dx = ensure(dx, dy.shape());
        backwardInto(dy, dx);
        return dx;
    }

    /** Writes the input gradient into {@code inputGrad}; the hidden-width gradient is workspace scratch. */
    public void backwardInto(Tensor dy, Tensor inputGrad) {
        Tensor dh = workspace.borrow(h.shape());
        fc2.backwardInto(dy, dh);
        // fc1's output still holds the pre-activation (GELU wrote into h); GELU's gradient may overwrite its input.
        backend.geluBackward(fc1.lastOutput(), dh, dh);
        fc1.backwardInto(dh, inputGrad);
        workspace.release(dh);
    }
}
