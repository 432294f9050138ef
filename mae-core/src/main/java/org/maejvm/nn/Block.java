package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/** timm's pre-norm transformer Block: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). Input and output [B, T, C]. */
public final class Block extends Layer {
    private final LayerNorm norm1, norm2;
    private final Attention attn;
    private final Mlp mlp;
    private final DropPath dropPath1, dropPath2;
    private Tensor mid, out, dx;

    public Block(ParameterSet params, String prefix, int dim, int heads, double mlpRatio) {
        this(params, prefix, dim, heads, mlpRatio, 0);
    }

    /**
     * With stochastic depth on both residual branches (timm's Block: one DropPath module applied to each branch,
     * so the two draw independent masks). Each is the identity until its mask is sampled or set.
     */
    public Block(ParameterSet params, String prefix, int dim, int heads, double mlpRatio, double dropPathRate) {
        super(params);
        dropPath1 = new DropPath(backend, dropPathRate);
        dropPath2 = new DropPath(backend, dropPathRate);
        norm1 = new LayerNorm(params, join(prefix, "norm1"), dim, LayerNorm.MAE_EPS);
        attn = new Attention(params, join(prefix, "attn"), dim, heads);
        norm2 = new LayerNorm(params, join(prefix, "norm2"), dim, LayerNorm.MAE_EPS);
        mlp = new Mlp(params, join(prefix, "mlp"), dim, (int) (dim * mlpRatio));
    }

    /**
     * Keeps its input's successor {@code mid} and its output (the next block's input) for backward; each branch's
     * output lives in workspace scratch only until it is added to the residual stream.
     */
    public Tensor forward(Tensor x) {
        mid = ensure(mid, x.shape());
        Tensor branch = workspace.borrow(x.shape());
        attn.forwardInto(norm1.forward(x), branch);
        dropPath1.addResidual(x, branch, mid);
        out = ensure(out, x.shape());
        mlp.forwardInto(norm2.forward(mid), branch);
        dropPath2.addResidual(mid, branch, out);
        workspace.release(branch);
        return out;
    }

    public Tensor backward(Tensor dy) {
        dx = ensure(dx, dy.shape());
        backwardInto(dy, dx);
        return dx;
    }

    /** Writes the input gradient into {@code inputGrad} (not dy); every gradient in between is workspace scratch. */
    public void backwardInto(Tensor dy, Tensor inputGrad) {
        int[] shape = dy.shape();
        Tensor branch = workspace.borrow(shape), dMid = workspace.borrow(shape);
        // x -> mid = x + attn(norm1(x)) -> out = mid + mlp(norm2(mid))
        mlp.backwardInto(dropPath2.backward(dy), branch);
        norm2.backwardInto(branch, dMid);
        backend.add(dy, dMid, dMid);
        attn.backwardInto(dropPath1.backward(dMid), branch);
        norm1.backwardInto(branch, inputGrad);
        backend.add(dMid, inputGrad, inputGrad);
        workspace.release(dMid);
        workspace.release(branch);
    }

    /** Stochastic depth on the attention branch. */
    public DropPath dropPathAttn() { return dropPath1; }

    /** Stochastic depth on the MLP branch. */
    public DropPath dropPathMlp() { return dropPath2; }
}
