package org.maejvm.model;

import java.util.random.RandomGenerator;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;

/** Random initialisers of the official code (torch.nn.init / timm), drawn on the host from a seeded generator. */
final class Inits {
    private Inits() {}

    static void uniform(Backend be, Parameter p, double bound, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        be.upload(v, p.value());
    }

    static void normal(Backend be, Parameter p, double std, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * std);
        be.upload(v, p.value());
    }

    /** timm's trunc_normal_(std, a=-2, b=2): N(0, std²) redrawn outside the ABSOLUTE bounds [-2, 2]. */
    static void truncNormal(Backend be, Parameter p, double std, RandomGenerator rng) {
        float[] v = new float[p.value().size()];
        for (int i = 0; i < v.length; i++) {
            double x;
            do x = rng.nextGaussian() * std; while (x < -2 || x > 2);
            v[i] = (float) x;
        }
        be.upload(v, p.value());
    }
}
