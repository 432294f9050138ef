package org.maejvm.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.regex.Pattern;
import org.maejvm.io.Unpickler.Tuple;

/**
 * The allowlist that gives meaning to the globals of a {@code torch.save} pickle. Nothing here runs code named by
 * the file: each allowed global maps to a fixed Java function producing an inert value (a tensor, a map, a number).
 *
 * <p>A file is read in two passes. Pass 1 ({@code data == null}) checks every opcode, global and persistent id and
 * describes each tensor (storage, offset, size, stride) without reading any storage. Pass 2 runs the same pickle
 * again and decodes the tensors, now that storages are known to exist and to be large enough.
 */
final class TorchPickleRules implements Unpickler.Rules {

    /** An allowlisted global, as pushed on the unpickler's stack. */
    record PyGlobal(String module, String name) {
        String qualified() {
            return module + "." + name;
        }

        @Override
        public String toString() {
            return qualified();
        }
    }

    /** A persistent id resolved to its root storage and the element range visible through it (legacy views). */
    record StorageRef(String key, WeightDType dtype, long rootNumel, long viewOffset, long viewNumel) {}

    /** A tensor as pass 1 sees it; {@code index} counts rebuilds in pickle order, the same in both passes. */
    record TensorSpec(int index, StorageRef storage, long offset, long[] shape, long[] stride, int elements) {
        @Override
        public String toString() {
            return "tensor #" + index + Arrays.toString(shape);
        }
    }

    /** Storage bytes for pass 2. */
    interface StorageData {
        /** All bytes of the root storage {@code key} (rootNumel elements of its dtype). */
        MemorySegment bytes(StorageRef ref) throws IOException;

        /** The tensor that needed {@code ref} is decoded; the storage may be dropped once no tensor needs it. */
        void release(StorageRef ref);
    }

    /** A numpy dtype built by {@code numpy.dtype(code, align, copy)}; BUILD sets its byte order. */
    static final class NumpyDType {
        final String code;
        String byteOrder = "<";

        NumpyDType(String code) {
            this.code = code;
        }

        @Override
        public String toString() {
            return "numpy.dtype(" + code + ")";
        }
    }

    private static final Map<String, WeightDType> STORAGE_TYPES = Map.ofEntries(
            Map.entry("torch.DoubleStorage", WeightDType.F64),
            Map.entry("torch.FloatStorage", WeightDType.F32),
            Map.entry("torch.HalfStorage", WeightDType.F16),
            Map.entry("torch.BFloat16Storage", WeightDType.BF16),
            Map.entry("torch.LongStorage", WeightDType.I64),
            Map.entry("torch.IntStorage", WeightDType.I32),
            Map.entry("torch.ShortStorage", WeightDType.I16),
            Map.entry("torch.CharStorage", WeightDType.I8),
            Map.entry("torch.ByteStorage", WeightDType.U8),
            Map.entry("torch.BoolStorage", WeightDType.BOOL),
            // torch 2.x writes byte-addressed storages under this name; element counts are then bytes
            Map.entry("torch.UntypedStorage", WeightDType.U8),
            Map.entry("torch.storage.UntypedStorage", WeightDType.U8));

    private static final Set<String> CALLABLES = Set.of(
            "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch._tensor._rebuild_from_type_v2",
            "collections.OrderedDict", "argparse.Namespace", "torch.Size", "torch.device", "_codecs.encode",
            "numpy.dtype", "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
            // how protocols 0-3 spell sets and byte arrays (Python 2 names too)
            "builtins.set", "builtins.frozenset", "builtins.bytearray",
            "__builtin__.set", "__builtin__.frozenset", "__builtin__.bytearray");

    /** Classes only allowed as the {@code new_type} of {@code _rebuild_from_type_v2}. */
    private static final Set<String> TENSOR_TYPES = Set.of("torch.Tensor", "torch.nn.parameter.Parameter");

    static final String ALLOWED_SUMMARY = "only tensor rebuilding is allowed (torch tensors, parameters and storages,"
            + " OrderedDict, argparse.Namespace, torch.Size, torch.device, numpy scalars)";

    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");

