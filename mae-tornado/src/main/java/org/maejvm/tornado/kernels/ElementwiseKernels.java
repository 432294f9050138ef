package org.maejvm.tornado.kernels;

import uk.ac.manchester.tornado.api.annotations.Parallel;
import uk.ac.manchester.tornado.api.math.TornadoMath;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * Kernels without cross-item communication, as {@code @Parallel} loops (TornadoVM maps each parallel loop to a
 * grid dimension). Every loop starts at 0 with step 1, as TornadoVM's loop parallelisation expects.
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {}

    /**
     * Reads and writes x[0] in one work-item: run before a kernel that writes only part of x, it makes TornadoVM
     * copy x in (READ_WRITE). A kernel argument TornadoVM finds only written is WRITE_ONLY: it gets a fresh
     * device buffer, not the host's values, and the positions the kernel skips come back as zeros or garbage.
     */
    public static void touch(FloatArray x) {
        x.set(0, x.get(0));
    }

    public static void fill(FloatArray x, float value, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(i, value);
        }
    }

    /** dst[dstOff + i] = src[srcOff + i]; src and dst may be one buffer when the ranges do not overlap. */
    public static void copy(FloatArray src, int srcOff, FloatArray dst, int dstOff, int count) {
        for (@Parallel int i = 0; i < count; i++) {
            dst.set(dstOff + i, src.get(srcOff + i));
        }
    }

    /** A rows x cols block between strided row views; p = {rows, cols, srcOff, srcStride, dstOff, dstStride}. */
    public static void copyRows(FloatArray src, FloatArray dst, IntArray p) {
        int rows = p.get(0);
        int cols = p.get(1);
        for (@Parallel int r = 0; r < rows; r++) {
            for (@Parallel int c = 0; c < cols; c++) {
                dst.set(p.get(4) + r * p.get(5) + c, src.get(p.get(2) + r * p.get(3) + c));
            }
        }
    }

    public static void add(FloatArray a, FloatArray b, FloatArray out, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, a.get(i) + b.get(i));
        }
    }

    public static void scale(FloatArray x, float alpha, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(i, x.get(i) * alpha);
        }
    }

    public static void axpy(float alpha, FloatArray x, FloatArray y, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            y.set(i, y.get(i) + alpha * x.get(i));
        }
    }

    /** x[i] += bias[i % nb]: a row bias, or a whole [T, D] tile such as a position embedding. */
    public static void addBias(FloatArray x, FloatArray bias, int n, int nb) {
        for (@Parallel int i = 0; i < n; i++) {
            x.set(i, x.get(i) + bias.get(i % nb));
        }
    }

    /** out[i] = x[i] * gamma[i % cols]: a per-channel scale (layer scale); out may be x. */
    public static void scaleColumns(FloatArray x, FloatArray gamma, FloatArray out, int n, int cols) {
        for (@Parallel int i = 0; i < n; i++) {
            out.set(i, x.get(i) * gamma.get(i % cols));
        }
    }

    // ------------------------------------------------------------------ GELU (exact erf form)

    private static final float INV_SQRT2 = 0.70710678118654752f;
    private static final float INV_SQRT_2PI = 0.39894228040143268f;

    /**
     * Phi(-|x|) = erfc(|x| / sqrt 2) / 2 from the Chebyshev-fitted erfc of Numerical Recipes (2nd ed., 6.2,
     * "erfcc"), fractional error below 1.2e-7: the complement is fitted, so both tails keep relative accuracy.
     */
    static float lowerTail(float x) {
        float z = TornadoMath.abs(x) * INV_SQRT2;
        float t = 1f / (1f + 0.5f * z);
        float p = -0.82215223f + t * 0.17087277f;
        p = 1.48851587f + t * p;
        p = -1.13520398f + t * p;
        p = 0.27886807f + t * p;
        p = -0.18628806f + t * p;
        p = 0.09678418f + t * p;
        p = 0.37409196f + t * p;
        p = 1.00002368f + t * p;
        // -z^2 taken as -x^2 / 2 straight from x
        float arg = -0.5f * x * x + (t * p - 1.26551223f);
        return t * TornadoMath.exp(arg) * 0.5f;
    }

    static float phi(float x) {
        float tail = lowerTail(x);
        return x < 0f ? tail : 1f - tail;
    }

    public static void geluForward(FloatArray x, FloatArray out, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float v = x.get(i);
            out.set(i, v * phi(v));
        }
    }

    /** dx = dout * (Phi(x) + x * pdf(x)); dx may be dout. */
    public static void geluBackward(FloatArray x, FloatArray dout, FloatArray dx, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float v = x.get(i);
            float pdf = INV_SQRT_2PI * TornadoMath.exp(-0.5f * v * v);
            dx.set(i, dout.get(i) * (phi(v) + v * pdf));
        }
    }

    // ------------------------------------------------------------------ masking and patches

    /** dst[b, j, :] = src[b, index[b, j], :]; indices were checked on the host. */
    public static void gatherRows(FloatArray src, IntArray index, FloatArray dst, int rowsOut, int kept, int srcRows, int width) {
        for (@Parallel int row = 0; row < rowsOut; row++) {
            for (@Parallel int c = 0; c < width; c++) {
                int b = row / kept;
                int from = (b * srcRows + index.get(row)) * width;
                dst.set(row * width + c, src.get(from + c));
            }
        }
    }

    /**
     * dst[b, index[b, j], :] += src[b, j, :]. Parallel over (batch, column) with j in order inside, so repeated
     * indices accumulate without atomics and in the reference's order.
     */
    public static void scatterAddRows(FloatArray src, IntArray index, FloatArray dst, int batch, int kept, int dstRows, int width) {
        for (@Parallel int b = 0; b < batch; b++) {
            for (@Parallel int c = 0; c < width; c++) {
                for (int j = 0; j < kept; j++) {
                    int to = (b * dstRows + index.get(b * kept + j)) * width + c;
                    dst.set(to, dst.get(to) + src.get((b * kept + j) * width + c));
                }
            }
        }
    }

    /** imgs [B, C, H, W] to patches [B, L, p*p*C]; p = {B, C, H, W, patch, channelsLast}. One item per output value. */
    public static void patchify(FloatArray imgs, FloatArray out, IntArray p, int total) {
        for (@Parallel int o = 0; o < total; o++) {
            int c = p.get(1);
            int h = p.get(2);
            int w = p.get(3);
            int ps = p.get(4);
            int gw = w / ps;
            int feat = ps * ps * c;
            int patchRow = o / feat;
            int f = o - patchRow * feat;
            int b = patchRow / ((h / ps) * gw);
            int l = patchRow - b * ((h / ps) * gw);
            int ph = l / gw;
            int pw = l - ph * gw;
            int ch;
            int i;
            int j;
            if (p.get(5) == 1) {
                // (i, j, c) order
                ch = f % c;
                j = (f / c) % ps;
                i = f / (c * ps);
            } else {
                // (c, i, j) order
                j = f % ps;
                i = (f / ps) % ps;
                ch = f / (ps * ps);
            }
            out.set(o, imgs.get(((b * c + ch) * h + ph * ps + i) * w + pw * ps + j));
        }
    }

    // ------------------------------------------------------------------ optimizer

    /**
     * torch.optim.AdamW, one tensor: w *= 1 - lr * wd; m, v moments; w -= stepSize * m / (sqrt(v) / bc2Sqrt + eps).
     * h = {decay, beta1, beta2, stepSize, bc2Sqrt, eps}, computed on the host per step (a few floats move).
     */
    public static void adamw(FloatArray w, FloatArray g, FloatArray m, FloatArray v, FloatArray h, int n) {
        for (@Parallel int i = 0; i < n; i++) {
            float decay = h.get(0);
            float beta1 = h.get(1);
            float beta2 = h.get(2);
            float gi = g.get(i);
            float wi = w.get(i) * decay;
            float mi = beta1 * m.get(i) + (1f - beta1) * gi;
            float vi = beta2 * v.get(i) + (1f - beta2) * gi * gi;
            m.set(i, mi);
            v.set(i, vi);
            w.set(i, wi - h.get(3) * mi / (TornadoMath.sqrt(vi) / h.get(4) + h.get(5)));
        }
    }
}
