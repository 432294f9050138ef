package org.maejvm.bench.train;

import org.maejvm.model.MaeConfig;

/**
 * The memory plan of one MAE training step, in bytes of float32/int32 tensors, from the configuration alone (so a
 * launcher can size a JVM heap before the model exists). It follows the buffers the layers keep:
 * <ul>
 *   <li>{@code parameters}: every tensor of the state_dict, plus a gradient and AdamW's two moments for each
 *       trainable one (16 bytes per trainable value);</li>
 *   <li>{@code activations}: what each layer keeps from forward for backward. A pre-norm block on R rows of width
 *       C with MLP width H keeps 8·R·C (norm1 out, packed qkv, attention out, the residual after attention, norm2
 *       out, the block output) + 2·R·H (fc1 out, GELU out) + 4·R (two LayerNorms' mean and rstd) + the attention's
 *       log-sum-exp per head and row; plus the model's own buffers around the blocks (patches, token tables,
 *       prediction, target, mask and their gradients);</li>
 *   <li>{@code scratch}: the shared {@link org.maejvm.nn.Workspace}, per block width: five [R, C] buffers (two
 *       token gradients between blocks, the block's branch and residual gradients, the attention-output gradient),
 *       one [R, 3C] (packed qkv gradient) and one [R, H] (hidden gradient), whatever the depth; plus the encoder
 *       source gradients.</li>
 * </ul>
 * A test walks a real model after a step and checks this count against the arrays it holds.
 */
public record StepMemory(long parameters, long activations, long scratch) {

    public long total() { return parameters + activations + scratch; }

    public static StepMemory of(MaeConfig c, int batch, double maskRatio) {
        long l = c.numPatches(), keep = (long) (l * (1 - maskRatio)), p = c.patchDim();
        long d = c.embedDim(), dd = c.decoderEmbedDim(), b = batch;
        long hidden = (long) (d * c.mlpRatio()), decHidden = (long) (dd * c.mlpRatio());
        long encRows = b * (1 + keep), decRows = b * (1 + l);

        long trainable = d + dd                                        // cls_token, mask_token
                + d * p + d                                            // patch_embed.proj
                + c.depth() * blockParams(d, hidden) + 2 * d           // blocks, norm
                + d * dd + dd                                          // decoder_embed
                + c.decoderDepth() * blockParams(dd, decHidden) + 2 * dd
                + dd * p + p;                                          // decoder_pred
        long fixed = (1 + l) * (d + dd);                               // the two sin-cos position embeddings
        long parameters = 16 * trainable + 4 * fixed;

        long floats = c.depth() * blockActivations(b, 1 + keep, d, hidden, c.numHeads())
                + c.decoderDepth() * blockActivations(b, 1 + l, dd, decHidden, c.decoderNumHeads())
                + b * l * p + b * l * d                                // patches, patch tokens
                + b * (1 + l) * d + encRows * d                        // encoder source table, visible tokens
                + encRows * d + 2 * encRows                            // final norm
                + encRows * dd + b * (2 + keep) * dd + decRows * dd    // decoder_embed out, source table, tokens
                + decRows * dd + 2 * decRows + decRows * p             // decoder_norm, decoder_pred out
                + 3 * b * l * p + b * l                                // pred, target, its gradient; mask
                + decRows * p + b * (2 + keep) * dd + b * dd           // pred-with-cls gradient, source grad, mask rows
                + encRows * dd + b * d                                 // decoder_embed gradient, cls rows
                + encRows + decRows                                    // the two gather indices (int32)
                + b * c.inChans() * (long) c.imgSize() * c.imgSize();  // the input batch
        long scratchFloats = blockScratch(encRows, d, hidden) + blockScratch(decRows, dd, decHidden)
                + b * (1 + l) * d + b * l * d;                         // encoder source gradient, patch-token gradient
        return new StepMemory(parameters, 4 * floats, 4 * scratchFloats);
    }

    /** Weights and biases of one block: two LayerNorms, qkv, proj, fc1, fc2. */
    static long blockParams(long d, long hidden) {
        return 4 * d + (3 * d * d + 3 * d) + (d * d + d) + (hidden * d + hidden) + (d * hidden + d);
    }

    /** Floats one block keeps from forward for backward (see the class comment). */
    static long blockActivations(long batch, long tokens, long d, long hidden, long heads) {
        long rows = batch * tokens;
        return 8 * rows * d + 2 * rows * hidden + 4 * rows + batch * heads * tokens;
    }

    /** Floats of the workspace buffers one width's blocks share. */
    static long blockScratch(long rows, long d, long hidden) {
        return 5 * rows * d + 3 * rows * d + rows * hidden;
    }
}
