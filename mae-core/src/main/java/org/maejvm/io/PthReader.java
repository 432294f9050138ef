package org.maejvm.io;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.maejvm.io.TorchPickleRules.StorageRef;
import org.maejvm.io.TorchPickleRules.TensorSpec;
import org.maejvm.tensor.HostTensor;

/**
 * Reads PyTorch {@code torch.save} files without Python and without running anything the file names.
 *
 * <p>Both formats are read: the zip archive of torch 1.6 and later ({@code <prefix>/data.pkl}, the storages as
 * {@code <prefix>/data/<key>}, optional {@code <prefix>/byteorder}) and the older "legacy" stream (magic number,
 * protocol version and system-info pickles, the object pickle, the list of storage keys, then each storage as an
 * int64 element count and raw bytes). The object pickle goes through {@link Unpickler} with
 * {@link TorchPickleRules}: any global outside the tensor-rebuilding allowlist is refused before a single storage
 * byte is read.
 *
 * <p>Tensors come back as {@link HostTensor}: floating dtypes as float32, integer and bool dtypes as int32;
 * non-contiguous views are gathered, views sharing a storage each get their own copy.
 */
public final class PthReader {
    private PthReader() {}

    /**
     * Largest object pickle accepted: a ViT-Huge state dict's is about 100 KB and a training checkpoint's a few MB;
     * the cap keeps the memory a hostile pickle can claim to a small multiple of it.
     */
    public static final long MAX_PICKLE_BYTES = 64L << 20;
    /** A deflated zip entry may expand at most this much; torch stores its entries uncompressed anyway. */
    static final long MAX_DEFLATE_RATIO = 200;
    /** Keys under which checkpoints nest their state dict, in the order they are tried. */
    static final List<String> STATE_DICT_KEYS = List.of("model", "state_dict", "module");

    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    private static final long LEGACY_PROTOCOL = 1001;

    /** A value the reader recognised but cannot decode (an exotic numpy scalar); kept so keys are not lost. */
    public record Skipped(String what) {}

