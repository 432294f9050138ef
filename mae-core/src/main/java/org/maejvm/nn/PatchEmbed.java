package org.maejvm.nn;

import org.maejvm.tensor.Tensor;

/**
 * timm's PatchEmbed: Conv2d(C, D, kernel p, stride p) then flatten to tokens [B, L, D]. A stride-p convolution
 * is a GEMM over patches in (c, i, j) order, so the conv kernel [D, C, p, p] is used as a [D, C*p*p] matrix.
 */
public final class PatchEmbed extends Layer {
    private final int patch, inChans, dim;
    private final Linear proj;
    private Tensor patches;

    public PatchEmbed(ParameterSet params, String prefix, int patch, int inChans, int dim) {
        super(params.backend());
        this.patch = patch;
        this.inChans = inChans;
        this.dim = dim;
        Parameter w = params.add(join(prefix, "proj.weight"), true, dim, inChans, patch, patch);
        Parameter b = params.add(join(prefix, "proj.bias"), true, dim);
        proj = new Linear(params, w, b, inChans * patch * patch, dim);
    }

    public Parameter weight() { return proj.weight(); }

    public Parameter bias() { return proj.bias(); }

    /** imgs [B, C, H, W] to tokens [B, L, D]. */
    public Tensor forward(Tensor imgs) {
        if (imgs.rank() != 4 || imgs.dim(1) != inChans) {
            throw new IllegalArgumentException("PatchEmbed expects images [B, " + inChans + ", H, W], got " + imgs);
        }
        int l = (imgs.dim(2) / patch) * (imgs.dim(3) / patch);
        patches = ensure(patches, imgs.dim(0), l, inChans * patch * patch);
        backend.patchify(imgs, patch, false, patches);
        return proj.forward(patches);
    }

    /** Accumulates the kernel and bias gradients; images need no gradient. */
    public void backward(Tensor dTokens) {
        proj.backward(dTokens, false);
    }

    public int dim() { return dim; }
}
