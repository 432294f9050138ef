package org.maejvm.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.maejvm.io.MalformedFileException;

/**
 * The IDX file format of MNIST and Fashion-MNIST: a big-endian magic number {@code 0x0000TTNN} (TT = element type,
 * NN = number of dimensions), NN big-endian 32-bit dimension sizes, then the elements. Only unsigned bytes
 * ({@code TT = 0x08}) are read, which is what those data sets use: images {@code 0x00000803}, labels
 * {@code 0x00000801}. Gzipped files are recognised by their content, not their name.
 */
public final class Idx {
    /** Magic of a 3-D unsigned-byte array (N images of rows x columns). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic of a 1-D unsigned-byte array (N labels). */
    public static final int LABELS_MAGIC = 0x00000801;
    private static final int UBYTE = 0x08;

    private Idx() {}

    /** A decoded IDX array of unsigned bytes. */
    public record UByteArray(int[] dims, byte[] data) {
        public int count() {
            return dims[0];
        }

        public int at(int i) {
            return data[i] & 0xff;
        }
    }

    /**
     * Most a gzip stream can expand (deflate's limit is about 1032:1); a gzipped file whose header claims more data
     * than that is truncated or forged, and is refused before anything is allocated.
     */
    static final long MAX_GZIP_RATIO = 1032;

    /** Reads an IDX unsigned-byte array, plain or gzipped; a bad file gives a {@link MalformedFileException}. */
    public static UByteArray read(Path file) throws IOException {
        long fileSize = Files.size(file);
        boolean gzip = isGzip(file);
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             InputStream in = gzip ? new GZIPInputStream(raw, 1 << 16) : raw) {
            return read(in, file, gzip ? fileSize * MAX_GZIP_RATIO + 4096 : fileSize);
        } catch (java.util.zip.ZipException | EOFException e) {
            // a damaged gzip stream (bad header, CRC or deflate data)
            throw new MalformedFileException(file, "damaged gzip data: " + e.getMessage(), e);
        }
    }

    /** Reads an images file (magic 0x00000803). */
    public static UByteArray readImages(Path file) throws IOException {
        UByteArray a = read(file);
        if (a.dims.length != 3) {
            throw new MalformedFileException(file, "expected an IDX images file (magic 0x00000803, 3 dimensions),"
                    + " found " + a.dims.length + " dimensions " + Arrays.toString(a.dims));
        }
        return a;
    }

    /** Reads a labels file (magic 0x00000801). */
    public static UByteArray readLabels(Path file) throws IOException {
        UByteArray a = read(file);
        if (a.dims.length != 1) {
            throw new MalformedFileException(file, "expected an IDX labels file (magic 0x00000801, 1 dimension),"
                    + " found " + a.dims.length + " dimensions " + Arrays.toString(a.dims));
        }
        return a;
    }

    /** {@code maxBytes}: the most data the stream can hold, so a lying header is refused before allocating. */
    static UByteArray read(InputStream raw, Path file, long maxBytes) throws IOException {
        DataInputStream in = new DataInputStream(raw);
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new MalformedFileException(file, "too short for an IDX header (4-byte magic number)", e);
        }
        int type = (magic >>> 8) & 0xff;
        int ndims = magic & 0xff;
        if ((magic >>> 16) != 0 || type != UBYTE || ndims < 1) {
            throw new MalformedFileException(file, "not an unsigned-byte IDX file: magic 0x"
                    + String.format("%08x", magic)
                    + " (valid: 0x00000801 labels, 0x00000803 images, or 0x000008NN for NN dimensions)");
        }
        int[] dims = new int[ndims];
        long total = 1;
        try {
            for (int d = 0; d < ndims; d++) {
                dims[d] = in.readInt();
                if (dims[d] < 0) {
                    throw new MalformedFileException(file, "dimension " + d + " is " + dims[d] + "; sizes must be >= 0");
                }
                total = Math.min(total * dims[d], Long.MAX_VALUE / Integer.MAX_VALUE);
            }
        } catch (EOFException e) {
            throw new MalformedFileException(file, "header ends before its " + ndims + " dimensions", e);
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new MalformedFileException(file, "dimensions " + Arrays.toString(dims) + " are too large for one"
                    + " array (at most " + (Integer.MAX_VALUE - 16) + " bytes)");
        }
        if (total > maxBytes) {
            throw new MalformedFileException(file, "truncated: dimensions " + Arrays.toString(dims) + " need " + total
                    + " bytes of data, more than the file can hold");
        }
        if (total > Runtime.getRuntime().maxMemory()) {
            throw new MalformedFileException(file, "dimensions " + Arrays.toString(dims) + " need " + total
                    + " bytes, more than the JVM's heap (" + Runtime.getRuntime().maxMemory() + "); raise -Xmx");
        }
        byte[] data = new byte[(int) total];
        int read = in.readNBytes(data, 0, data.length);
        if (read != data.length) {
            throw new MalformedFileException(file, "truncated: dimensions " + Arrays.toString(dims) + " need " + total
                    + " bytes of data but only " + read + " follow the header");
        }
        return new UByteArray(dims, data);
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    /** Encodes an unsigned-byte IDX array (for tests and for exporting data). */
    public static byte[] encode(int[] dims, byte[] data) {
        long total = 1;
        for (int d : dims) total *= d;
        if (dims.length < 1 || dims.length > 255 || total != data.length) {
            throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " do not match " + data.length
                    + " bytes");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(4 + 4 * dims.length + data.length);
        writeInt(out, (UBYTE << 8) | dims.length);
        for (int d : dims) writeInt(out, d);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }
}
