package org.maejvm.simd;

import static org.maejvm.simd.GemmKernel.MR;
import static org.maejvm.simd.GemmKernel.NR;

import java.util.function.IntConsumer;

/**
 * Row-major sgemm on the Vector API, blocked as in Goto and van de Geijn, "Anatomy of high-performance matrix
 * multiplication" (2008), with the roles of the operands chosen for row-major C.
 *
 * <p>C is computed in NC-wide column blocks. For each KC-deep slice of the product, a KC x NC block of op(B) is
 * packed once into NR-wide micro-panels (shared by all threads; 384 KiB, it stays in each core's L2). Then every
 * thread takes row blocks of C: it packs MR rows of op(A) at a time (a KC x MR micro-panel, it stays in L1) and
 * sweeps the register-blocked {@link GemmKernel} along the row, one B micro-panel after the other. Walking along
 * rows makes the C tiles of consecutive kernel calls adjacent in memory, so the hardware prefetcher streams C in;
 * walking down columns instead (the textbook order for column-major C) left each C update waiting on a cache miss,
 * which measured at half speed here, as Java has no prefetch instruction.
 *
 * <p>Work split: the row blocks (and, when there are too few rows, NR-aligned column chunks) are the tasks of one
 * {@link ThreadPool#parallelFor}; a batch of independent products is split over the batch instead. Packing buffers
 * live in per-thread workspaces that grow to the largest block seen, so steady-state calls do not allocate.
 */
public final class SimdGemm {
    private SimdGemm() {}

    /**
     * Deepest packed slice. Deeper slices mean fewer passes over C (each pass loads and stores every C tile once);
     * the A micro-panel (KC x MR, 8 KiB) still stays in L1 while a row of tiles is swept. The depth is split into
     * equal slices of at most KC, so k = 768 runs as 2 x 384 rather than 512 + 256.
     */
    static final int KC = Integer.getInteger("gemm.kc", 512);
    /** Floats of a packed B block (KC x NC): 384 KiB, so it stays in a 512 KiB L2 next to the A panel and C. */
    static final int B_BLOCK_FLOATS = Integer.getInteger("gemm.bblock", 96 * 1024);
    /** At most this many rows per task; smaller blocks balance threads better, larger ones amortise the task. */
    static final int MC = Integer.getInteger("gemm.mc", 192);
    /** Below this many multiply-adds per product a batch is split over the batch, whatever its size. */
    private static final long SMALL_PRODUCT = 1L << 20;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /** Same contract as {@code Backend.gemmBatched}; arguments are already checked. */
    public static void gemm(ThreadPool pool, boolean transA, boolean transB, int m, int n, int k, float alpha,
                            float[] a, int offA, int lda, int strideA, float[] b, int offB, int ldb, int strideB,
                            float beta, float[] c, int offC, int ldc, int strideC, int batch) {
        if (m == 0 || n == 0 || batch == 0) return;
        if (k == 0 || alpha == 0f) {
            // The product is zero: C = beta * C (BLAS semantics, A and B are not read).
            for (int p = 0; p < batch; p++) scaleC(m, n, beta, c, offC + p * strideC, ldc);
            return;
        }
        Workspace ws = WORKSPACE.get();
        Driver driver = ws.caller;
        driver.set(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c, offC, ldc,
                strideC, batch);
        try {
            if (splitOverBatch(pool.threads(), m, n, k, ldc, strideC, batch)) {
                driver.mode = Driver.BATCH;
                pool.parallelFor(batch, driver);
            } else {
                for (int p = 0; p < batch; p++) driver.runOne(p, pool);
            }
        } finally {
            driver.release();
        }
    }

    /**
     * Whole products go to threads when there are enough of them to share out evenly (or they are too small to
     * split well) and their C matrices do not overlap (a C stride of 0 accumulates in order, so it stays serial).
     */
    private static boolean splitOverBatch(int threads, int m, int n, int k, int ldc, int strideC, int batch) {
        if (threads == 1 || batch < threads) return false;
        if (strideC < (long) (m - 1) * ldc + n) return false;
        long madds = (long) m * n * k;
        return madds < SMALL_PRODUCT || batch % threads == 0 || batch >= 4 * threads;
    }

