package org.maejvm.bench;

import static org.maejvm.bench.OpCase.Unit.BYTE;
import static org.maejvm.bench.OpCase.Unit.FLOP;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.maejvm.ops.AdamWParams;
import org.maejvm.ops.AttentionShape;
import org.maejvm.ops.Backend;
import org.maejvm.ops.RowView;
import org.maejvm.tensor.Tensor;

/**
 * Every op of the Backend SPI at the shapes of MAE ViT-B pretraining at 224 px, patch 16, mask ratio 0.75:
 * L = 196 patches, 49 visible per image, width 768, MLP 3072, 12 heads of 64 (decoder: 197 tokens, 16 heads
 * of 32). GEMM at Linear-layer shapes is in {@link GemmCases}.
 *
 * <p>Bytes are counted as the data an op must read and write once (4 bytes a float or index); small vectors
 * (gamma, bias, per-row stats) are left out. Attention flops count the two matrix products of the forward,
 * 4·B·H·Tq·Tk·D, and for the backward the five of a recomputing backward, 10·B·H·Tq·Tk·D.
 */
public final class OpCases {
    private OpCases() {}

    /** Ops that return a value store it here, so the JIT cannot drop the work as unused. */
    static volatile float sink;

    /** FULL: a 32-image batch; QUICK: 8 images, for smoke runs; TINY: 2 images and small GEMMs, for tests. */
    public enum Size { FULL, QUICK, TINY }

    static final int PATCHES = 196, VISIBLE = 49, WIDTH = 768, HIDDEN = 3072, HEADS = 12, HEAD_DIM = 64;
    static final int DEC_TOKENS = 197, DEC_HEADS = 16, DEC_HEAD_DIM = 32, IMAGE = 224, PATCH = 16;

    /**
     * The cases for one backend. The reference backend is scalar and single-threaded, so its attention runs
     * on a quarter of the batch (the shape column says so).
     */
    public static List<OpCase> all(Size size, boolean reference) {
        List<OpCase> cases = build(size, reference);
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (OpCase c : cases) {
            if (!ids.add(c.id())) throw new IllegalStateException("two benchmark cases are named " + c.id());
        }
        return cases;
    }

    /** The case named {@code id} (see {@link OpCase#id()}), with a list of valid names if there is none. */
    public static OpCase byId(String id, Size size, boolean reference) {
        List<OpCase> cases = all(size, reference);
        return cases.stream().filter(c -> c.id().equals(id)).findFirst().orElseThrow(() -> new IllegalArgumentException(
                "no op case '" + id + "'; valid: " + cases.stream().map(OpCase::id).toList()));
    }

