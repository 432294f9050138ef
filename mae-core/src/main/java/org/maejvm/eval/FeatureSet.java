package org.maejvm.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.Safetensors;
import org.maejvm.tensor.HostTensor;

/**
 * Encoder features of a data set, one row per image: {@code features [N, D]}, the class label of each row
 * ({@code -1} for unlabelled data) and the file (or item) each row came from, in data set order.
 *
 * <p>On disk: a safetensors file with tensors {@code features} (F32 [N, D]) and {@code labels} (I32 [N]), and in its
 * metadata {@code format = mae-jvm-features}, {@code pool}, {@code files} and {@code class_names} (JSON arrays) and
 * anything in {@link #metadata} (e.g. the checkpoint it came from). In Python:
 * {@code safetensors.torch.load_file(path)["features"]}, {@code safe_open(path, "pt").metadata()["files"]}.
 */
public record FeatureSet(float[] features, int count, int dim, int[] labels, List<String> files,
                         List<String> classNames, Pooling pool, Map<String, String> metadata) {
    public static final String FORMAT = "mae-jvm-features";
    private static final ObjectMapper JSON = new ObjectMapper();

    public FeatureSet {
        if (count < 0 || dim < 1 || (long) features.length != (long) count * dim) {
            throw new IllegalArgumentException("features of " + features.length + " floats are not [" + count + ", "
                    + dim + "]");
        }
        if (labels.length != count || files.size() != count) {
            throw new IllegalArgumentException(count + " feature rows need as many labels and files, got "
                    + labels.length + " and " + files.size());
        }
        files = List.copyOf(files);
        classNames = List.copyOf(classNames);
        metadata = Map.copyOf(metadata);
    }

    /** Row {@code i} as a copy. */
    public float[] row(int i) {
        if (i < 0 || i >= count) throw new IndexOutOfBoundsException("row " + i + " of " + count + " feature rows");
        float[] r = new float[dim];
        System.arraycopy(features, i * dim, r, 0, dim);
        return r;
    }

    /** Writes the safetensors file described above, atomically (a crash leaves any previous file intact). */
    public void save(Path file) throws IOException {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        tensors.put("features", new HostTensor(features, count, dim));
        tensors.put("labels", new HostTensor(labels, count));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put("format", FORMAT);
        meta.put("pool", pool.label());
        meta.put("files", JSON.writeValueAsString(files));
        meta.put("class_names", JSON.writeValueAsString(classNames));
        Safetensors.write(file, tensors, meta);
    }

    /** Reads a file written by {@link #save}. */
    public static FeatureSet load(Path file) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>(Safetensors.readMetadata(file));
        if (!FORMAT.equals(meta.get("format"))) {
            throw new MalformedWeightsException(file, "not a features file: metadata 'format' is "
                    + meta.get("format") + ", expected '" + FORMAT + "'");
        }
        Map<String, HostTensor> t = Safetensors.read(file);
        HostTensor f = t.get("features");
        HostTensor l = t.get("labels");
        if (f == null || f.data == null || f.shape().length != 2 || l == null || l.ints == null) {
            throw new MalformedWeightsException(file, "needs tensors 'features' (F32 [N, D]) and 'labels' (I32 [N])");
        }
        List<String> files = list(file, meta.remove("files"), "files");
        List<String> classes = list(file, meta.remove("class_names"), "class_names");
        Pooling pool = Pooling.parse(meta.getOrDefault("pool", "cls"));
        meta.remove("pool");
        meta.remove("format");
        return new FeatureSet(f.data, f.shape()[0], f.shape()[1], l.ints, files, classes, pool, meta);
    }

    private static List<String> list(Path file, String json, String key) throws MalformedWeightsException {
        if (json == null) throw new MalformedWeightsException(file, "metadata has no '" + key + "'");
        try {
            return JSON.readValue(json, new TypeReference<List<String>>() {});
        } catch (JsonProcessingException e) {
            throw new MalformedWeightsException(file, "metadata '" + key + "' is not a JSON list of strings", e);
        }
    }
}