    private static void scaleC(int m, int n, float beta, float[] c, int oc, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = oc + i * ldc;
            for (int j = 0; j < n; j++) c[row + j] = beta == 0f ? 0f : beta * c[row + j];
        }
    }

    /** Per-thread packing buffers, grown on demand and kept. */
    private static final class Workspace {
        float[] packA = new float[0];
        float[] packB = new float[0];
        final float[] scratch = new float[MR * NR];
        /** Runs products started on this thread. */
        final Driver caller = new Driver();
        /** Runs whole products handed to this thread by a batch split (never the caller's driver, which is busy). */
        final Driver batchItem = new Driver();

        float[] packA(int size) {
            if (packA.length < size) packA = new float[size];
            return packA;
        }

        float[] packB(int size) {
            if (packB.length < size) packB = new float[size];
            return packB;
        }
    }

    /**
     * One product (or batch of products) in flight: the blocking loops, and the task body handed to the pool.
     * Reused across calls so a call allocates nothing.
     */
    private static final class Driver implements IntConsumer {
        static final int BATCH = 0, PACK_A = 1, PACK_B = 2, COMPUTE = 3;

        // The problem.
        boolean transA, transB;
        int m, n, k, offA, lda, strideA, offB, ldb, strideB, offC, ldc, strideC, batch;
        float alpha, beta;
        float[] a, b, c;

        // The current step of the blocking loops, read by the tasks.
        int mode;
        int oa, ob, oc;
        int jc, nc, pc, kc;
        float stepBeta;
        float[] packedA, packedB;
        int mBlocks, rowsPerBlock, nChunks, panelsPerChunk, packTasks, panelsPerPackTask;

        void set(boolean transA, boolean transB, int m, int n, int k, float alpha,
                 float[] a, int offA, int lda, int strideA, float[] b, int offB, int ldb, int strideB,
                 float beta, float[] c, int offC, int ldc, int strideC, int batch) {
            this.transA = transA;
            this.transB = transB;
            this.m = m;
            this.n = n;
            this.k = k;
            this.alpha = alpha;
            this.a = a;
            this.offA = offA;
            this.lda = lda;
            this.strideA = strideA;
            this.b = b;
            this.offB = offB;
            this.ldb = ldb;
            this.strideB = strideB;
            this.beta = beta;
            this.c = c;
            this.offC = offC;
            this.ldc = ldc;
            this.strideC = strideC;
            this.batch = batch;
        }

        /** Drops the array references so a finished call does not keep the caller's tensors alive. */
        void release() {
            a = b = c = null;
            packedA = packedB = null;
        }

        @Override
        public void accept(int task) {
            switch (mode) {
                case BATCH -> {
                    Driver item = WORKSPACE.get().batchItem;
                    item.set(transA, transB, m, n, k, alpha, a, offA, lda, strideA, b, offB, ldb, strideB, beta, c,
                            offC, ldc, strideC, batch);
                    try {
                        item.runOne(task, null);
                    } finally {
                        item.release();
                    }
                }
                case PACK_A -> packATask(task);
                case PACK_B -> packBTask(task);
                default -> computeTask(task);
            }
        }

        /** Product p of the batch, split over the pool's threads (or serial when pool is null). */
        void runOne(int p, ThreadPool pool) {
            oa = offA + p * strideA;
            ob = offB + p * strideB;
            oc = offC + p * strideC;
            int threads = pool == null ? 1 : pool.threads();
            planRows(threads);
            Workspace ws = WORKSPACE.get();
            int panelsM = (m + MR - 1) / MR;
            int slices = (k + KC - 1) / KC;
            int depth = (k + slices - 1) / slices;
            // As many B micro-panels as fit the B block at this depth, at least one.
            int blockCols = Math.max(1, B_BLOCK_FLOATS / (depth * NR)) * NR;
            for (pc = 0; pc < k; pc += depth) {
                kc = Math.min(depth, k - pc);
                // Later slices accumulate onto the partial sums already in C.
                stepBeta = pc == 0 ? beta : 1f;
                packedA = ws.packA(panelsM * MR * kc);
                run(pool, PACK_A, mBlocks);
                for (jc = 0; jc < n; jc += blockCols) {
                    nc = Math.min(blockCols, n - jc);
                    int panelsN = (nc + NR - 1) / NR;
                    planColumns(threads, panelsN);
                    packedB = ws.packB(panelsN * NR * kc);
                    packTasks = Math.min(threads, panelsN);
                    panelsPerPackTask = (panelsN + packTasks - 1) / packTasks;
                    run(pool, PACK_B, packTasks);
                    run(pool, COMPUTE, mBlocks * nChunks);
                }
            }
        }

        private void run(ThreadPool pool, int mode, int tasks) {
            this.mode = mode;
            if (pool == null) {
                for (int t = 0; t < tasks; t++) accept(t);
            } else {
                pool.parallelFor(tasks, this);
            }
        }

        /** Row blocks of at most MC rows, as many as a multiple of the thread count when rows allow. */
        private void planRows(int threads) {
            int panelsM = (m + MR - 1) / MR;
            int blocks = (m + MC - 1) / MC;
            if (threads > 1) blocks = Math.min(panelsM, (blocks + threads - 1) / threads * threads);
            int panelsPerBlock = (panelsM + blocks - 1) / blocks;
            rowsPerBlock = panelsPerBlock * MR;
            mBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
        }

        /** With fewer row blocks than threads, the columns are split too so every thread has work. */
        private void planColumns(int threads, int panelsN) {
            nChunks = mBlocks >= threads ? 1 : Math.min(panelsN, (threads + mBlocks - 1) / mBlocks);
            panelsPerChunk = (panelsN + nChunks - 1) / nChunks;
            nChunks = (panelsN + panelsPerChunk - 1) / panelsPerChunk;
        }

        private void packBTask(int t) {
            int panelsN = (nc + NR - 1) / NR;
            int q0 = t * panelsPerPackTask, q1 = Math.min(panelsN, q0 + panelsPerPackTask);
            GemmPacking.packB(transB, b, ob, ldb, jc, nc, pc, kc, q0, q1, packedB);
        }

        /** Packs the op(A) slice of one row block; blocks start on panel boundaries. */
        private void packATask(int block) {
            int i0 = block * rowsPerBlock, rows = Math.min(rowsPerBlock, m - i0);
            GemmPacking.packA(transA, a, oa, lda, i0, rows, pc, kc, alpha, packedA, i0 / MR * kc * MR);
        }

        /** Multiplies one row block of the packed A slice with one column chunk of the packed B block. */
        private void computeTask(int t) {
            int block = t / nChunks, chunk = t % nChunks;
            int i0 = block * rowsPerBlock, rows = Math.min(rowsPerBlock, m - i0);
            int panelsN = (nc + NR - 1) / NR;
            int q0 = chunk * panelsPerChunk, q1 = Math.min(panelsN, q0 + panelsPerChunk);
            float[] ap = packedA, bp = packedB, cc = c, scratch = WORKSPACE.get().scratch;
            int kcl = kc, ldcl = ldc;
            float bt = stepBeta;
            for (int i = 0; i < rows; i += MR) {
                int mr = Math.min(MR, rows - i);
                int aOff = (i0 + i) / MR * kcl * MR;
                int cRow = oc + (i0 + i) * ldcl + jc;
                for (int q = q0; q < q1; q++) {
                    int col = q * NR, nr = Math.min(NR, nc - col);
                    int bOff = q * kcl * NR;
                    if (mr == MR && nr == NR) {
                        GemmKernel.tile(kcl, ap, aOff, bp, bOff, cc, cRow + col, ldcl, bt);
                    } else {
                        GemmKernel.edgeTile(kcl, ap, aOff, bp, bOff, scratch, cc, cRow + col, ldcl, mr, nr, bt);
                    }
                }
            }
        }
    }
}
