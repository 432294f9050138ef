package org.maejvm.model;

import java.util.random.RandomGenerator;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;

/**
 * The official {@code initialize_weights} of models_mae.py: fixed sin-cos position embeddings; the patch-embed
 * kernel xavier-uniform on its [D, C*p*p] view (its bias keeps Conv2d's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)));
 * cls and mask tokens N(0, 0.02); every Linear xavier-uniform with zero bias; every LayerNorm weight 1, bias 0.
 */
final class MaeInit {
    private MaeInit() {}

    static void initialize(MaeModel model, RandomGenerator rng) {
        MaeConfig c = model.config();
        Backend be = model.backend();
        be.upload(SinCosPositionEmbedding.withClsRow(c.embedDim(), c.gridSize()), model.posEmbed().value());
        be.upload(SinCosPositionEmbedding.withClsRow(c.decoderEmbedDim(), c.gridSize()), model.decoderPosEmbed().value());

        int fanIn = c.inChans() * c.patchSize() * c.patchSize();
        xavierUniform(be, model.patchEmbed().weight(), fanIn, c.embedDim(), rng);
        uniform(be, model.patchEmbed().bias(), 1.0 / Math.sqrt(fanIn), rng);
        normal(be, model.clsToken(), 0.02, rng);
        normal(be, model.maskToken(), 0.02, rng);

        for (Parameter p : model.parameters().all()) {
            int[] s = p.shape();
            if (p.name().endsWith(".weight") && s.length == 2) xavierUniform(be, p, s[1], s[0], rng); // Linear [out, in]
            // Linear biases and LayerNorm parameters start at 0 and 1 from their constructors.
        }
    }

    private static void xavierUniform(Backend be, Parameter p, int fanIn, int fanOut, RandomGenerator rng) {
        uniform(be, p, Math.sqrt(6.0 / (fanIn + fanOut)), rng);
    }

    private static void uniform(Backend be, Parameter p, double bound, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        be.upload(v, p.value());
    }

    private static void normal(Backend be, Parameter p, double std, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        be.upload(v, p.value());
    }
}