    private final Path file;
    private final ByteOrder order;
    private final StorageData data;
    private final IntPredicate wanted;
    private final Map<Object, Boolean> namespaces = new IdentityHashMap<>();
    private int tensorCount;

    /** Root storages by key (pass 1 fills it, checking that every use agrees on dtype and size). */
    final Map<String, StorageRef> roots = new LinkedHashMap<>();
    /** Tensors built per root storage, in pass 1. */
    final Map<String, Integer> tensorsPerStorage = new HashMap<>();
    /** Pass 1: the tensors in rebuild order. */
    final Map<Integer, TensorSpec> specs = new HashMap<>();

    /** Pass 1: describe tensors, read nothing. */
    TorchPickleRules(Path file, ByteOrder order) {
        this(file, order, null, i -> false);
    }

    /** Pass 2: decode the tensors whose rebuild index {@code wanted} accepts; others stay {@link TensorSpec}s. */
    TorchPickleRules(Path file, ByteOrder order, StorageData data, IntPredicate wanted) {
        this.file = file;
        this.order = order;
        this.data = data;
        this.wanted = wanted;
    }

    // ------------------------------------------------------------------ globals

    @Override
    public Object global(String module, String name) throws RefusedPickleException {
        String q = module + "." + name;
        if (CALLABLES.contains(q) || STORAGE_TYPES.containsKey(q) || TENSOR_TYPES.contains(q)) {
            return new PyGlobal(module, name);
        }
        throw new RefusedPickleException(file, "pickle references " + Unpickler.abbreviate(q) + ", "
                + ALLOWED_SUMMARY);
    }

