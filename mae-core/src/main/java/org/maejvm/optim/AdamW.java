package org.maejvm.optim;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.AdamWParams;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * torch.optim.AdamW over the official MAE parameter groups: weight decay for every trainable parameter except those
 * with at most one dimension, names ending in ".bias", and an optional skip list (timm's param_groups_weight_decay,
 * as main_pretrain.py uses it). So cls_token and mask_token, which are [1, 1, D], are decayed, as officially.
 */
public final class AdamW {
    /** A parameter with its optimizer state; {@code lrScale} multiplies the step's lr (layer-wise decay, else 1). */
    public record Slot(Parameter param, Tensor expAvg, Tensor expAvgSq, boolean decay, float lrScale) {
        public Slot(Parameter param, Tensor expAvg, Tensor expAvgSq, boolean decay) {
            this(param, expAvg, expAvgSq, decay, 1f);
        }
    }

    /** The parameter group of one parameter: its lr scale and whether weight decay applies (torch param_groups). */
    public record Group(float lrScale, boolean decay) {
        public Group {
            if (!(lrScale >= 0) || Float.isInfinite(lrScale)) throw new IllegalArgumentException("lr scale must be finite and >= 0, got " + lrScale);
        }
    }

    private final Backend backend;
    private final List<Slot> slots = new ArrayList<>();
    private final float beta1, beta2, eps, weightDecay;
    private int step;

    public AdamW(ParameterSet params, float beta1, float beta2, float eps, float weightDecay, Set<String> noDecay) {
        this.backend = params.backend();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        Set<String> skip = new HashSet<>(noDecay);
        for (Parameter p : params.trainable()) {
            boolean decay = p.shape().length > 1 && !p.name().endsWith(".bias") && !skip.contains(p.name());
            slots.add(new Slot(p, backend.zeros(p.shape()), backend.zeros(p.shape()), decay));
        }
    }

    /**
     * AdamW over an explicit list of parameters (e.g. the trainable part of a model), each in the group
     * {@code groupOf} gives it: per-parameter lr scale and weight decay, as torch's param_groups with "lr_scale".
     */
    public AdamW(Backend backend, List<Parameter> params, float beta1, float beta2, float eps, float weightDecay,
                 Function<Parameter, Group> groupOf) {
        this.backend = backend;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Parameter p : params) {
            if (!p.trainable()) throw new IllegalArgumentException("AdamW: parameter " + p.name() + " is fixed (it has no gradient)");
            Group g = groupOf.apply(p);
            slots.add(new Slot(p, backend.zeros(p.shape()), backend.zeros(p.shape()), g.decay(), g.lrScale()));
        }
    }

    /** The official pretraining defaults: betas (0.9, 0.95), eps 1e-8. */
    public static AdamW forMae(ParameterSet params, float weightDecay) {
        return new AdamW(params, 0.9f, 0.95f, 1e-8f, weightDecay, Set.of());
    }

    /** One update of every parameter with learning rate lr, using the gradients as they are. */
    public void step(float lr) {
        step++;
        for (Slot s : slots) {
            AdamWParams hp = new AdamWParams(lr * s.lrScale(), beta1, beta2, eps, s.decay() ? weightDecay : 0f, step);
            backend.adamw(s.param().value(), s.param().grad(), s.expAvg(), s.expAvgSq(), hp);
        }
    }

    /** Steps taken so far. */
    public int stepCount() { return step; }

    /** Restores the step count (for resuming from a checkpoint together with the moment tensors). */
    public void setStepCount(int step) {
        if (step < 0) throw new IllegalArgumentException("step count must be >= 0, got " + step);
        this.step = step;
    }

    public List<Slot> slots() { return List.copyOf(slots); }

    public float weightDecay() { return weightDecay; }
}
