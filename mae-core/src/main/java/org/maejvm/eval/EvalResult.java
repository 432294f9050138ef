package org.maejvm.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.maejvm.io.AtomicFiles;

/**
 * The outcome of an evaluation: images, top-1 and top-k accuracy (fractions in [0, 1]; k is 5 or the number of
 * classes if fewer), mean cross-entropy loss, and the confusion matrix {@code confusion[true][predicted]}.
 */
public record EvalResult(long images, double top1, double topK, int k, double loss, List<String> classNames,
                         long[][] confusion) {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public EvalResult {
        classNames = List.copyOf(classNames);
    }

    /** Accuracy of each true class (NaN for a class with no images), in class order. */
    public double[] perClassAccuracy() {
        double[] acc = new double[confusion.length];
        for (int t = 0; t < confusion.length; t++) {
            long n = 0;
            for (long v : confusion[t]) n += v;
            acc[t] = n == 0 ? Double.NaN : (double) confusion[t][t] / n;
        }
        return acc;
    }

    /** The official summary line: {@code * Acc@1 83.600 Acc@5 96.500 loss 0.712}. */
    public String summary() {
        return String.format(Locale.ROOT, "* Acc@1 %.3f Acc@%d %.3f loss %.3f (%d images)", 100 * top1, k,
                100 * topK, loss, images);
    }

    /** A JSON object with the official names ({@code acc1}, {@code acc5}, {@code loss}, in percent as official). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("images", images);
        o.put("acc1", 100 * top1);
        o.put("acc" + k, 100 * topK);
        o.put("loss", loss);
        ObjectNode perClass = o.putObject("per_class_acc1");
        double[] acc = perClassAccuracy();
        for (int c = 0; c < acc.length; c++) {
            if (Double.isNaN(acc[c])) perClass.putNull(classNames.get(c));
            else perClass.put(classNames.get(c), 100 * acc[c]);
        }
        ArrayNode names = o.putArray("class_names");
        classNames.forEach(names::add);
        return o;
    }

    /** Writes {@link #toJson} to {@code file}, atomically. */
    public void writeJson(Path file) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(toJson());
        AtomicFiles.write(file, out -> {
            out.write(bytes);
            out.write('\n');
        });
    }

    /**
     * The confusion matrix as CSV: a header {@code true\predicted,<class names...>}, then one row per true class
     * starting with its name. Names with commas, quotes or line breaks are quoted as RFC 4180 says.
     */
    public String confusionCsv() {
        StringBuilder sb = new StringBuilder("true\\predicted");
        for (String n : classNames) sb.append(',').append(csv(n));
        sb.append('\n');
        for (int t = 0; t < confusion.length; t++) {
            sb.append(csv(classNames.get(t)));
            for (long v : confusion[t]) sb.append(',').append(v);
            sb.append('\n');
        }
        return sb.toString();
    }

    /** Writes {@link #confusionCsv} to {@code file}, atomically. */
    public void writeConfusionCsv(Path file) throws IOException {
        byte[] bytes = confusionCsv().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    static String csv(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0 && field.indexOf('\r') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}
