package org.maejvm.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.Safetensors;
import org.maejvm.model.PretrainModel;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.optim.AdamW;
import org.maejvm.tensor.DType;
import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Shapes;

/**
 * A pretraining checkpoint in one safetensors file: every model tensor under its official name (encoder and
 * decoder, so the file loads as a PyTorch state_dict), the AdamW moments as {@code optimizer.exp_avg.<name>} and
 * {@code optimizer.exp_avg_sq.<name>}, and in the metadata the position to continue from, the optimizer step count,
 * the seed and the full config as JSON. Masking noise and data order are derived from (seed, counters), so these
 * counters are all the random state there is. Written atomically: a crash leaves the previous file intact.
 *
 * @param position where training continues: data step {@code step} of {@code epoch} ({@code step} 0 after a
 *                 finished epoch), after {@code globalStep} data steps in all
 */
public record Checkpoint(Path file, PretrainConfig config, Position position, int optimizerStep,
                         Map<String, HostTensor> tensors) {

    public static final String FORMAT = "mae-jvm-pretrain";
    public static final String FORMAT_VERSION = "1";
    public static final String EXP_AVG = "optimizer.exp_avg.";
    public static final String EXP_AVG_SQ = "optimizer.exp_avg_sq.";

    /** Where a run stands: the next data step is {@code step} of {@code epoch}; {@code globalStep} steps are done. */
    public record Position(int epoch, int step, long globalStep) {
        public Position {
            if (epoch < 0 || step < 0 || globalStep < 0) {
                throw new IllegalArgumentException("position counters must be >= 0, got epoch " + epoch + " step "
                        + step + " global_step " + globalStep);
            }
        }
    }

    /** Writes the model, the optimizer state and the position, atomically. */
    public static void save(Path file, PretrainConfig config, Position position, PretrainModel model, AdamW optimizer)
            throws IOException {
        Backend backend = model.backend();
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>(model.parameters().stateDict());
        for (AdamW.Slot s : optimizer.slots()) {
            tensors.put(EXP_AVG + s.param().name(), new HostTensor(backend.toHost(s.expAvg()), s.param().shape()));
        }
        for (AdamW.Slot s : optimizer.slots()) {
            tensors.put(EXP_AVG_SQ + s.param().name(), new HostTensor(backend.toHost(s.expAvgSq()), s.param().shape()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("format_version", FORMAT_VERSION);
        meta.put("epoch", Integer.toString(position.epoch()));
        meta.put("step", Integer.toString(position.step()));
        meta.put("global_step", Long.toString(position.globalStep()));
        meta.put("optimizer_step", Integer.toString(optimizer.stepCount()));
        meta.put("seed", Long.toString(config.seed()));
        meta.put("config", config.toJson());
        Safetensors.write(file, tensors, meta);
    }

    /** Reads and checks the metadata and config of a checkpoint; tensors are checked against a model on restore. */
    public static Checkpoint read(Path file) throws IOException {
        Map<String, String> meta = Safetensors.readMetadata(file);
        String format = meta.get("format");
        if (!FORMAT.equals(format)) {
            throw new MalformedWeightsException(file, "not a pretraining checkpoint: metadata 'format' is "
                    + (format == null ? "missing" : "'" + format + "'") + ", expected '" + FORMAT + "'");
        }
        if (!FORMAT_VERSION.equals(meta.get("format_version"))) {
            throw new MalformedWeightsException(file, "checkpoint format_version " + meta.get("format_version")
                    + " is not supported; this version reads " + FORMAT_VERSION);
        }
        String json = required(file, meta, "config");
        PretrainConfig config;
        try {
            config = PretrainConfig.fromJson(json).validate();
        } catch (IllegalArgumentException e) {
            throw new MalformedWeightsException(file, "metadata 'config' is bad: " + e.getMessage(), e);
        }
        Position position;
        try {
            position = new Position(intField(file, meta, "epoch"), intField(file, meta, "step"),
                    longField(file, meta, "global_step"));
        } catch (IllegalArgumentException e) {
            throw new MalformedWeightsException(file, e.getMessage());
        }
        int optimizerStep = intField(file, meta, "optimizer_step");
        if (optimizerStep < 0) throw new MalformedWeightsException(file, "metadata 'optimizer_step' must be >= 0");
        long seed = longField(file, meta, "seed");
        if (seed != config.seed()) {
            throw new MalformedWeightsException(file, "metadata 'seed' " + seed + " differs from the config's seed "
                    + config.seed());
        }
        return new Checkpoint(file, config, position, optimizerStep, Safetensors.read(file));
    }

    /**
     * Loads the weights into {@code model} and the moments and step count into {@code optimizer}, after checking
     * that every tensor is present with the right shape (nothing is changed when one is not).
     */
    public void restore(PretrainModel model, AdamW optimizer) throws MalformedWeightsException {
        List<String> problems = new ArrayList<>();
        for (Parameter p : model.parameters().all()) check(problems, p.name(), p.shape());
        for (AdamW.Slot s : optimizer.slots()) {
            check(problems, EXP_AVG + s.param().name(), s.param().shape());
            check(problems, EXP_AVG_SQ + s.param().name(), s.param().shape());
        }
        if (!problems.isEmpty()) {
            throw new MalformedWeightsException(file, "does not fit the model: " + String.join("; ", problems));
        }
        model.parameters().load(modelWeights(), true);
        Backend backend = model.backend();
        for (AdamW.Slot s : optimizer.slots()) {
            backend.upload(tensors.get(EXP_AVG + s.param().name()).data, s.expAvg());
            backend.upload(tensors.get(EXP_AVG_SQ + s.param().name()).data, s.expAvgSq());
        }
        optimizer.setStepCount(optimizerStep);
    }

    /** The model tensors alone (a state_dict with official names). */
    public Map<String, HostTensor> modelWeights() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (!k.startsWith("optimizer.")) out.put(k, v);
        });
        return out;
    }

    private void check(List<String> problems, String name, int[] shape) {
        HostTensor t = tensors.get(name);
        if (t == null) {
            problems.add("missing tensor '" + name + "' " + Shapes.str(shape));
        } else if (t.dtype() != DType.F32 || !Arrays.equals(t.shape(), shape)) {
            problems.add("tensor '" + name + "' is " + t.dtype() + Shapes.str(t.shape()) + ", expected F32"
                    + Shapes.str(shape));
        }
    }

    private static String required(Path file, Map<String, String> meta, String key) throws MalformedWeightsException {
        String v = meta.get(key);
        if (v == null) throw new MalformedWeightsException(file, "checkpoint metadata has no '" + key + "'");
        return v;
    }

    private static int intField(Path file, Map<String, String> meta, String key) throws MalformedWeightsException {
        String v = required(file, meta, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new MalformedWeightsException(file, "metadata '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    private static long longField(Path file, Map<String, String> meta, String key) throws MalformedWeightsException {
        String v = required(file, meta, key);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new MalformedWeightsException(file, "metadata '" + key + "' must be an integer, got '" + v + "'");
        }
    }
}
