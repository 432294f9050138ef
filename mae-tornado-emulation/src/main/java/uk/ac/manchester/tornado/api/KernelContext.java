package uk.ac.manchester.tornado.api;

/**
 * Emulation of TornadoVM's kernel context: one instance per work-item with its ids, so kernel code reads
 * {@code context.globalIdx} as on a device. Local arrays are shared by the work-items of a group (the i-th
 * allocation of every work-item is the same array) and {@link #localBarrier()} is a real barrier of the group.
 */
public class KernelContext {
    // boxed, as in TornadoVM: code compiled against this emulation must link against the real class
    public final Integer globalIdx, globalIdy, globalIdz;
    public final Integer groupIdx, groupIdy, groupIdz;
    public final Integer localIdx, localIdy, localIdz;
    public final Integer globalGroupSizeX, globalGroupSizeY, globalGroupSizeZ;
    public final Integer localGroupSizeX, localGroupSizeY, localGroupSizeZ;

    private final EmulatedGroup group;
    private int allocations;

    /** The context a host passes to TaskGraph.task; the emulation gives each work-item its own. */
    public KernelContext() {
        this(null, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1);
    }

    KernelContext(EmulatedGroup group, int localX, int localY, int groupX, int groupY,
                  int globalX, int globalY, int localSizeX, int localSizeY, int globalSizeX, int globalSizeY) {
        this.group = group;
        this.localIdx = localX;
        this.localIdy = localY;
        this.localIdz = 0;
        this.groupIdx = groupX;
        this.groupIdy = groupY;
        this.groupIdz = 0;
        this.globalIdx = globalX;
        this.globalIdy = globalY;
        this.globalIdz = 0;
        this.localGroupSizeX = localSizeX;
        this.localGroupSizeY = localSizeY;
        this.localGroupSizeZ = 1;
        this.globalGroupSizeX = globalSizeX;
        this.globalGroupSizeY = globalSizeY;
        this.globalGroupSizeZ = 1;
    }

    /** Waits until every work-item of this work-group has arrived (OpenCL barrier(CLK_LOCAL_MEM_FENCE)). */
    public void localBarrier() {
        requireGroup("localBarrier");
        group.await();
    }

    /** Not emulated: OpenCL has no barrier across work-groups either; split the kernel into two tasks. */
    public void globalBarrier() {
        throw new UnsupportedOperationException("globalBarrier is not emulated: a barrier across work-groups does not "
                + "exist in OpenCL; split the kernel into two tasks");
    }

    public float[] allocateFloatLocalArray(int size) {
        requireGroup("allocateFloatLocalArray");
        return (float[]) group.local(allocations++, size, () -> new float[size]);
    }

    public int[] allocateIntLocalArray(int size) {
        requireGroup("allocateIntLocalArray");
        return (int[]) group.local(allocations++, size, () -> new int[size]);
    }

    private void requireGroup(String what) {
        if (group == null) {
            throw new IllegalStateException(what + " called outside a kernel launch: run the kernel through a TaskGraph "
                    + "with a GridScheduler");
        }
    }
}
