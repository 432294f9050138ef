package org.maejvm.ops;

import static org.maejvm.tensor.HostTensor.floats;
import static org.maejvm.tensor.HostTensor.ints;

import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Tensor;

/**
 * Storage shared by the CPU backends: tensors are {@link HostTensor}s in JVM heap arrays, so the reference
 * and SIMD backends read each other's tensors without copies (which the backend tests rely on).
 */
public abstract class HostBackend extends Backend {

    @Override
    public Tensor zeros(int... shape) { return HostTensor.zeros(shape); }

    @Override
    public Tensor zerosInt(int... shape) { return HostTensor.zerosInt(shape); }

    @Override
    protected void uploadKernel(float[] src, Tensor dst) { System.arraycopy(src, 0, floats(dst), 0, src.length); }

    @Override
    protected void uploadKernel(int[] src, Tensor dst) { System.arraycopy(src, 0, ints(dst), 0, src.length); }

    @Override
    protected void downloadKernel(Tensor src, float[] dst) { System.arraycopy(floats(src), 0, dst, 0, dst.length); }

    @Override
    protected void downloadKernel(Tensor src, int[] dst) { System.arraycopy(ints(src), 0, dst, 0, dst.length); }

    @Override
    protected void fillKernel(Tensor x, float value) { java.util.Arrays.fill(floats(x), value); }

    @Override
    protected void copyKernel(Tensor src, int srcOff, Tensor dst, int dstOff, int count) {
        System.arraycopy(floats(src), srcOff, floats(dst), dstOff, count);
    }

    @Override
    protected void copyRowsKernel(int rows, int cols, RowView src, RowView dst) {
        float[] s = floats(src.tensor()), d = floats(dst.tensor());
        for (int r = 0; r < rows; r++) {
            System.arraycopy(s, src.offset() + r * src.stride(), d, dst.offset() + r * dst.stride(), cols);
        }
    }

    @Override
    protected void scaleColumnsKernel(Tensor x, Tensor gamma, Tensor out) {
        float[] xs = floats(x), g = floats(gamma), o = floats(out);
        int n = g.length;
        for (int base = 0; base < xs.length; base += n) {
            for (int j = 0; j < n; j++) o[base + j] = xs[base + j] * g[j];
        }
    }

    @Override
    protected void scaleColumnsBackwardKernel(Tensor dy, Tensor x, Tensor gamma, Tensor dx, Tensor dgamma) {
        float[] d = floats(dy), xs = floats(x), g = floats(gamma), o = floats(dx);
        int n = g.length;
        if (dgamma != null) {
            float[] dg = floats(dgamma);
            double[] acc = new double[n];
            for (int base = 0; base < d.length; base += n) {
                for (int j = 0; j < n; j++) acc[j] += (double) d[base + j] * xs[base + j];
            }
            for (int j = 0; j < n; j++) dg[j] += (float) acc[j];
        }
        for (int base = 0; base < d.length; base += n) {
            for (int j = 0; j < n; j++) o[base + j] = d[base + j] * g[j];
        }
    }
}
