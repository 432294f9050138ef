package org.maejvm.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * Scratch tensors shared by the layers of one model: the buffers a layer needs only inside one call (the gradient
 * of a sub-layer's input during backward, the output of a residual branch before it is added). A layer
 * {@link #borrow borrows} them and {@link #release releases} them before its call returns, so one set of buffers
 * serves every layer in turn, as PyTorch frees an activation's gradient once the layer below has consumed it.
 * What a layer's backward needs from its forward stays in the layer's own buffers.
 *
 * <p>Allocation happens on the first step only: a borrow takes the free buffer of that shape with the lowest
 * index, and allocates only when every buffer of the shape is lent. Because loans never outlive the call that
 * took them, every step starts with all buffers free and repeats the first step's choices exactly, buffer for
 * buffer (a GPU backend that caches kernel plans by buffer identity sees the same buffers each step).
 *
 * <p>A borrowed tensor holds whatever its last user wrote: borrowers overwrite it. When the batch size changes,
 * free buffers of the old size with the same trailing shape are freed on the first miss, so alternating batch
 * sizes (an epoch's last, smaller batch) cost reallocation, not a second resident set. Not thread-safe: a model
 * runs its layers on one thread (the backend parallelises inside each op).
 */
public final class Workspace {
    private final Backend backend;
    private final List<Slot> slots = new ArrayList<>();
    private long bytes, peakBytes;
    private int lent;

    private static final class Slot {
        final Tensor tensor;
        final int[] shape;
        boolean lent;

        Slot(Tensor tensor, int[] shape) {
            this.tensor = tensor;
            this.shape = shape;
        }
    }

    public Workspace(Backend backend) {
        this.backend = backend;
    }

    /** A float32 tensor of this shape, with unspecified contents, lent until {@link #release}. */
    public Tensor borrow(int... shape) {
        for (Slot s : slots) {
            if (!s.lent && Arrays.equals(s.shape, shape)) return lend(s);
        }
        dropOtherBatchSizes(shape);
        Slot s = new Slot(backend.zeros(shape), shape.clone());
        slots.add(s);
        bytes += 4L * s.tensor.size();
        peakBytes = Math.max(peakBytes, bytes);
        return lend(s);
    }

    /** Gives back a tensor this workspace lent; the caller must not use it again. */
    public void release(Tensor t) {
        for (Slot s : slots) {
            if (s.tensor == t) {
                if (!s.lent) throw new IllegalStateException("workspace tensor " + t + " released twice");
                s.lent = false;
                lent--;
                return;
            }
        }
        throw new IllegalArgumentException("tensor " + t + " was not lent by this workspace");
    }

    /**
     * Takes back every loan. A model calls it when a step starts, where no loan can be outstanding: a step that
     * threw half-way (a bad batch, a non-finite check, an interrupt inside a layer) never returned its loans,
     * and without this the next step would allocate a second set of buffers beside them.
     */
    public void releaseAll() {
        for (Slot s : slots) s.lent = false;
        lent = 0;
    }

    /** Bytes of the buffers this workspace holds now (lent or free). */
    public long bytes() { return bytes; }

    /** The most bytes it ever held at once. */
    public long peakBytes() { return peakBytes; }

    /** Number of buffers lent and not yet released (0 between steps). */
    public int lentCount() { return lent; }

    /** Number of buffers held, lent or free. */
    public int bufferCount() { return slots.size(); }

    private Tensor lend(Slot s) {
        s.lent = true;
        lent++;
        return s.tensor;
    }

    /** Frees the free buffers whose shape differs from {@code shape} in the leading (batch) dimension only. */
    private void dropOtherBatchSizes(int[] shape) {
        slots.removeIf(s -> {
            if (s.lent || !sameTrailingShape(s.shape, shape)) return false;
            backend.free(s.tensor);
            bytes -= 4L * s.tensor.size();
            return true;
        });
    }

    private static boolean sameTrailingShape(int[] a, int[] b) {
        if (a.length != b.length || a.length == 0 || a[0] == b[0]) return false;
        for (int i = 1; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
