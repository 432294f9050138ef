package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * A named model tensor. The name is the official PyTorch state_dict key (e.g. {@code blocks.3.attn.qkv.weight}) so
 * checkpoints move between this library and PyTorch. Fixed tensors (the sin-cos position embeddings) have no grad.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private final Tensor grad;

    Parameter(String name, Tensor value, Tensor grad) {
        this.name = name;
        this.value = value;
        this.grad = grad;
    }

    public String name() { return name; }

    public Tensor value() { return value; }

    /** The gradient accumulator, or null for a fixed tensor. */
    public Tensor grad() { return grad; }

    public boolean trainable() { return grad != null; }

    public int[] shape() { return value.shape(); }

    @Override
    public String toString() {
        return name + value + (trainable() ? "" : " (fixed)");
    }
}
