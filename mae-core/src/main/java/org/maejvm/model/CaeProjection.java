package org.maejvm.model;

import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.Linear;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * CAE's width change between the encoder and the regressor/decoder, when decoder_embed_dim differs from embed_dim
 * (the official {@code encoder_to_decoder} Linear, with bias, then {@code encoder_to_decoder_norm}, a LayerNorm):
 * y = norm(x Wᵀ + b), [B, T, D] to [B, T, D']. The official code sends the encoder's latents through it (with
 * gradient) and, under no_grad, the teacher's: {@link #forwardNoGrad} computes the latter into the caller's tensor
 * without disturbing what {@link #forward} kept for the backward.
 */
final class CaeProjection {
    static final String LINEAR = "encoder_to_decoder", NORM = "encoder_to_decoder_norm";

    private final Backend backend;
    private final ParameterSet params;
    private final Linear linear;
    private final LayerNorm norm;
    private final int in, out;
    private Tensor scratch, mean, rstd;

    CaeProjection(ParameterSet params, int in, int out) {
        this.backend = params.backend();
        this.params = params;
        this.in = in;
        this.out = out;
        linear = new Linear(params, LINEAR, in, out, true);
        norm = new LayerNorm(params, NORM, out, LayerNorm.MAE_EPS);
    }

    /** [B, T, in] to [B, T, out], kept for {@link #backward}. */
    Tensor forward(Tensor x) {
        return norm.forward(linear.forward(x));
    }

    /** Accumulates the projection's gradients; returns d(x). */
    Tensor backward(Tensor dy) {
        return linear.backward(norm.backward(dy));
    }

    /** The same map into {@code dst} [B, T, out], for a target that gets no gradient. */
    void forwardNoGrad(Tensor x, Tensor dst) {
        int rows = x.rows();
        scratch = Layer.reuse(backend, scratch, DType.F32, rows, out);
        mean = Layer.reuse(backend, mean, DType.F32, rows);
        rstd = Layer.reuse(backend, rstd, DType.F32, rows);
        backend.gemm(false, true, rows, out, in, 1f, x, 0, in, linear.weight().value(), 0, in, 0f, scratch, 0, out);
        backend.addBias(scratch, linear.bias().value());
        backend.layerNormForward(scratch, params.get(NORM + ".weight").value(), params.get(NORM + ".bias").value(),
                LayerNorm.MAE_EPS, dst, mean, rstd);
    }
}
