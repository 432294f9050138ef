package org.maejvm.simd;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small fixed pool for data-parallel loops: {@link #parallelFor} hands task indices to the workers and the
 * calling thread alike, and returns once all are done. One job runs at a time (concurrent callers take turns);
 * a parallelFor called from inside a task runs inline on that thread.
 *
 * <p>Workers spin for up to {@link #SPIN_NANOS} after a job before they park, and the caller spins as long for the
 * last task, so the back-to-back loops of a training step (a GEMM alone issues a dozen) start without a wake-up
 * each; an idle pool parks after that and costs nothing. The window is long because a wake-up is slow where it
 * matters: a parked thread's core goes idle, and on a virtual machine an idle virtual CPU is descheduled by the
 * host, so waking it took 50 us to several ms here (2 vCPUs: 30 % of a GEMM's loops started over 20 us late,
 * and a 544 x 1536 x 384 product ran at 75 GFLOP/s on two threads against 80 on one; with the 1 ms window, ~155).
 */
public final class ThreadPool implements AutoCloseable {
    /** How long an idle worker polls for the next job, and a caller for its last task, before parking. */
    static final long SPIN_NANOS = 1_000_000;

    private final int threads;
    private final Thread[] workers;
    private volatile Job current;
    private volatile boolean closed;
    private final ThreadLocal<Boolean> insideJob = ThreadLocal.withInitial(() -> false);

    public ThreadPool(int threads) {
        if (threads < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + threads);
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(this::workLoop, "mae-simd-" + (i + 1));
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    public int threads() { return threads; }

    /**
     * Runs body.accept(i) exactly once for every i in [0, tasks), spread over all threads. If a task throws, the
     * remaining tasks are skipped and the first failure is rethrown here (checked ones wrapped).
     */
    public void parallelFor(int tasks, IntConsumer body) {
        if (closed) throw new IllegalStateException("thread pool is closed");
        if (tasks <= 0) return;
        if (tasks == 1 || threads == 1 || insideJob.get()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        Job job = new Job(tasks, body, Thread.currentThread());
        synchronized (this) {
            if (closed) throw new IllegalStateException("thread pool is closed");
            current = job;
            for (Thread w : workers) LockSupport.unpark(w);
            insideJob.set(true);
            try {
                job.runTasks();
                job.awaitDone();
            } finally {
                insideJob.set(false);
                current = null;
            }
        }
        job.rethrow();
    }

    private void workLoop() {
        insideJob.set(true);
        Job last = null;
        long idleSince = System.nanoTime();
        while (!closed) {
            Job job = current;
            if (job != null && job != last) {
                last = job;
                job.runTasks();
                idleSince = System.nanoTime();
            } else if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
            } else {
                // A job published after the read above has already unparked us, so this returns at once.
                LockSupport.park(this);
                idleSince = System.nanoTime();
            }
        }
    }

    /** Stops the workers once they finish what they are running; later parallelFor calls throw. */
    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }

    private static final class Job {
        private static final AtomicIntegerFieldUpdater<Job> NEXT = AtomicIntegerFieldUpdater.newUpdater(Job.class, "next");
        private static final AtomicIntegerFieldUpdater<Job> DONE = AtomicIntegerFieldUpdater.newUpdater(Job.class, "done");

        final int tasks;
        final IntConsumer body;
        final Thread owner;
        volatile int next;
        volatile int done;
        volatile Throwable failure;

        Job(int tasks, IntConsumer body, Thread owner) {
            this.tasks = tasks;
            this.body = body;
            this.owner = owner;
        }

        void runTasks() {
            int i;
            while ((i = NEXT.getAndIncrement(this)) < tasks) {
                try {
                    if (failure == null) body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    if (DONE.incrementAndGet(this) == tasks) LockSupport.unpark(owner);
                }
            }
        }

        /** Spins up to {@link #SPIN_NANOS} (tasks are usually about equal), then parks until the last task unparks the owner. */
        void awaitDone() {
            long start = System.nanoTime();
            while (done < tasks) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
        }

        void rethrow() {
            Throwable t = failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        }
    }
}