    private static List<OpCase> build(Size size, boolean reference) {
        int imgs = switch (size) { case FULL -> 32; case QUICK -> 8; case TINY -> 2; };
        int rows = imgs * VISIBLE;               // encoder tokens of a batch
        int attnImgs = reference ? Math.max(1, imgs / 4) : imgs;
        List<OpCase> cases = new ArrayList<>();

        // ---- data movement
        cases.add(memory("upload", rows, WIDTH, 2, b -> {
            float[] host = randomFloats(rows * WIDTH, 1);
            Tensor t = b.zeros(rows, WIDTH);
            return () -> b.upload(host, t);
        }));
        cases.add(memory("toHost", rows, WIDTH, 2, b -> {
            Tensor t = random(b, 1, rows, WIDTH);
            return () -> sink = b.toHost(t)[0];
        }));
        cases.add(memory("fill", rows, WIDTH, 1, b -> {
            Tensor t = b.zeros(rows, WIDTH);
            return () -> b.fill(t, 0.5f);
        }));
        cases.add(memory("copy", rows, WIDTH, 2, b -> {
            Tensor s = random(b, 1, rows, WIDTH), d = b.zeros(rows, WIDTH);
            return () -> b.copy(s, 0, d, 0, s.size());
        }));
        cases.add(new OpCase("copyRows", "", shape(rows, WIDTH) + " into stride " + 2 * WIDTH, BYTE,
                2.0 * rows * WIDTH * Float.BYTES, b -> {
            // Concatenation along features: the rows land in every other half-row of a wider buffer.
            Tensor s = random(b, 1, rows, WIDTH), d = b.zeros(rows, 2 * WIDTH);
            RowView src = RowView.of(s), dst = new RowView(d, WIDTH, 2 * WIDTH);
            return () -> b.copyRows(rows, WIDTH, src, dst);
        }));

        // ---- batched GEMM: attention scores q kᵀ per (image, head), the many-small-matrices case
        {
            int batch = attnImgs * HEADS, t = VISIBLE + 1, d = HEAD_DIM;
            cases.add(new OpCase("gemmBatched", "", batch + " x " + t + "x" + t + "x" + d + " NT", FLOP,
                    2.0 * batch * t * t * d, b -> {
                Tensor q = random(b, 1, batch, t, d), k = random(b, 2, batch, t, d), s = b.zeros(batch, t, t);
                return () -> b.gemmBatched(false, true, t, t, d, 1f, q, 0, d, t * d, k, 0, d, t * d, 0f, s, 0, t, t * t, batch);
            }));
        }

        // ---- elementwise
        cases.add(memory("add", rows, WIDTH, 3, b -> {
            Tensor x = random(b, 1, rows, WIDTH), y = random(b, 2, rows, WIDTH), o = b.zeros(rows, WIDTH);
            return () -> b.add(x, y, o);
        }));
        cases.add(memory("scale", rows, WIDTH, 2, b -> {
            Tensor x = random(b, 1, rows, WIDTH);
            return () -> b.scale(x, 1f);   // 1: values stay put however many times it runs
        }));
        cases.add(memory("axpy", rows, WIDTH, 3, b -> {
            Tensor x = random(b, 1, rows, WIDTH), y = random(b, 2, rows, WIDTH);
            return () -> b.axpy(1e-3f, x, y);
        }));
        cases.add(memory("addBias", rows, WIDTH, 2, b -> {
            Tensor x = random(b, 1, rows, WIDTH), bias = random(b, 2, WIDTH);
            return () -> b.addBias(x, bias);
        }));
        cases.add(memory("biasGrad", rows, WIDTH, 1, b -> {
            Tensor dy = random(b, 1, rows, WIDTH), db = b.zeros(WIDTH);
            return () -> b.biasGrad(dy, db);
        }));

        // ---- normalisation and activations
        cases.add(memory("layerNormForward", rows, WIDTH, 2, b -> {
            Tensor x = random(b, 1, rows, WIDTH), g = random(b, 2, WIDTH), be = random(b, 3, WIDTH);
            Tensor out = b.zeros(rows, WIDTH), mean = b.zeros(rows), rstd = b.zeros(rows);
            return () -> b.layerNormForward(x, g, be, 1e-6f, out, mean, rstd);
        }));
        cases.add(memory("layerNormBackward", rows, WIDTH, 3, b -> {
            Tensor x = random(b, 1, rows, WIDTH), g = random(b, 2, WIDTH), be = random(b, 3, WIDTH);
            Tensor out = b.zeros(rows, WIDTH), mean = b.zeros(rows), rstd = b.zeros(rows);
            b.layerNormForward(x, g, be, 1e-6f, out, mean, rstd);
            Tensor dout = random(b, 4, rows, WIDTH), dx = b.zeros(rows, WIDTH), dg = b.zeros(WIDTH), db = b.zeros(WIDTH);
            return () -> b.layerNormBackward(dout, x, g, mean, rstd, dx, dg, db);
        }));
        cases.add(memory("geluForward", rows, HIDDEN, 2, b -> {
            Tensor x = random(b, 1, rows, HIDDEN), out = b.zeros(rows, HIDDEN);
            return () -> b.geluForward(x, out);
        }));
        cases.add(memory("geluBackward", rows, HIDDEN, 3, b -> {
            Tensor x = random(b, 1, rows, HIDDEN), dout = random(b, 2, rows, HIDDEN), dx = b.zeros(rows, HIDDEN);
            return () -> b.geluBackward(x, dout, dx);
        }));
        {
            // Decoder attention scores of a quarter batch, one row per (image, head, query).
            int sRows = Math.max(1, imgs / 4) * DEC_HEADS * DEC_TOKENS, cols = DEC_TOKENS;
            cases.add(memory("softmax", sRows, cols, 2, b -> {
                Tensor x = random(b, 1, sRows, cols), out = b.zeros(sRows, cols);
                return () -> b.softmax(x, out);
            }));
        }

        // ---- attention: encoder (49 visible + cls, 12 x 64) and decoder (197 tokens, 16 x 32)
        addAttention(cases, attnImgs, VISIBLE + 1, HEADS, HEAD_DIM, "enc");
        addAttention(cases, Math.max(1, attnImgs / 4), DEC_TOKENS, DEC_HEADS, DEC_HEAD_DIM, "dec");

        // ---- masking
        {
            int bytes = imgs * VISIBLE * WIDTH * Float.BYTES, idx = imgs * VISIBLE * Integer.BYTES;
            String sh = "[" + imgs + ", " + PATCHES + ", " + WIDTH + "] keep " + VISIBLE;
            cases.add(new OpCase("gatherRows", "", sh, BYTE, 2.0 * bytes + idx, b -> {
                Tensor src = random(b, 1, imgs, PATCHES, WIDTH), dst = b.zeros(imgs, VISIBLE, WIDTH);
                Tensor index = b.fromHost(keepIndex(imgs), imgs, VISIBLE);
                return () -> b.gatherRows(src, index, dst);
            }));
            // read src, read and write the touched rows of dst
            cases.add(new OpCase("scatterAddRows", "", sh, BYTE, 3.0 * bytes + idx, b -> {
                Tensor src = random(b, 1, imgs, VISIBLE, WIDTH), dst = b.zeros(imgs, PATCHES, WIDTH);
                Tensor index = b.fromHost(keepIndex(imgs), imgs, VISIBLE);
                return () -> b.scatterAddRows(src, index, dst);
            }));
        }
        for (boolean channelsLast : new boolean[] {false, true}) {
            int n = imgs * 3 * IMAGE * IMAGE;
            cases.add(new OpCase("patchify", channelsLast ? "ijc" : "cij", "[" + imgs + ", 3, " + IMAGE + ", " + IMAGE + "] p" + PATCH
                    + (channelsLast ? " (i,j,c)" : " (c,i,j)"), BYTE, 2.0 * n * Float.BYTES, b -> {
                Tensor img = random(b, 1, imgs, 3, IMAGE, IMAGE), out = b.zeros(imgs, PATCHES, PATCH * PATCH * 3);
                return () -> b.patchify(img, PATCH, channelsLast, out);
            }));
        }

        // ---- losses (pixel targets of all 196 patches; 75% masked; norm_pix_loss on)
        {
            int p = PATCH * PATCH * 3, n = imgs * PATCHES * p;
            String sh = "[" + imgs + ", " + PATCHES + ", " + p + "] normPix";
            cases.add(new OpCase("maskedMseForward", "", sh, BYTE, 2.0 * n * Float.BYTES, b -> {
                Tensor pred = random(b, 1, imgs, PATCHES, p), target = random(b, 2, imgs, PATCHES, p);
                Tensor mask = b.fromHost(maskOf(imgs), imgs, PATCHES);
                return () -> sink = b.maskedMseForward(pred, target, mask, true);
            }));
            cases.add(new OpCase("maskedMseBackward", "", sh, BYTE, 3.0 * n * Float.BYTES, b -> {
                Tensor pred = random(b, 1, imgs, PATCHES, p), target = random(b, 2, imgs, PATCHES, p);
                Tensor mask = b.fromHost(maskOf(imgs), imgs, PATCHES), dpred = b.zeros(imgs, PATCHES, p);
                return () -> b.maskedMseBackward(pred, target, mask, true, 1f, dpred);
            }));
        }
        {
            int n = imgs * 8, classes = 1000;   // fine-tuning head: a batch of logits over ImageNet classes
            cases.add(memory("softmaxCrossEntropy", n, classes, 3, b -> {
                Tensor logits = random(b, 1, n, classes), targets = b.fromHost(oneHot(n, classes), n, classes);
                Tensor dlogits = b.zeros(n, classes);
                return () -> sink = b.softmaxCrossEntropy(logits, targets, dlogits);
            }));
        }

        // ---- optimizer and reductions
        cases.add(memory("adamw", HIDDEN, WIDTH, 7, b -> {   // an fc1 weight: read p, g, m, v; write p, m, v
            Tensor p = random(b, 1, HIDDEN, WIDTH), g = random(b, 2, HIDDEN, WIDTH);
            Tensor m = b.zeros(HIDDEN, WIDTH), v = b.zeros(HIDDEN, WIDTH);
            AdamWParams params = new AdamWParams(1.5e-4f, 0.9f, 0.95f, 1e-8f, 0.05f, 1);
            return () -> b.adamw(p, g, m, v, params);
        }));
        cases.add(memory("sum", rows, HIDDEN, 1, b -> {
            Tensor x = random(b, 1, rows, HIDDEN);
            return () -> sink = b.sum(x);
        }));
        cases.add(memory("sumSquares", rows, HIDDEN, 1, b -> {
            Tensor x = random(b, 1, rows, HIDDEN);
            return () -> sink = b.sumSquares(x);
        }));
        return cases;
    }