    /**
     * The tensors of a state dict: the top-level dict when it holds tensors, else the dict under {@code model}
     * (the official MAE checkpoints), {@code state_dict} or {@code module}. Non-tensor entries are left out; only
     * the tensors of that dict are decoded, so the optimizer state of a training checkpoint costs no memory.
     */
    public static LinkedHashMap<String, HostTensor> readStateDict(Path file) throws IOException {
        try (Source src = open(file)) {
            Object tree = src.firstPass();
            Map<?, ?> sd = findStateDict(file, tree);
            Set<Integer> wanted = new HashSet<>();
            for (Object v : sd.values()) {
                if (v instanceof TensorSpec spec) wanted.add(spec.index());
            }
            Object full = src.secondPass(wanted::contains);
            Map<?, ?> decoded = findStateDict(file, full);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : decoded.entrySet()) {
                if (e.getKey() instanceof String k && e.getValue() instanceof HostTensor t) out.put(k, t);
            }
            return out;
        }
    }

    /**
     * The whole unpickled object: maps (dict, OrderedDict, argparse.Namespace), lists, tuples as unmodifiable
     * lists, {@link HostTensor}s, strings, Long/BigInteger, Double, Boolean, null, byte[] and {@link Skipped}.
     */
    public static Object readObject(Path file) throws IOException {
        try (Source src = open(file)) {
            src.firstPass();
            return src.secondPass(i -> true);
        }
    }

    private static Map<?, ?> findStateDict(Path file, Object top) throws MalformedWeightsException {
        if (!(top instanceof Map<?, ?> m)) {
            throw new MalformedWeightsException(file, "the saved object is " + Unpickler.describe(top)
                    + ", not a dict; a state dict or a checkpoint dict was expected");
        }
        if (holdsTensors(m)) return m;
        for (String key : STATE_DICT_KEYS) {
            if (m.get(key) instanceof Map<?, ?> inner && holdsTensors(inner)) return inner;
        }
        List<String> keys = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (keys.size() == 20) {
                keys.add("...");
                break;
            }
            keys.add(String.valueOf(k instanceof String s ? Unpickler.abbreviate(s) : Unpickler.describe(k)));
        }
        throw new MalformedWeightsException(file, "found no tensors at the top level nor under " + STATE_DICT_KEYS
                + "; top-level keys are " + keys);
    }

    private static boolean holdsTensors(Map<?, ?> m) {
        for (Object v : m.values()) {
            if (TorchPickleRules.isTensor(v)) return true;
        }
        return false;
    }

    // ------------------------------------------------------------------ formats

    /** One open file: runs pass 1 (check everything, read no storage) and pass 2 (decode). */
    private abstract static class Source implements AutoCloseable {
        final Path file;
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        TorchPickleRules checked;

        Source(Path file) {
            this.file = file;
        }

        abstract Object firstPass() throws IOException;

        abstract Object secondPass(IntPredicate wanted) throws IOException;

        @Override
        public abstract void close() throws IOException;

        /** Refuses to start decoding what cannot fit the heap, before allocating any of it. */
        void checkHeap(IntPredicate wanted) throws MalformedWeightsException {
            long bytes = 0;
            for (TensorSpec s : checked.specs.values()) {
                if (wanted.test(s.index())) bytes += 4L * s.elements();
            }
            TensorDecoder.checkHeap(file, "the tensors together", bytes);
        }

        /** How many wanted tensors use each storage, so a storage can be dropped after its last one. */
        Map<String, Integer> usesOf(IntPredicate wanted) {
            Map<String, Integer> uses = new HashMap<>();
            for (TensorSpec s : checked.specs.values()) {
                if (wanted.test(s.index())) uses.merge(s.storage().key(), 1, Integer::sum);
            }
            return uses;
        }
    }

    private static Source open(Path file) throws IOException {
        byte[] head = new byte[512];
        int n;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.wrap(head);
            while (buf.hasRemaining() && ch.read(buf) >= 0) {
                // fill up to 512 bytes or the end of the file
            }
            n = buf.position();
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5) && (head[3] == 4 || head[3] == 6)) {
            return new ZipSource(file);
        }
        if (n >= 262 && new String(head, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) {
            throw new MalformedWeightsException(file, "is a tar archive, the format of PyTorch before 0.4, which this"
                    + " reader does not support; load it in PyTorch and re-save it with torch.save(obj, path)");
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80) return new LegacySource(file);
        throw new MalformedWeightsException(file, "is not a PyTorch file: it starts with neither a zip header ('PK')"
                + " nor a pickle (0x80), so it is neither a torch.save archive nor the legacy format");
    }

    /** The zip format. */
    private static final class ZipSource extends Source {
        private final ZipFile zip;
        private final String prefix;
        private final byte[] pickle;

        ZipSource(Path file) throws IOException {
            super(file);
            ZipFile z;
            try {
                z = new ZipFile(file.toFile());
            } catch (IOException | RuntimeException e) {
                throw new MalformedWeightsException(file, "is not a readable zip archive: " + e.getMessage(), e);
            }
            this.zip = z;
            try {
                this.prefix = findPrefix();
                ZipEntry order = entry(prefix + "/byteorder");
                if (order != null) this.order = byteOrder(new String(read(order, 16), StandardCharsets.US_ASCII));
                ZipEntry pkl = entry(prefix + "/data.pkl");
                this.pickle = read(pkl, MAX_PICKLE_BYTES);
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }

        /** The archive's single top-level folder; entries must not try to leave the archive. */
        private String findPrefix() throws IOException {
            String prefix = null;
            boolean torchScript = false;
            long declared = 0;
            long fileSize = java.nio.file.Files.size(file);
            try {
                for (Enumeration<? extends ZipEntry> en = zip.entries(); en.hasMoreElements(); ) {
                    ZipEntry entry = en.nextElement();
                    String name = entry.getName();
                    checkEntryName(name);
                    declared += Math.max(entry.getSize(), 0);
                    // The archive as a whole may not expand beyond what deflate can do honestly (zip bombs made of
                    // many entries, each under the per-entry ratio, or of entries that overlap in the file).
                    if (declared > fileSize * MAX_DEFLATE_RATIO + (1 << 20)) {
                        throw new MalformedWeightsException(file, "zip entries declare more than " + declared
                                + " bytes in all from a " + fileSize + "-byte file, more than " + MAX_DEFLATE_RATIO
                                + "x; refusing a possible zip bomb");
                    }
                    int slash = name.indexOf('/');
                    if (slash > 0 && name.substring(slash + 1).equals("data.pkl")) {
                        if (prefix != null) {
                            throw new MalformedWeightsException(file, "holds two pickles, '" + prefix
                                    + "/data.pkl' and '" + name + "'; a torch.save archive has one");
                        }
                        prefix = name.substring(0, slash);
                    }
                    if (name.endsWith("/constants.pkl") || name.contains("/code/")) torchScript = true;
                }
            } catch (RuntimeException e) {
                throw new MalformedWeightsException(file, "has a damaged zip directory: " + e.getMessage(), e);
            }
            if (torchScript) {
                throw new MalformedWeightsException(file, "is a TorchScript archive (torch.jit.save), whose code this"
                        + " reader does not run; save the weights with torch.save(model.state_dict(), path)");
            }
            if (prefix == null) {
                throw new MalformedWeightsException(file, "is a zip archive without a '<name>/data.pkl' entry, so not"
                        + " a torch.save file");
            }
            return prefix;
        }

        private void checkEntryName(String name) throws MalformedWeightsException {
            boolean escapes = name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0
                    || name.equals("..") || name.startsWith("../") || name.contains("/../") || name.endsWith("/..")
                    || (name.length() > 1 && name.charAt(1) == ':');
            if (escapes) {
                throw new MalformedWeightsException(file, "zip entry '" + Unpickler.abbreviate(name) + "' points"
                        + " outside the archive; torch archives hold only '<name>/...' entries");
            }
        }

        private ZipEntry entry(String name) throws MalformedWeightsException {
            try {
                return zip.getEntry(name);
            } catch (RuntimeException e) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' is damaged: " + e.getMessage(), e);
            }
        }

        /** An entry's bytes, refusing sizes that are unknown, above {@code max} or implausible (zip bombs). */
        private byte[] read(ZipEntry e, long max) throws IOException {
            long size = e.getSize();
            long packed = e.getCompressedSize();
            String name = e.getName();
            if (size < 0 || size > max || size > Integer.MAX_VALUE - 8) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' declares " + size
                        + " bytes; expected a known size of at most " + Math.min(max, Integer.MAX_VALUE - 8));
            }
            if (e.getMethod() == ZipEntry.DEFLATED && size > Math.max(packed, 0) * MAX_DEFLATE_RATIO + 4096) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' would expand " + packed + " bytes"
                        + " into " + size + ", more than " + MAX_DEFLATE_RATIO + "x; refusing a possible zip bomb");
            }
            if (e.getMethod() == ZipEntry.STORED && size > java.nio.file.Files.size(file)) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' declares " + size
                        + " stored bytes, more than the whole file");
            }
            TensorDecoder.checkHeap(file, "zip entry '" + name + "'", size);
            byte[] out;
            try {
                out = new byte[(int) size];
            } catch (OutOfMemoryError oom) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' (" + size + " bytes) does not fit"
                        + " the free heap; raise -Xmx");
            }
            try (InputStream in = zip.getInputStream(e)) {
                int got = in.readNBytes(out, 0, out.length);
                if (got != size) {
                    throw new MalformedWeightsException(file, "zip entry '" + name + "' declares " + size
                            + " bytes but holds " + got);
                }
                if (in.read() >= 0) {
                    throw new MalformedWeightsException(file, "zip entry '" + name + "' holds more than the " + size
                            + " bytes it declares");
                }
            } catch (MalformedWeightsException ex) {
                throw ex;
            } catch (IOException | RuntimeException ex) {
                throw new MalformedWeightsException(file, "zip entry '" + name + "' cannot be read: "
                        + ex.getMessage(), ex);
            }
            return out;
        }

        @Override
        Object firstPass() throws IOException {
            checked = new TorchPickleRules(file, order);
            Object tree = new Unpickler(file, MemorySegment.ofArray(pickle), 0, MAX_PICKLE_BYTES, checked).load();
            for (StorageRef root : checked.roots.values()) {
                ZipEntry e = entry(prefix + "/data/" + root.key());
                if (e == null) {
                    throw new MalformedWeightsException(file, "the pickle references storage '" + root.key()
                            + "' but the archive has no entry '" + prefix + "/data/" + root.key() + "'");
                }
                // torch writes each storage's bytes exactly; anything else is a damaged or forged archive
                if (root.rootNumel() > Long.MAX_VALUE / 8 || e.getSize() != root.rootNumel() * root.dtype().size) {
                    throw new MalformedWeightsException(file, "storage '" + root.key() + "' should hold "
                            + root.rootNumel() + " " + root.dtype() + " elements, but its entry has " + e.getSize()
                            + " bytes");
                }
            }
            return tree;
        }

        @Override
        Object secondPass(IntPredicate wanted) throws IOException {
            checkHeap(wanted);
            Map<String, Integer> uses = usesOf(wanted);
            Map<String, MemorySegment> cache = new HashMap<>();
            TorchPickleRules.StorageData data = new TorchPickleRules.StorageData() {
                @Override
                public MemorySegment bytes(StorageRef ref) throws IOException {
                    MemorySegment s = cache.get(ref.key());
                    if (s == null) {
                        long needed = ref.rootNumel() * ref.dtype().size;
                        s = MemorySegment.ofArray(read(entry(prefix + "/data/" + ref.key()), needed));
                        cache.put(ref.key(), s);
                    }
                    return s;
                }

                @Override
                public void release(StorageRef ref) {
                    if (uses.merge(ref.key(), -1, Integer::sum) <= 0) cache.remove(ref.key());
                }
            };
            return new Unpickler(file, MemorySegment.ofArray(pickle), 0, MAX_PICKLE_BYTES,
                    new TorchPickleRules(file, order, data, wanted)).load();
        }

        private ByteOrder byteOrder(String s) throws MalformedWeightsException {
            return switch (s.strip()) {
                case "little" -> ByteOrder.LITTLE_ENDIAN;
                case "big" -> ByteOrder.BIG_ENDIAN;
                default -> throw new MalformedWeightsException(file, "entry '" + prefix + "/byteorder' says '"
                        + Unpickler.abbreviate(s.strip()) + "'; expected 'little' or 'big'");
            };
        }

        @Override
        public void close() throws IOException {
            zip.close();
        }
    }

    /** The legacy (pre-1.6) stream format, memory-mapped. */
    private static final class LegacySource extends Source {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment bytes;
        private long objectStart;
        private final Map<String, Long> storageOffsets = new HashMap<>();

        LegacySource(Path file) throws IOException {
            super(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                this.bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }

        @Override
        Object firstPass() throws IOException {
            Unpickler.Rules inert = new NoGlobals(file);
            Unpickler header = new Unpickler(file, bytes, 0, MAX_PICKLE_BYTES, inert);
            Object magic = header.load();
            if (!(magic instanceof BigInteger b) || !b.equals(LEGACY_MAGIC)) {
                throw new MalformedWeightsException(file, "starts with a pickle of " + Unpickler.describe(magic)
                        + ", not the magic number of a legacy torch.save file");
            }
            Object protocol = header.load();
            if (!(protocol instanceof Long p) || p != LEGACY_PROTOCOL) {
                throw new MalformedWeightsException(file, "legacy protocol version is "
                        + Unpickler.describe(protocol) + "; only " + LEGACY_PROTOCOL + " exists");
            }
            Object sysInfo = header.load();
            if (sysInfo instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"))) {
                order = ByteOrder.BIG_ENDIAN;
            }
            objectStart = header.position();
            checked = new TorchPickleRules(file, order);
            Unpickler main = new Unpickler(file, bytes, objectStart, MAX_PICKLE_BYTES, checked);
            Object tree = main.load();
            Unpickler keysReader = new Unpickler(file, bytes, main.position(), MAX_PICKLE_BYTES, inert);
            Object keys = keysReader.load();
            if (!(keys instanceof List<?> keyList)) {
                throw new MalformedWeightsException(file, "the list of storage keys is " + Unpickler.describe(keys)
                        + ", not a list");
            }
            locateStorages(keyList, keysReader.position());
            for (String key : checked.roots.keySet()) {
                if (!storageOffsets.containsKey(key)) {
                    throw new MalformedWeightsException(file, "the pickle references storage '" + key
                            + "' but the file does not hold it");
                }
            }
            return tree;
        }

        /** Each storage: int64 element count, then its bytes; the count must match what the pickle declared. */
        private void locateStorages(List<?> keys, long pos) throws MalformedWeightsException {
            long size = bytes.byteSize();
            for (Object k : keys) {
                StorageRef root = k instanceof String s ? checked.roots.get(s) : null;
                if (root == null) {
                    throw new MalformedWeightsException(file, "storage key " + Unpickler.describe(k)
                            + " is listed but no tensor uses it, so its element size is unknown");
                }
                if (size - pos < 8) {
                    throw new MalformedWeightsException(file, "the file ends before storage '" + root.key() + "'");
                }
                long numel = bytes.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(order), pos);
                if (numel != root.rootNumel()) {
                    throw new MalformedWeightsException(file, "storage '" + root.key() + "' holds " + numel
                            + " elements but the pickle declared " + root.rootNumel());
                }
                long nbytes = numel * root.dtype().size;
                if (numel > Long.MAX_VALUE / 8 || nbytes > size - pos - 8) {
                    throw new MalformedWeightsException(file, "storage '" + root.key() + "' needs " + nbytes
                            + " bytes but only " + (size - pos - 8) + " are left in the file");
                }
                storageOffsets.put(root.key(), pos + 8);
                pos += 8 + nbytes;
            }
        }

        @Override
        Object secondPass(IntPredicate wanted) throws IOException {
            checkHeap(wanted);
            TorchPickleRules.StorageData data = new TorchPickleRules.StorageData() {
                @Override
                public MemorySegment bytes(StorageRef ref) {
                    return bytes.asSlice(storageOffsets.get(ref.key()), ref.rootNumel() * ref.dtype().size);
                }

                @Override
                public void release(StorageRef ref) {
                    // mapped: nothing to free until the file is closed
                }
            };
            return new Unpickler(file, bytes, objectStart, MAX_PICKLE_BYTES,
                    new TorchPickleRules(file, order, data, wanted)).load();
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** Rules for the legacy header pickles, which hold only plain values. */
    private record NoGlobals(Path file) implements Unpickler.Rules {
        @Override
        public Object global(String module, String name) throws IOException {
            throw new RefusedPickleException(file, "legacy header pickle references " + module + "." + name
                    + "; it may only hold plain values");
        }

        @Override
        public Object call(Object callable, List<Object> args, String opcode) throws IOException {
            throw new RefusedPickleException(file, "legacy header pickle calls something (" + opcode + ")");
        }

        @Override
        public Object persistentLoad(Object pid) throws IOException {
            throw new RefusedPickleException(file, "legacy header pickle has a persistent id");
        }

        @Override
        public Object build(Object target, Object state) throws IOException {
            throw new RefusedPickleException(file, "legacy header pickle uses BUILD");
        }
    }
}
