package org.maejvm.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.maejvm.ops.Backend;
import org.maejvm.train.EpochSource;
import org.maejvm.train.PretrainConfig;
import org.maejvm.train.Pretrainer;
import org.maejvm.train.TrainingEvent;
import org.maejvm.train.TrainingListener;

/**
 * The Java face of pretraining: blocking calls and a listener, no coroutine types. {@link #run} trains on the
 * calling thread; {@link #start} trains on a background thread and returns a {@link Run} that can be stopped (the
 * loop saves a checkpoint first) and awaited.
 */
public final class Pretraining {
    private Pretraining() {}

    /** Trains to the end on this thread; {@code resume} may be null. */
    public static TrainingEvent.Finished run(PretrainConfig config, EpochSource data, Backend backend, Path resume,
                                             TrainingListener listener) throws IOException {
        Pretrainer trainer = new Pretrainer(config, data, backend).listener(listener);
        if (resume != null) trainer.resume(resume);
        return trainer.run();
    }

    /** Starts training on a new thread named "mae-pretrain". */
    public static Run start(PretrainConfig config, EpochSource data, Backend backend, Path resume,
                            TrainingListener listener) {
        AtomicBoolean stop = new AtomicBoolean();
        Pretrainer trainer = new Pretrainer(config, data, backend).listener(listener).stopWhen(stop::get);
        CompletableFuture<TrainingEvent.Finished> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                if (resume != null) trainer.resume(resume);
                done.complete(trainer.run());
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "mae-pretrain");
        t.start();
        return new Run(stop, done);
    }

    /** A run in the background. */
    public static final class Run {
        private final AtomicBoolean stop;
        private final CompletableFuture<TrainingEvent.Finished> done;

        private Run(AtomicBoolean stop, CompletableFuture<TrainingEvent.Finished> done) {
            this.stop = stop;
            this.done = done;
        }

        /** Asks the loop to stop at its next checkpoint point; it saves a checkpoint there. Returns at once. */
        public void requestStop() { stop.set(true); }

        public boolean isDone() { return done.isDone(); }

        /** Waits for the end of the run and returns its summary, or throws what stopped it. */
        public TrainingEvent.Finished await() throws IOException, InterruptedException {
            try {
                return done.get();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof IOException io) throw io;
                if (c instanceof UncheckedIOException u) throw u.getCause();
                if (c instanceof RuntimeException r) throw r;
                if (c instanceof Error err) throw err;
                throw new IllegalStateException(c);
            }
        }

        /** Requests a stop and waits for the checkpoint and the end of the run. */
        public TrainingEvent.Finished stopAndAwait() throws IOException, InterruptedException {
            requestStop();
            return await();
        }
    }
}
