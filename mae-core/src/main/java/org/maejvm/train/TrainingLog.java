package org.maejvm.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.maejvm.io.AtomicFiles;

/**
 * {@code log.txt}: one JSON object per line, as the official {@code log.txt}: {@code "kind": "step"} lines every
 * {@code log_freq} data steps (loss averaged over those steps, lr, images/s) and {@code "kind": "epoch"} lines with
 * the official {@code train_loss}, {@code train_lr} and {@code epoch}. Every line carries {@code global_step}, so a
 * resumed run first drops the lines written after its checkpoint and the log reads as one uninterrupted run.
 */
public final class TrainingLog implements AutoCloseable {
    public static final String FILE_NAME = "log.txt";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One step line of the log, as the plot reads it. */
    public record StepRecord(long globalStep, double loss, double lr) {}

    private final Path file;
    private final BufferedWriter out;

    private TrainingLog(Path file, BufferedWriter out) {
        this.file = file;
        this.out = out;
    }

    /** Opens {@code dir/log.txt} for appending, first dropping lines with a global step beyond {@code keepUpTo}. */
    public static TrainingLog open(Path dir, long keepUpTo) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (Files.exists(file)) truncateAfter(file, keepUpTo);
        BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return new TrainingLog(file, out);
    }

    public Path file() { return file; }

    public void step(TrainingEvent.Step s) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "step");
        o.put("epoch", s.epoch());
        o.put("step", s.step());
        o.put("global_step", s.globalStep());
        o.put("loss", s.loss());
        o.put("lr", s.lr());
        o.put("images_per_sec", round(s.imagesPerSecond()));
        write(o);
    }

    public void epoch(TrainingEvent.EpochEnd e, long globalStep, long parameters) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "epoch");
        o.put("train_lr", e.lr());
        o.put("train_loss", e.meanLoss());
        o.put("epoch", e.epoch());
        o.put("global_step", globalStep);
        o.put("steps", e.steps());
        o.put("images", e.images());
        o.put("skipped_images", e.skippedImages());
        o.put("images_per_sec", round(e.images() / Math.max(e.seconds(), 1e-9)));
        o.put("n_parameters", parameters);
        write(o);
    }

    /** A fine-tuning / probing epoch line with the official keys (train_*, test_acc1, test_acc5, test_loss). */
    public void downstreamEpoch(DownstreamTrainer.EpochResult r, long globalStep, long parameters) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "epoch");
        o.put("train_lr", r.trainLr());
        o.put("train_loss", r.trainLoss());
        o.put("test_loss", r.eval().loss());
        o.put("test_acc1", 100 * r.eval().top1());
        o.put("test_acc" + r.eval().k(), 100 * r.eval().topK());
        o.put("epoch", r.epoch());
        o.put("global_step", globalStep);
        o.put("seconds", round(r.seconds()));
        o.put("n_parameters", parameters);
        write(o);
    }

    private void write(ObjectNode o) throws IOException {
        out.write(JSON.writeValueAsString(o));
        out.newLine();
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.close();
    }

    /** The step lines of a log file, in order (lines that do not parse are skipped). */
    public static List<StepRecord> readSteps(Path file) throws IOException {
        List<StepRecord> out = new ArrayList<>();
        for (String line : lines(file)) {
            JsonNode n = parse(line);
            if (n != null && "step".equals(n.path("kind").asText())) {
                out.add(new StepRecord(n.path("global_step").asLong(), n.path("loss").asDouble(), n.path("lr").asDouble()));
            }
        }
        return out;
    }

    private static void truncateAfter(Path file, long keepUpTo) throws IOException {
        List<String> lines = lines(file);
        List<String> kept = new ArrayList<>();
        for (String line : lines) {
            JsonNode n = parse(line);
            if (n != null && n.path("global_step").asLong(Long.MAX_VALUE) <= keepUpTo) kept.add(line);
        }
        if (kept.size() == lines.size()) return;
        AtomicFiles.write(file, o -> {
            for (String line : kept) o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        });
    }

    /** The log's lines; a log that is not UTF-8 text (not one we wrote) is refused, naming the file. */
    private static List<String> lines(Path file) throws IOException {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new org.maejvm.io.MalformedFileException(file, "the training log is not UTF-8 text; move it away "
                    + "or delete it to start a new log", e);
        }
    }

    private static JsonNode parse(String line) {
        if (line.isBlank()) return null;
        try {
            JsonNode n = JSON.readTree(line);
            return n != null && n.isObject() ? n : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static double round(double v) {
        return Math.round(v * 10.0) / 10.0;
    }
}
