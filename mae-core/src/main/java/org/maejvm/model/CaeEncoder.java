package org.maejvm.model;

import java.util.ArrayList;
import java.util.List;
import org.maejvm.nn.Layer;
import org.maejvm.nn.LayerNorm;
import org.maejvm.nn.LayerScaleBlock;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.nn.PatchEmbed;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.Tensor;

/**
 * CAE's {@code VisionTransformerEncoder}: patch embedding, a cls token, fixed 2-D sin-cos positions, BEiT blocks
 * with layer scale and q/v biases, a final LayerNorm; it runs on a chosen subset of each image's patches (the
 * visible ones for the encoder, the masked ones for the teacher). Output [B, 1 + n, D], row 0 the cls token. The
 * blocks' drop paths are set by the owner ({@link CaeModel}) before each forward.
 */
final class CaeEncoder {
    private final Backend backend;
    private final MaeConfig config;
    final Parameter clsToken, posEmbed;
    final PatchEmbed patchEmbed;
    final List<LayerScaleBlock> blocks = new ArrayList<>();
    final LayerNorm norm;
    private Tensor source, index, tokens, dSource, clsRows, dEmbedded;
    private int batch;

    /** Block i's stochastic depth is {@code cae.dropPathRate(i, depth)}, rising from 0 at the first block. */
    CaeEncoder(ParameterSet params, String prefix, MaeConfig config, double layerScale, CaeConfig cae) {
        this.backend = params.backend();
        this.config = config;
        int d = config.embedDim(), l = config.numPatches();
        clsToken = params.add(prefix + ".cls_token", true, 1, 1, d);
        posEmbed = params.add(prefix + ".pos_embed", false, 1, 1 + l, d);
        patchEmbed = new PatchEmbed(params, prefix + ".patch_embed", config.patchSize(), config.inChans(), d);
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(new LayerScaleBlock(params, prefix + ".blocks." + i, d, config.numHeads(), config.mlpRatio(), layerScale,
                    cae.dropPathRate(i, config.depth())));
        }
        norm = new LayerNorm(params, prefix + ".norm", d, LayerNorm.MAE_EPS);
    }

    /** The encoder on patches {@code ids} [batch, count] (per image, in the order given). */
    Tensor forward(Tensor imgs, int[] ids, int batch, int count) {
        this.batch = batch;
        int l = config.numPatches(), d = config.embedDim();
        Tensor embedded = patchEmbed.forward(imgs); // [B, L, D]
        // Per image: row 0 = cls_token, rows 1..L = patch tokens; + pos_embed on all rows (the cls row's is zero).
        source = reuse(source, DType.F32, batch, 1 + l, d);
        backend.copyRows(batch, l * d, new RowView(embedded, 0, l * d), new RowView(source, d, (1 + l) * d));
        for (int i = 0; i < batch; i++) backend.copy(clsToken.value(), 0, source, i * (1 + l) * d, d);
        backend.addBias(source, posEmbed.value());
        int[] rows = new int[batch * (1 + count)];
        for (int i = 0; i < batch; i++) {
            for (int j = 0; j < count; j++) rows[i * (1 + count) + 1 + j] = 1 + ids[i * count + j];
        }
        index = reuse(index, DType.I32, batch, 1 + count);
        backend.upload(rows, index);
        tokens = reuse(tokens, DType.F32, batch, 1 + count, d);
        backend.gatherRows(source, index, tokens);
        Tensor x = tokens;
        for (LayerScaleBlock blk : blocks) x = blk.forward(x);
        return norm.forward(x);
    }

    /** Accumulates the gradients of the last forward from d(output) [B, 1 + n, D]. */
    void backward(Tensor dOut) {
        int l = config.numPatches(), d = config.embedDim();
        Tensor g = norm.backward(dOut);
        for (int i = blocks.size() - 1; i >= 0; i--) g = blocks.get(i).backward(g);
        dSource = reuse(dSource, DType.F32, batch, 1 + l, d);
        backend.fill(dSource, 0f);
        backend.scatterAddRows(g, index, dSource);
        clsRows = reuse(clsRows, DType.F32, batch, d);
        backend.copyRows(batch, d, new RowView(dSource, 0, (1 + l) * d), new RowView(clsRows, 0, d));
        backend.biasGrad(clsRows, clsToken.grad());
        dEmbedded = reuse(dEmbedded, DType.F32, batch, l, d);
        backend.copyRows(batch, l * d, new RowView(dSource, d, (1 + l) * d), new RowView(dEmbedded, 0, l * d));
        patchEmbed.backward(dEmbedded);
    }

    private Tensor reuse(Tensor t, DType type, int... shape) {
        return Layer.reuse(backend, t, type, shape);
    }
}
