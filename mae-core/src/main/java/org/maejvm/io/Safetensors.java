package org.maejvm.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.tensor.HostTensor;

/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({@code {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}}, offsets
 * relative to the end of the header), then the raw little-endian tensor bytes, each byte belonging to exactly one
 * tensor. Reading checks all of that before touching the data; writing is atomic (see {@link AtomicFiles}).
 */
public final class Safetensors {
    private Safetensors() {}

    /** The header limit of the reference implementation; a larger claim is hostile or broken. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** How int32 tensors are stored: as I32, or widened to I64 (what PyTorch uses for index tensors). */
    public enum IntFormat { I32, I64 }

    /** One tensor entry of the header; {@code begin}/{@code end} are byte offsets into the data section. */
    public record TensorInfo(String name, WeightDType dtype, long[] shape, long begin, long end) {
        public TensorInfo {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return name + ": " + dtype + Arrays.toString(shape) + " @ [" + begin + ", " + end + ")";
        }
    }

    /** The parsed and validated header: metadata, tensors in header order, and where the data section starts. */
    public record Header(Map<String, String> metadata, List<TensorInfo> tensors, long dataStart) {}

    // ------------------------------------------------------------------ reading

    /** All tensors, in the order of the header, as float32 (floating dtypes) or int32 (integer and bool dtypes). */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
             Arena arena = Arena.ofConfined()) {
            Header header = readHeader(file, ch);
            long dataLen = ch.size() - header.dataStart();
            MemorySegment data = dataLen == 0
                    ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), dataLen, arena);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            for (TensorInfo t : header.tensors()) {
                int n = TensorDecoder.elementCount(file, t.name(), t.shape);
                out.put(t.name(), TensorDecoder.decodeContiguous(file, t.name(), t.dtype(), data,
                        ByteOrder.LITTLE_ENDIAN, t.begin(), n, TensorDecoder.toIntShape(t.shape)));
            }
            return out;
        }
    }

    /** The {@code __metadata__} string map (empty when the file has none). */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        return readHeader(file).metadata();
    }

    /** The validated header, without reading tensor data. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        }
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new MalformedWeightsException(file, "file is " + size
                    + " bytes, too short for a safetensors file (8-byte header length, then a JSON header)");
        }
        long n = readFully(file, ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > size - 8 || n > MAX_HEADER_BYTES) {
            throw new MalformedWeightsException(file, "header length field says " + Long.toUnsignedString(n)
                    + " bytes, but it must be between 2 and min(" + (size - 8) + " bytes left in the file, "
                    + MAX_HEADER_BYTES + ")");
        }
        byte[] json = readFully(file, ch, 8, (int) n).array();
        if (json[0] != '{') {
            throw new MalformedWeightsException(file, "header must start with '{' (a JSON object), found byte 0x"
                    + Integer.toHexString(json[0] & 0xff));
        }
        JsonNode root;
        String text;
        try {
            text = StrictJson.utf8(file, json, "the header");
        } catch (MalformedFileException e) {
            throw new MalformedWeightsException(file, e.detail(), e);
        }
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new MalformedWeightsException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new MalformedWeightsException(file, "header must be a JSON object of tensor entries");
        }
        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                tensors.add(parseTensor(file, e.getKey(), e.getValue(), dataLen));
            }
        }
        checkCoverage(file, tensors, dataLen);
        return new Header(Collections.unmodifiableMap(metadata), Collections.unmodifiableList(tensors), dataStart);
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode node) throws MalformedWeightsException {
        if (!node.isObject()) {
            throw new MalformedWeightsException(file, "'" + METADATA_KEY + "' must be an object of string values, found "
                    + node.getNodeType());
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new MalformedWeightsException(file, "'" + METADATA_KEY + "' entry '" + e.getKey()
                        + "' must be a string, found " + e.getValue().getNodeType());
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return m;
    }

    private static TensorInfo parseTensor(Path file, String name, JsonNode node, long dataLen)
            throws MalformedWeightsException {
        if (!node.isObject()) {
            throw new MalformedWeightsException(file, "tensor '" + name
                    + "' must be an object with dtype, shape and data_offsets, found " + node.getNodeType());
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new MalformedWeightsException(file, "tensor '" + name + "' has no string field 'dtype'");
        }
        WeightDType dtype = WeightDType.fromSafetensors(dtypeNode.textValue());
        if (dtype == null) {
            throw new MalformedWeightsException(file, "tensor '" + name + "' has dtype '" + dtypeNode.textValue()
                    + "', which this reader does not decode; supported: " + WeightDType.supportedList());
        }
        long[] shape = longArray(file, name, "shape", node.get("shape"), -1);
        long[] offsets = longArray(file, name, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataLen) {
            throw new MalformedWeightsException(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end
                    + "]; they must satisfy 0 <= begin <= end <= " + dataLen + " (the size of the data section)");
        }
        int count = TensorDecoder.elementCount(file, name, shape);
        long expected = (long) count * dtype.size;
        if (end - begin != expected) {
            throw new MalformedWeightsException(file, "tensor '" + name + "' of dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + expected + " bytes, but data_offsets [" + begin + ", "
                    + end + "] span " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** A JSON array of non-negative integers (of exactly {@code length} entries when length >= 0). */
    private static long[] longArray(Path file, String tensor, String field, JsonNode node, int length)
            throws MalformedWeightsException {
        String what = length >= 0 ? "an array of " + length + " non-negative integers" : "an array of non-negative integers";
        if (node == null || !node.isArray() || (length >= 0 && node.size() != length)) {
            throw new MalformedWeightsException(file, "tensor '" + tensor + "' field '" + field + "' must be " + what
                    + ", found " + (node == null ? "nothing" : node.toString()));
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new MalformedWeightsException(file, "tensor '" + tensor + "' field '" + field + "' must be "
                        + what + ", found element " + v);
            }
            out[i] = v.longValue();
        }
        return out;
    }

    /** Every byte of the data section belongs to exactly one tensor: no overlaps, no holes, nothing after. */
    private static void checkCoverage(Path file, List<TensorInfo> tensors, long dataLen)
            throws MalformedWeightsException {
        List<TensorInfo> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long covered = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < covered) {
                throw new MalformedWeightsException(file, "tensors '" + prev.name() + "' [" + prev.begin() + ", "
                        + prev.end() + ") and '" + t.name() + "' [" + t.begin() + ", " + t.end()
                        + ") overlap; each byte of the data section must belong to one tensor");
            }
            if (t.begin() > covered) {
                throw new MalformedWeightsException(file, "bytes [" + covered + ", " + t.begin()
                        + ") of the data section belong to no tensor; tensors must be packed back to back");
            }
            if (t.end() > t.begin()) prev = t;
            covered = Math.max(covered, t.end());
        }
        if (covered != dataLen) {
            throw new MalformedWeightsException(file, "the data section is " + dataLen + " bytes but the tensors cover "
                    + covered + "; the file is truncated or has trailing bytes");
        }
    }

    private static ByteBuffer readFully(Path file, FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) {
                throw new MalformedWeightsException(file, "unexpected end of file at byte " + (pos + buf.position())
                        + " while reading " + len + " bytes from byte " + pos);
            }
        }
        buf.flip();
        return buf;
    }

    // ------------------------------------------------------------------ writing

    /** Writes float32 and int32 tensors (ints as I32) without metadata, atomically. */
    public static void write(Path file, Map<String, ? extends HostTensor> tensors) throws IOException {
        write(file, tensors, Map.of(), IntFormat.I32);
    }

    /** Writes float32 and int32 tensors (ints as I32) plus string metadata, atomically. */
    public static void write(Path file, Map<String, ? extends HostTensor> tensors, Map<String, String> metadata)
            throws IOException {
        write(file, tensors, metadata, IntFormat.I32);
    }

    /**
     * Writes float32 tensors as F32 and int32 tensors as {@code ints}, in the map's iteration order, with the data
     * section 8-byte aligned. The target is replaced atomically; on failure the previous file is untouched.
     */
    public static void write(Path file, Map<String, ? extends HostTensor> tensors, Map<String, String> metadata,
                             IntFormat ints) throws IOException {
        byte[] header = headerBytes(file, tensors, metadata, ints);
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(len.array());
            out.write(header);
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (HostTensor t : tensors.values()) {
                if (t.data != null) writeFloats(out, chunk, t.data);
                else if (ints == IntFormat.I64) writeIntsAsLongs(out, chunk, t.ints);
                else writeInts(out, chunk, t.ints);
            }
        });
    }

    private static byte[] headerBytes(Path file, Map<String, ? extends HostTensor> tensors,
                                      Map<String, String> metadata, IntFormat ints) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(METADATA_KEY);
            metadata.forEach((k, v) -> {
                if (k == null || v == null) {
                    throw new IllegalArgumentException("cannot write " + file + ": metadata entry " + k + " = " + v
                            + " has a null key or value; metadata is a map of non-null strings");
                }
                meta.put(k, v);
            });
        }
        long offset = 0;
        for (Map.Entry<String, ? extends HostTensor> e : tensors.entrySet()) {
            String name = e.getKey();
            HostTensor t = e.getValue();
            if (name == null || name.equals(METADATA_KEY) || t == null) {
                throw new IllegalArgumentException("cannot write " + file + ": tensor entry '" + name + "' = " + t
                        + " is not allowed; names must be non-null and not '" + METADATA_KEY
                        + "', tensors non-null");
            }
            WeightDType dt = t.data != null ? WeightDType.F32 : (ints == IntFormat.I64 ? WeightDType.I64 : WeightDType.I32);
            long bytes = (long) t.size() * dt.size;
            ObjectNode entry = root.putObject(name);
            entry.put("dtype", dt.safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            entry.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json = root.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFloats(OutputStream out, ByteBuffer chunk, float[] data) throws IOException {
        int per = chunk.capacity() / 4;
        for (int i = 0; i < data.length; i += per) {
            int n = Math.min(per, data.length - i);
            chunk.clear();
            chunk.asFloatBuffer().put(data, i, n);
            out.write(chunk.array(), 0, n * 4);
        }
    }

    private static void writeInts(OutputStream out, ByteBuffer chunk, int[] data) throws IOException {
        int per = chunk.capacity() / 4;
        for (int i = 0; i < data.length; i += per) {
            int n = Math.min(per, data.length - i);
            chunk.clear();
            chunk.asIntBuffer().put(data, i, n);
            out.write(chunk.array(), 0, n * 4);
        }
    }

    private static void writeIntsAsLongs(OutputStream out, ByteBuffer chunk, int[] data) throws IOException {
        int per = chunk.capacity() / 8;
        for (int i = 0; i < data.length; i += per) {
            int n = Math.min(per, data.length - i);
            chunk.clear();
            for (int j = 0; j < n; j++) chunk.putLong(j * 8, data[i + j]);
            out.write(chunk.array(), 0, n * 8);
        }
    }
}
