package uk.ac.manchester.tornado.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * One work-group of the emulation: its local memory and its barrier. The barrier also catches what a device
 * would silently get wrong: a work-item that returns while others wait at a barrier (divergent barrier), and
 * local allocations whose sizes differ between work-items.
 */
final class EmulatedGroup {
    private final int size;
    private final String task;
    private final List<Object> locals = new ArrayList<>();
    private final List<Integer> localSizes = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private int waiting;
    private int exited;
    private long generation;
    private RuntimeException failure;

    EmulatedGroup(int size, String task) {
        this.size = size;
        this.task = task;
    }

    Object local(int index, int length, Supplier<Object> make) {
        lock.lock();
        try {
            if (index < locals.size()) {
                if (localSizes.get(index) != length) {
                    throw new IllegalStateException(task + ": local allocation " + index + " has size " + length
                            + " in one work-item and " + localSizes.get(index) + " in another");
                }
                return locals.get(index);
            }
            Object array = make.get();
            locals.add(array);
            localSizes.add(length);
            return array;
        } finally {
            lock.unlock();
        }
    }

    void await() {
        if (size == 1) return;
        lock.lock();
        try {
            checkFailure();
            if (exited > 0) fail(task + ": a work-item reached a barrier after another returned (divergent barrier)");
            long gen = generation;
            if (++waiting == size) {
                waiting = 0;
                generation++;
                released.signalAll();
                return;
            }
            while (gen == generation) {
                checkFailure();
                released.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Called when a work-item's kernel call returns or throws. */
    void exit(Throwable error) {
        lock.lock();
        try {
            exited++;
            if (error != null && failure == null) {
                failure = new GroupAborted(error);
                released.signalAll();
            } else if (waiting > 0 && failure == null) {
                fail(task + ": a work-item returned while " + waiting + " others wait at a barrier (divergent barrier)");
            }
        } finally {
            lock.unlock();
        }
    }

    private void fail(String message) {
        if (failure == null) failure = new IllegalStateException(message);
        released.signalAll();
        throw failure;
    }

    private void checkFailure() {
        if (failure != null) throw failure;
    }

    RuntimeException failure() { return failure; }

    /** Carries a work-item's exception to the others, which stop at their next barrier. */
    static final class GroupAborted extends RuntimeException {
        GroupAborted(Throwable cause) { super(cause.toString(), cause, false, false); }
    }
}
