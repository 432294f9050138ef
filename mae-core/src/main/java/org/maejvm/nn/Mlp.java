package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** timm's Mlp: fc1, exact GELU, fc2 (no dropout: MAE pretraining uses none). */
public final class Mlp extends Layer {
    private final Linear fc1, fc2;
    private Tensor h, dh;

    public Mlp(ParameterSet params, String prefix, int dim, int hidden) {
        super(params.backend());
        fc1 = new Linear(params, join(prefix, "fc1"), dim, hidden, true);
        fc2 = new Linear(params, join(prefix, "fc2"), hidden, dim, true);
    }

    public Tensor forward(Tensor x) {
        Tensor pre = fc1.forward(x);
        h = ensure(h, pre.shape());
        backend.geluForward(pre, h);
        return fc2.forward(h);
    }

    public Tensor backward(Tensor dy) {
        Tensor dAct = fc2.backward(dy);
        dh = ensure(dh, dAct.shape());
        // fc1's output still holds the pre-activation: GELU wrote into h, not in place.
        backend.geluBackward(fc1Output(), dAct, dh);
        return fc1.backward(dh);
    }

    private Tensor fc1Output() { return fc1.lastOutput(); }
}
