package org.maejvm.dist;

/** How {@link Communicator#allReduce} combines the ranks' buffers. */
public enum ReduceOp {
    /** Element-wise sum over all ranks. */
    SUM,
    /** Element-wise sum divided by the world size (gradient averaging). */
    AVERAGE
}
