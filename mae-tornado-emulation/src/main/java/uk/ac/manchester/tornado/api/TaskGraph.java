package uk.ac.manchester.tornado.api;

import java.util.ArrayList;
import java.util.List;
import uk.ac.manchester.tornado.api.common.TornadoFunctions;

/**
 * Emulation of TornadoVM's task graph: named tasks (kernel method references with their arguments) and the
 * transfers around them. Host and "device" share one memory here, so transfers only need to be declared; the
 * emulation counts what they would move (see {@link TornadoExecutionPlan#emulatedBytesMoved()}).
 */
public class TaskGraph {
    record Task(String id, EmulatedLauncher.Invoker invoker, Object[] args) {}

    record Transfer(int mode, Object[] objects) {}

    private final String name;
    final List<Task> tasks = new ArrayList<>();
    final List<Transfer> toDevice = new ArrayList<>();
    final List<Transfer> toHost = new ArrayList<>();

    public TaskGraph(String name) {
        if (name == null || name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("task graph name must be non-empty and without '.', got '" + name + "'");
        }
        this.name = name;
    }

    public String getTaskGraphName() { return name; }

    public TaskGraph transferToDevice(final int mode, Object... objects) {
        toDevice.add(new Transfer(mode, objects.clone()));
        return this;
    }

    public TaskGraph transferToHost(final int mode, Object... objects) {
        toHost.add(new Transfer(mode, objects.clone()));
        return this;
    }

    // No persistOnDevice / consumeFromDevice: TornadoVM 5.2 hands a persisted device buffer only to the next
    // graph of the same execution plan, which one shared memory cannot emulate; code that relied on them passed
    // here and failed on the real runtime (a null device buffer), so they are left out to fail at compile time.

    public ImmutableTaskGraph snapshot() { return new ImmutableTaskGraph(this); }

    private TaskGraph add(String id, EmulatedLauncher.Invoker invoker, Object[] args) {
        for (Task t : tasks) {
            if (t.id().equals(id)) throw new IllegalArgumentException("task graph " + name + " already has a task '" + id + "'");
        }
        tasks.add(new Task(id, invoker, args));
        return this;
    }

    @SuppressWarnings("unchecked")
    public <T1> TaskGraph task(String id, TornadoFunctions.Task1<T1> code, T1 arg1) {
        return add(id, a -> code.apply((T1) a[0]), new Object[] {arg1});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2> TaskGraph task(String id, TornadoFunctions.Task2<T1, T2> code, T1 arg1, T2 arg2) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1]), new Object[] {arg1, arg2});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3> TaskGraph task(String id, TornadoFunctions.Task3<T1, T2, T3> code, T1 arg1, T2 arg2, T3 arg3) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2]), new Object[] {arg1, arg2, arg3});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4> TaskGraph task(String id, TornadoFunctions.Task4<T1, T2, T3, T4> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3]), new Object[] {arg1, arg2, arg3, arg4});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5> TaskGraph task(String id, TornadoFunctions.Task5<T1, T2, T3, T4, T5> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4]), new Object[] {arg1, arg2, arg3, arg4, arg5});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6> TaskGraph task(String id, TornadoFunctions.Task6<T1, T2, T3, T4, T5, T6> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7> TaskGraph task(String id, TornadoFunctions.Task7<T1, T2, T3, T4, T5, T6, T7> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8> TaskGraph task(String id, TornadoFunctions.Task8<T1, T2, T3, T4, T5, T6, T7, T8> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9> TaskGraph task(String id, TornadoFunctions.Task9<T1, T2, T3, T4, T5, T6, T7, T8, T9> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> TaskGraph task(String id, TornadoFunctions.Task10<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> TaskGraph task(String id, TornadoFunctions.Task11<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> TaskGraph task(String id, TornadoFunctions.Task12<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> TaskGraph task(String id, TornadoFunctions.Task13<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> TaskGraph task(String id, TornadoFunctions.Task14<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13, T14 arg14) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12], (T14) a[13]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13, arg14});
    }

    @SuppressWarnings("unchecked")
    public <T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> TaskGraph task(String id, TornadoFunctions.Task15<T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12, T13, T14, T15> code, T1 arg1, T2 arg2, T3 arg3, T4 arg4, T5 arg5, T6 arg6, T7 arg7, T8 arg8, T9 arg9, T10 arg10, T11 arg11, T12 arg12, T13 arg13, T14 arg14, T15 arg15) {
        return add(id, a -> code.apply((T1) a[0], (T2) a[1], (T3) a[2], (T4) a[3], (T5) a[4], (T6) a[5], (T7) a[6], (T8) a[7], (T9) a[8], (T10) a[9], (T11) a[10], (T12) a[11], (T13) a[12], (T14) a[13], (T15) a[14]), new Object[] {arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, arg9, arg10, arg11, arg12, arg13, arg14, arg15});
    }
}
