package org.maejvm.simd;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A small fixed pool for data-parallel loops: {@link #parallelFor} hands task indices to the workers and the
 * calling thread alike, and returns once all are done. One job runs at a time; nested calls run inline.
 */
public final class ThreadPool implements AutoCloseable {
    private final int threads;
    private final Thread[] workers;
    private final AtomicReference<Job> current = new AtomicReference<>();
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

    /** Runs body.accept(i) for every i in [0, tasks), spread over all threads. */
    public void parallelFor(int tasks, IntConsumer body) {
        if (tasks <= 0) return;
        if (tasks == 1 || threads == 1 || insideJob.get()) {
            for (int i = 0; i < tasks; i++) body.accept(i);
            return;
        }
        Job job = new Job(tasks, body, Thread.currentThread());
        synchronized (this) {
            if (closed) throw new IllegalStateException("thread pool is closed");
            current.set(job);
            for (Thread w : workers) LockSupport.unpark(w);
            insideJob.set(true);
            try {
                job.runTasks();
                job.awaitDone();
            } finally {
                insideJob.set(false);
                current.set(null);
            }
        }
        job.rethrow();
    }

    private void workLoop() {
        insideJob.set(true);
        Job last = null;
        while (!closed) {
            Job job = current.get();
            if (job == null || job == last) {
                LockSupport.park(this);
                continue;
            }
            last = job;
            job.runTasks();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }

    private static final class Job {
        final int tasks;
        final IntConsumer body;
        final Thread owner;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(int tasks, IntConsumer body, Thread owner) {
            this.tasks = tasks;
            this.body = body;
            this.owner = owner;
        }

        void runTasks() {
            int i;
            while ((i = next.getAndIncrement()) < tasks) {
                try {
                    if (failure == null) body.accept(i);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    if (done.incrementAndGet() == tasks) LockSupport.unpark(owner);
                }
            }
        }

        void awaitDone() {
            int spins = 0;
            while (done.get() < tasks) {
                if (++spins < 1000) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 50_000);
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