    @Override
    public Object call(Object callable, List<Object> args, String opcode) throws IOException {
        if (!(callable instanceof PyGlobal g)) {
            throw new RefusedPickleException(file, "pickle calls " + Unpickler.describe(callable) + " (" + opcode
                    + "); only allowlisted globals can be called, " + ALLOWED_SUMMARY);
        }
        String q = g.qualified();
        if (!CALLABLES.contains(q)) {
            throw new RefusedPickleException(file, "pickle calls " + q + " (" + opcode + "), which is only allowed as "
                    + (STORAGE_TYPES.containsKey(q) ? "a storage type" : "a tensor type"));
        }
        boolean construct = !opcode.equals("REDUCE");
        if (construct && !q.equals("argparse.Namespace")) {
            throw new RefusedPickleException(file, "pickle instantiates " + q + " with " + opcode
                    + "; only argparse.Namespace is created that way");
        }
        return switch (q) {
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> tensor(q, args);
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                arity(q, args, 3, 4);
                Object t = args.getFirst();
                if (!isTensor(t)) throw bad(q, "its first argument must be a tensor, found " + Unpickler.describe(t));
                yield t;
            }
            case "torch._tensor._rebuild_from_type_v2" -> {
                arity(q, args, 4, 4);
                if (!(args.get(1) instanceof PyGlobal type) || !TENSOR_TYPES.contains(type.qualified())) {
                    throw new RefusedPickleException(file, "pickle rebuilds a tensor of type "
                            + Unpickler.describe(args.get(1)) + "; only " + TENSOR_TYPES + " are allowed");
                }
                if (!(args.get(2) instanceof Tuple inner)) throw bad(q, "its third argument must be a tuple");
                yield call(args.get(0), inner, "REDUCE");
            }
            case "collections.OrderedDict" -> orderedDict(args);
            case "argparse.Namespace" -> {
                if (!args.isEmpty()) throw bad(q, "it is created without arguments, then filled by BUILD");
                Map<Object, Object> ns = new LinkedHashMap<>();
                namespaces.put(ns, Boolean.TRUE);
                yield ns;
            }
            case "torch.Size" -> {
                arity(q, args, 1, 1);
                if (!(args.getFirst() instanceof List<?> dims)) throw bad(q, "its argument must be a tuple of ints");
                yield new Tuple(dims.toArray());
            }
            case "torch.device" -> {
                arity(q, args, 1, 2);
                if (!(args.getFirst() instanceof String type)) throw bad(q, "its first argument must be a string");
                yield args.size() == 2 && args.get(1) != null ? type + ":" + args.get(1) : type;
            }
            case "_codecs.encode" -> latin1Bytes(args);
            case "numpy.dtype" -> {
                arity(q, args, 1, 3);
                if (!(args.getFirst() instanceof String code)) throw bad(q, "its first argument must be a type code");
                yield new NumpyDType(code);
            }
            case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar" -> numpyScalar(q, args);
            case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset" -> set(q, args);
            case "builtins.bytearray", "__builtin__.bytearray" -> {
                arity(q, args, 0, 1);
                if (args.isEmpty()) yield new byte[0];
                if (!(args.getFirst() instanceof byte[] b)) throw bad(q, "its argument must be bytes");
                yield b;
            }
            default -> throw new IllegalStateException("allowlisted callable without a handler: " + q);
        };
    }

    @Override
    public Object persistentLoad(Object pid) throws IOException {
        // ('storage', storage_type, key, location, numel) in zip files; legacy files add view_metadata:
        // None or (view_key, offset, view_numel).
        if (!(pid instanceof Tuple t) || t.size() < 5 || t.size() > 6 || !"storage".equals(t.getFirst())) {
            throw new RefusedPickleException(file, "pickle has persistent id " + Unpickler.describe(pid)
                    + "; only ('storage', type, key, location, size) storage references are allowed");
        }
        if (!(t.get(1) instanceof PyGlobal type) || !STORAGE_TYPES.containsKey(type.qualified())) {
            throw new RefusedPickleException(file, "storage reference names type " + Unpickler.describe(t.get(1))
                    + "; allowed storage types: " + STORAGE_TYPES.keySet());
        }
        WeightDType dtype = STORAGE_TYPES.get(type.qualified());
        if (!(t.get(2) instanceof String key) || !STORAGE_KEY.matcher(key).matches()) {
            throw new MalformedWeightsException(file, "storage key " + Unpickler.describe(t.get(2))
                    + " is not valid; keys are 1 to 64 letters, digits or underscores");
        }
        if (!(t.get(3) instanceof String)) {
            throw new MalformedWeightsException(file, "storage '" + key + "' location must be a string like 'cpu',"
                    + " found " + Unpickler.describe(t.get(3)));
        }
        long numel = nonNegative("storage '" + key + "' size", t.get(4));
        long viewOffset = 0;
        long viewNumel = numel;
        if (t.size() == 6 && t.get(5) != null) {
            if (!(t.get(5) instanceof Tuple view) || view.size() != 3 || !(view.getFirst() instanceof String)) {
                throw new MalformedWeightsException(file, "storage '" + key + "' view must be (key, offset, size),"
                        + " found " + Unpickler.describe(t.get(5)));
            }
            viewOffset = nonNegative("storage '" + key + "' view offset", view.get(1));
            viewNumel = nonNegative("storage '" + key + "' view size", view.get(2));
            if (viewOffset > numel || viewNumel > numel - viewOffset) {
                throw new MalformedWeightsException(file, "storage '" + key + "' view [" + viewOffset + ", +"
                        + viewNumel + ") lies outside its " + numel + " elements");
            }
        }
        StorageRef root = roots.get(key);
        if (root == null) {
            roots.put(key, new StorageRef(key, dtype, numel, 0, numel));
        } else if (root.dtype() != dtype || root.rootNumel() != numel) {
            throw new MalformedWeightsException(file, "storage '" + key + "' is referenced as " + dtype + "[" + numel
                    + "] and as " + root.dtype() + "[" + root.rootNumel() + "]; one storage has one type and size");
        }
        return new StorageRef(key, dtype, numel, viewOffset, viewNumel);
    }

    @Override
    public Object build(Object target, Object state) {
        if (namespaces.containsKey(target) && state instanceof Map<?, ?> attrs) {
            @SuppressWarnings("unchecked") Map<Object, Object> ns = (Map<Object, Object>) target;
            ns.putAll(attrs);
        } else if (target instanceof NumpyDType dt && state instanceof Tuple st && st.size() > 1
                && st.get(1) instanceof String byteOrder) {
            dt.byteOrder = byteOrder;
        }
        // Anything else (an OrderedDict's _metadata, a tensor's Python attributes) carries no weights: dropped.
        return target;
    }

    // ------------------------------------------------------------------ tensors

    private Object tensor(String fn, List<Object> args) throws IOException {
        arity(fn, args, 4, 7);
        int index = tensorCount++;
        String name = "tensor #" + index;
        if (!(args.getFirst() instanceof StorageRef s)) {
            throw bad(fn, "the storage of " + name + " must be a storage reference, found "
                    + Unpickler.describe(args.getFirst()));
        }
        long offset = nonNegative(name + " storage offset", args.get(1));
        long[] shape = longs(name + " size", args.get(2));
        long[] stride = longs(name + " stride", args.get(3));
        if (shape.length != stride.length) {
            throw new MalformedWeightsException(file, name + " has size " + Arrays.toString(shape) + " but stride "
                    + Arrays.toString(stride) + "; they need the same number of dimensions");
        }
        int elements = TensorDecoder.elementCount(file, name, shape);
        checkBounds(name, s, offset, shape, stride, elements);
        if (data == null) {
            TensorSpec spec = new TensorSpec(index, s, offset, shape, stride, elements);
            specs.put(index, spec);
            tensorsPerStorage.merge(s.key(), 1, Integer::sum);
            return spec;
        }
        if (!wanted.test(index)) return new TensorSpec(index, s, offset, shape, stride, elements);
        MemorySegment bytes = data.bytes(s);
        try {
            return TensorDecoder.decode(file, name + " (storage '" + s.key() + "')", s.dtype(), bytes, order,
                    s.viewOffset() + offset, shape, stride);
        } finally {
            data.release(s);
        }
    }

    /** The last element a view addresses must lie inside the storage (strides are non-negative in torch). */
    private void checkBounds(String name, StorageRef s, long offset, long[] shape, long[] stride, int elements)
            throws MalformedWeightsException {
        if (elements == 0) return;
        try {
            long last = offset;
            for (int d = 0; d < shape.length; d++) last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, stride[d]));
            if (last < s.viewNumel()) return;
        } catch (ArithmeticException overflow) {
            // falls through to the error below
        }
        throw new MalformedWeightsException(file, name + " (offset " + offset + ", size " + Arrays.toString(shape)
                + ", stride " + Arrays.toString(stride) + ") reaches past the " + s.viewNumel()
                + " elements of storage '" + s.key() + "'");
    }

    static boolean isTensor(Object o) {
        return o instanceof TensorSpec || o instanceof org.maejvm.tensor.HostTensor;
    }

    // ------------------------------------------------------------------ containers and scalars

    private Object orderedDict(List<Object> args) throws MalformedWeightsException {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (args.isEmpty()) return m;
        if (args.size() == 1 && args.getFirst() instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (!(p instanceof Tuple kv) || kv.size() != 2 || !isSimpleKey(kv.getFirst())) {
                    throw bad("collections.OrderedDict", "its items must be (key, value) pairs with string or"
                            + " number keys, found " + Unpickler.describe(p));
                }
                m.put(kv.get(0), kv.get(1));
            }
            return m;
        }
        throw bad("collections.OrderedDict", "it takes no arguments or one list of pairs");
    }

    private Object set(String fn, List<Object> args) throws MalformedWeightsException {
        arity(fn, args, 0, 1);
        Set<Object> s = new java.util.LinkedHashSet<>();
        if (!args.isEmpty()) {
            if (!(args.getFirst() instanceof List<?> items)) throw bad(fn, "its argument must be a list");
            for (Object o : items) {
                if (!Unpickler.isSmallHashable(o)) {
                    throw bad(fn, "its element " + Unpickler.describe(o) + " is not a small hashable value");
                }
                s.add(o);
            }
        }
        return fn.endsWith("frozenset") ? java.util.Collections.unmodifiableSet(s) : s;
    }

    private static boolean isSimpleKey(Object k) {
        return k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double;
    }

    private byte[] latin1Bytes(List<Object> args) throws MalformedWeightsException {
        // Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'); the only encoding accepted is that one.
        arity("_codecs.encode", args, 2, 2);
        if (!(args.get(0) instanceof String s) || !(args.get(1) instanceof String enc)
                || !(enc.equals("latin1") || enc.equals("latin-1"))) {
            throw bad("_codecs.encode", "only (text, 'latin1') is accepted, found " + Unpickler.describe(args.get(0))
                    + ", " + Unpickler.describe(args.get(1)));
        }
        byte[] b = new byte[s.length()];
        for (int i = 0; i < b.length; i++) {
            char c = s.charAt(i);
            if (c > 0xff) throw bad("_codecs.encode", "its text has a character above U+00FF, not Latin-1");
            b[i] = (byte) c;
        }
        return b;
    }

    /** numpy.core.multiarray.scalar(dtype, raw bytes): decoded for plain numeric and bool dtypes only. */
    private Object numpyScalar(String fn, List<Object> args) throws MalformedWeightsException {
        arity(fn, args, 2, 2);
        if (!(args.get(0) instanceof NumpyDType dt) || !(args.get(1) instanceof byte[] raw)) {
            throw bad(fn, "it takes (numpy.dtype, bytes), found " + Unpickler.describe(args.get(0)) + ", "
                    + Unpickler.describe(args.get(1)));
        }
        String code = dt.code.replace("<", "").replace(">", "").replace("=", "").replace("|", "");
        int itemSize = switch (code) {
            case "f8", "i8", "u8" -> 8;
            case "f4", "i4", "u4" -> 4;
            case "f2", "i2", "u2" -> 2;
            case "i1", "u1", "b1" -> 1;
            default -> -1;
        };
        if (itemSize < 0 || raw.length != itemSize) {
            return new PthReader.Skipped("numpy scalar of dtype '" + Unpickler.abbreviate(dt.code) + "' ("
                    + raw.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(raw).order(">".equals(dt.byteOrder) ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN);
        return switch (code) {
            case "f8" -> b.getDouble();
            case "f4" -> (double) b.getFloat();
            case "f2" -> (double) Float.float16ToFloat(b.getShort());
            case "i8" -> b.getLong();
            case "u8" -> {
                long v = b.getLong();
                yield v >= 0 ? (Object) v : new BigInteger(Long.toUnsignedString(v));
            }
            case "i4" -> (long) b.getInt();
            case "u4" -> b.getInt() & 0xffffffffL;
            case "i2" -> (long) b.getShort();
            case "u2" -> (long) (b.getShort() & 0xffff);
            case "i1" -> (long) b.get();
            case "u1" -> (long) (b.get() & 0xff);
            default -> b.get() != 0; // b1
        };
    }

    // ------------------------------------------------------------------ argument checks

    private void arity(String fn, List<Object> args, int min, int max) throws MalformedWeightsException {
        if (args.size() < min || args.size() > max) {
            throw bad(fn, "it takes " + (min == max ? min : min + " to " + max) + " arguments, found " + args.size());
        }
    }

    private long nonNegative(String what, Object v) throws MalformedWeightsException {
        if (v instanceof Long l && l >= 0) return l;
        throw new MalformedWeightsException(file, what + " must be a non-negative integer, found "
                + Unpickler.describe(v));
    }

    private long[] longs(String what, Object v) throws MalformedWeightsException {
        if (!(v instanceof List<?> l)) {
            throw new MalformedWeightsException(file, what + " must be a tuple of integers, found "
                    + Unpickler.describe(v));
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(what + "[" + i + "]", l.get(i));
        return out;
    }

    private MalformedWeightsException bad(String fn, String detail) {
        return new MalformedWeightsException(file, "pickle calls " + fn + " wrongly: " + detail);
    }
}