    private static void addAttention(List<OpCase> cases, int batch, int tokens, int heads, int headDim, String tag) {
        AttentionShape s = AttentionShape.self(batch, heads, tokens, headDim);
        int w = s.width(), n = batch * tokens;
        double pairs = (double) batch * heads * tokens * tokens * headDim;
        String sh = tag + " B" + batch + " T" + tokens + " H" + heads + "x" + headDim;
        cases.add(new OpCase("attentionForward", tag, sh, FLOP, 4 * pairs, b -> {
            Attn a = new Attn(b, s, n, w);
            return () -> b.attentionForward(s, a.q, a.k, a.v, a.out, a.lse);
        }));
        cases.add(new OpCase("attentionBackward", tag, sh, FLOP, 10 * pairs, b -> {
            Attn a = new Attn(b, s, n, w);
            b.attentionForward(s, a.q, a.k, a.v, a.out, a.lse);
            Tensor dout = random(b, 5, n, w), dqkv = b.zeros(n, 3 * w);
            RowView dq = new RowView(dqkv, 0, 3 * w), dk = new RowView(dqkv, w, 3 * w), dv = new RowView(dqkv, 2 * w, 3 * w);
            RowView d = RowView.of(dout);
            return () -> b.attentionBackward(s, a.q, a.k, a.v, a.out, d, a.lse, dq, dk, dv);
        }));
    }

