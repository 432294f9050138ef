package org.maejvm.dist;

import java.util.Arrays;
import java.util.List;
import org.maejvm.nn.Parameter;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;
import org.maejvm.train.GradientSync;

/**
 * Collective operations among {@link #worldSize()} ranks, each holding one {@code Communicator}: the
 * {@link GradientSync} seam of the training loop, over flat {@code float[]} buffers. Every rank must call the same
 * collectives in the same order with buffers of the same length; a call returns on a rank once that rank's part
 * is done, so the calls are also synchronisation points.
 *
 * <p>All ranks end a collective with bit-identical buffers (the reduction of each element is done once and then
 * copied), so replicas that step the same optimizer on the same averaged gradients stay identical.
 *
 * <p>A failure (a peer gone, a timeout, mismatched calls) throws {@link CommunicatorException} naming the peer and
 * breaks the communicator. Implementations: {@link LocalCommunicator} (threads of one process) and
 * {@link TcpCommunicator} (ring over TCP between processes or machines).
 */
public abstract class Communicator implements GradientSync, AutoCloseable {
    private float[] flat = new float[0];

    @Override
    public abstract int rank();

    @Override
    public abstract int worldSize();

    /** Combines {@code buf[offset, offset + length)} of every rank with {@code op}; every rank gets the result. */
    public abstract void allReduce(float[] buf, int offset, int length, ReduceOp op);

    /** Copies {@code buf[offset, offset + length)} of rank {@code root} into the same range of every rank. */
    public abstract void broadcast(float[] buf, int offset, int length, int root);

    /** Returns once every rank has called it. */
    @Override
    public abstract void barrier();

    /** Releases sockets and threads; a peer still waiting on this rank then fails with a message naming it. */
    @Override
    public abstract void close();

    public final void allReduce(float[] buf, ReduceOp op) {
        allReduce(buf, 0, buf.length, op);
    }

    public final void broadcast(float[] buf, int root) {
        broadcast(buf, 0, buf.length, root);
    }

    /** True on every rank if {@code local} is true on any rank (e.g. a stop request seen by one rank only). */
    @Override
    public boolean anyRank(boolean local) {
        float[] flag = {local ? 1f : 0f};
        allReduce(flag, ReduceOp.SUM);
        return flag[0] > 0;
    }

    // ------------------------------------------------------------------ GradientSync over parameter sets

    /** Averages the trainable gradients through one all-reduce of a flat buffer (parameter order is the same everywhere). */
    @Override
    public void allReduceMean(ParameterSet params) {
        if (worldSize() == 1) return;
        List<Parameter> ps = params.trainable();
        float[] buf = flatten(params.backend(), ps, true);
        allReduce(buf, 0, buf.length, ReduceOp.AVERAGE);
        unflatten(params.backend(), ps, true, buf);
    }

    /** Rank 0's values of every parameter (trainable or not), through one broadcast. */
    @Override
    public void broadcast(ParameterSet params) {
        if (worldSize() == 1) return;
        List<Parameter> ps = params.all();
        float[] buf = flatten(params.backend(), ps, false);
        broadcast(buf, 0, buf.length, 0);
        unflatten(params.backend(), ps, false, buf);
    }

    /** The gradients (or values) of {@code ps} laid end to end in a buffer reused across steps. */
    private float[] flatten(Backend backend, List<Parameter> ps, boolean grads) {
        long total = 0;
        for (Parameter p : ps) total += tensorOf(p, grads).size();
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(total + " floats do not fit one flat buffer");
        }
        if (flat.length != total) flat = new float[(int) total];
        int off = 0;
        for (Parameter p : ps) {
            float[] host = backend.toHost(tensorOf(p, grads));
            System.arraycopy(host, 0, flat, off, host.length);
            off += host.length;
        }
        return flat;
    }

    private static void unflatten(Backend backend, List<Parameter> ps, boolean grads, float[] buf) {
        int off = 0;
        for (Parameter p : ps) {
            Tensor t = tensorOf(p, grads);
            backend.upload(Arrays.copyOfRange(buf, off, off + t.size()), t);
            off += t.size();
        }
    }

    private static Tensor tensorOf(Parameter p, boolean grad) {
        return grad ? p.grad() : p.value();
    }

    /** Checks a buffer range and a root rank, naming the collective. */
    protected final void checkRange(String op, float[] buf, int offset, int length) {
        if (buf == null) throw new IllegalArgumentException(op + ": buffer is null");
        if (offset < 0 || length < 0 || offset > buf.length - length) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + length
                    + ") is outside a buffer of " + buf.length + " floats");
        }
    }

    protected final void checkRoot(String op, int root) {
        if (root < 0 || root >= worldSize()) {
            throw new IllegalArgumentException(op + ": root must be a rank in [0, " + worldSize() + "), got " + root);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[rank " + rank() + " of " + worldSize() + "]";
    }
}
