package org.maejvm.parity;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.maejvm.model.MaeModel;
import org.maejvm.model.MaskPlan;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.optim.AdamW;
import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Tensor;

/**
 * Replays a fixture's pretraining step on a backend and compares every result: loss, pred, mask, ids_restore,
 * the gradient of every trainable parameter and every parameter after one AdamW step.
 */
public final class ParityCheck {
    /** Tolerance (infinity-norm relative error) on the reference backend, which sums in double. */
    public static final double REFERENCE_TOLERANCE = 1e-5;
    /** Tolerance on the float32 SIMD and GPU backends. */
    public static final double FAST_TOLERANCE = 1e-4;

    private ParityCheck() {}

    public static double defaultTolerance(Backend backend) {
        return backend.name().equals("reference") ? REFERENCE_TOLERANCE : FAST_TOLERANCE;
    }

    public static List<TensorComparison> run(ParityFixture fx, Backend backend, double tolerance) {
        List<TensorComparison> out = new ArrayList<>();
        MaeModel model = new MaeModel(fx.config(), backend);
        model.parameters().load(fx.weights(), true);
        Tensor imgs = backend.fromHost(fx.imgs().data, fx.imgs().shape());

        float loss = model.forward(imgs, floats(fx.noise()), fx.maskRatio());
        out.add(TensorComparison.of("loss", new float[] {loss}, floats(fx.expected().get("loss")), tolerance));
        out.add(TensorComparison.of("pred", backend.toHost(model.pred()), floats(fx.expected().get("pred")), tolerance));
        MaskPlan plan = model.maskPlan();
        // Masking is discrete: mask and ids_restore must match exactly.
        out.add(TensorComparison.of("mask", plan.mask(), floats(fx.expected().get("mask")), 0));
        out.add(TensorComparison.of("ids_restore", toFloats(plan.idsRestore()), floats(fx.expected().get("ids_restore")), 0));

        model.parameters().zeroGrad();
        model.backward();
        for (Parameter p : model.parameters().all()) {
            HostTensor g = fx.expected().get("grad." + p.name());
            if (p.trainable()) {
                out.add(g == null ? missing("grad." + p.name(), tolerance)
                        : TensorComparison.of("grad." + p.name(), backend.toHost(p.grad()), floats(g), tolerance));
            } else if (g != null) {
                out.add(new TensorComparison("grad." + p.name() + " (fixture has a gradient for a fixed tensor)",
                        g.size(), Double.NaN, Double.NaN, tolerance));
            }
        }

        // The step is checked from the fixture's own gradients: AdamW's first update is lr * g / (|g| + eps), which
        // turns gradients at rounding-noise level (e.g. the key bias, whose exact gradient is 0) into full-size
        // steps of arbitrary sign. Our gradients were compared above; this isolates the optimizer.
        for (Parameter p : model.parameters().trainable()) {
            HostTensor g = fx.expected().get("grad." + p.name());
            if (g != null && g.data != null && g.size() == p.grad().size()) backend.upload(g.data, p.grad());
        }
        ParityFixture.AdamWConfig a = fx.adamw();
        AdamW opt = new AdamW(model.parameters(), a.beta1(), a.beta2(), a.eps(), a.weightDecay(), Set.of());
        opt.step(a.lr());
        for (Parameter p : model.parameters().all()) {
            HostTensor s = fx.expected().get("step." + p.name());
            out.add(s == null ? missing("step." + p.name(), tolerance)
                    : TensorComparison.of("step." + p.name(), backend.toHost(p.value()), floats(s), tolerance));
        }
        return out;
    }

    private static TensorComparison missing(String name, double tolerance) {
        return new TensorComparison(name + " (missing from expected.safetensors)", 0, Double.NaN, Double.NaN, tolerance);
    }

    /** Float view of a fixture tensor; integer tensors (ids_restore as I64/I32) are converted. */
    private static float[] floats(HostTensor t) {
        return t.data != null ? t.data : toFloats(t.ints);
    }

    private static float[] toFloats(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return f;
    }
}