    /** q, k, v as views of one packed qkv buffer [B*T, 3W], as the Attention layer lays them out. */
    private static final class Attn {
        final RowView q, k, v, out;
        final Tensor lse;

        Attn(Backend b, AttentionShape s, int n, int w) {
            Tensor qkv = random(b, 4, n, 3 * w);
            // Small values keep the softmax away from one-hot, as in a trained net.
            b.scale(qkv, 0.5f);
            q = new RowView(qkv, 0, 3 * w);
            k = new RowView(qkv, w, 3 * w);
            v = new RowView(qkv, 2 * w, 3 * w);
            out = RowView.of(b.zeros(n, w));
            lse = b.zeros(s.batch() * s.heads() * s.queryLen());
        }
    }

    /** A memory-bound op over a rows x cols matrix that touches it {@code passes} times. */
    private static OpCase memory(String op, int rows, int cols, int passes, java.util.function.Function<Backend, Runnable> setup) {
        return new OpCase(op, "", shape(rows, cols), BYTE, (double) passes * rows * cols * Float.BYTES, setup);
    }

    static String shape(int... dims) {
        return java.util.Arrays.toString(dims);
    }

    /** Uniform floats in [-1, 1) from a fixed seed. */
    public static float[] randomFloats(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (r.nextDouble() * 2 - 1);
        return out;
    }

    public static Tensor random(Backend b, long seed, int... shape) {
        return b.fromHost(randomFloats(org.maejvm.tensor.Shapes.size(shape), seed), shape);
    }

    /** MAE's ids_keep: for each image the first 49 entries of a random permutation of the 196 patches. */
    static int[] keepIndex(int imgs) {
        SplittableRandom r = new SplittableRandom(7);
        int[] out = new int[imgs * VISIBLE];
        int[] perm = new int[PATCHES];
        for (int b = 0; b < imgs; b++) {
            for (int i = 0; i < PATCHES; i++) perm[i] = i;
            for (int i = PATCHES - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            System.arraycopy(perm, 0, out, b * VISIBLE, VISIBLE);
        }
        return out;
    }

    /** 1 for the masked (removed) patches, 0 for the kept ones, as MAE's mask. */
    static float[] maskOf(int imgs) {
        float[] mask = new float[imgs * PATCHES];
        java.util.Arrays.fill(mask, 1f);
        int[] keep = keepIndex(imgs);
        for (int b = 0; b < imgs; b++) {
            for (int j = 0; j < VISIBLE; j++) mask[b * PATCHES + keep[b * VISIBLE + j]] = 0f;
        }
        return mask;
    }

    static float[] oneHot(int n, int classes) {
        float[] t = new float[n * classes];
        for (int i = 0; i < n; i++) t[i * classes + (i * 37) % classes] = 1f;
        return t;
    }
}
