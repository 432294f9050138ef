package org.maejvm.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.Safetensors;
import org.maejvm.model.ClassifierConfig;
import org.maejvm.model.VitClassifier;
import org.maejvm.nn.LoadReport;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Shapes;
import org.maejvm.tensor.Tensor;

/**
 * A fine-tuning or linear-probing checkpoint in one safetensors file: the classifier's tensors under their official
 * names (models_vit.py, so the file loads as a PyTorch state_dict), the optimizer state under {@code optimizer.*},
 * and in the metadata the classifier config, the run config, the position, the best top-1 so far and the class
 * names. Written atomically.
 */
public record DownstreamCheckpoint(Path file, ClassifierConfig classifier, DownstreamConfig config,
                                   Checkpoint.Position position, int optimizerStep, double bestAcc1, int bestEpoch,
                                   List<String> classNames, Map<String, HostTensor> tensors) {
    public static final String FORMAT = "mae-jvm-downstream";
    private static final ObjectMapper JSON = new ObjectMapper();

    static void save(Path file, DownstreamConfig config, VitClassifier model, Map<String, Tensor> optimizer,
                     int optimizerStep, Checkpoint.Position position, double bestAcc1, int bestEpoch,
                     List<String> classNames) throws IOException {
        Backend b = model.backend();
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>(model.parameters().stateDict());
        optimizer.forEach((k, t) -> tensors.put(k, new HostTensor(b.toHost(t), t.shape())));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("classifier", JSON.writeValueAsString(model.config()));
        meta.put("config", config.toJson());
        meta.put("epoch", Integer.toString(position.epoch()));
        meta.put("step", Integer.toString(position.step()));
        meta.put("global_step", Long.toString(position.globalStep()));
        meta.put("optimizer_step", Integer.toString(optimizerStep));
        meta.put("best_acc1", Double.toString(bestAcc1));
        meta.put("best_epoch", Integer.toString(bestEpoch));
        meta.put("class_names", JSON.writeValueAsString(classNames));
        Safetensors.write(file, tensors, meta);
    }

    /** Reads a checkpoint written by {@link DownstreamTrainer}; says what the file is when it is not one. */
    public static DownstreamCheckpoint read(Path file) throws IOException {
        Map<String, String> meta = Safetensors.readMetadata(file);
        if (!FORMAT.equals(meta.get("format"))) {
            throw new MalformedWeightsException(file, "not a fine-tuning / probing checkpoint (metadata 'format' is "
                    + meta.get("format") + ", expected '" + FORMAT + "')"
                    + (Checkpoint.FORMAT.equals(meta.get("format")) ? "; it is a pretraining checkpoint: fine-tune or "
                    + "probe it first (mae finetune / mae linprobe --checkpoint " + file.getFileName() + ")" : ""));
        }
        try {
            ClassifierConfig classifier = JSON.readValue(meta.get("classifier"), ClassifierConfig.class).validate();
            DownstreamConfig config = DownstreamConfig.fromJson(meta.get("config"));
            Checkpoint.Position position = new Checkpoint.Position(Integer.parseInt(meta.get("epoch")),
                    Integer.parseInt(meta.get("step")), Long.parseLong(meta.get("global_step")));
            List<String> names = JSON.readValue(meta.get("class_names"), new TypeReference<List<String>>() {});
            return new DownstreamCheckpoint(file, classifier, config, position,
                    Integer.parseInt(meta.get("optimizer_step")), Double.parseDouble(meta.get("best_acc1")),
                    Integer.parseInt(meta.get("best_epoch")), names, Safetensors.read(file));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new MalformedWeightsException(file, "bad checkpoint metadata: " + e.getMessage(), e);
        }
    }

    /** A classifier of the recorded config with the recorded weights, on {@code backend}. */
    public VitClassifier newModel(Backend backend) throws MalformedWeightsException {
        VitClassifier model = new VitClassifier(classifier, backend);
        restoreModel(model);
        return model;
    }

    /** Loads the model tensors; every model tensor must be present with its shape. */
    public void restoreModel(VitClassifier model) throws MalformedWeightsException {
        Map<String, HostTensor> weights = new LinkedHashMap<>();
        tensors.forEach((k, v) -> {
            if (!k.startsWith("optimizer.")) weights.put(k, v);
        });
        LoadReport r = model.parameters().load(weights, false);
        if (!r.missing().isEmpty() || !r.mismatched().isEmpty()) {
            throw new MalformedWeightsException(file, "does not fit the model: missing " + r.missing()
                    + ", shapes differ " + r.mismatched());
        }
    }

    /** Uploads the saved optimizer tensors into {@code state} (checked for presence and shape first). */
    void restoreOptimizer(Map<String, Tensor> state, Backend backend) throws MalformedWeightsException {
        List<String> problems = new ArrayList<>();
        state.forEach((k, t) -> {
            HostTensor h = tensors.get(k);
            if (h == null || h.data == null || !Arrays.equals(h.shape(), t.shape())) {
                problems.add(k + " " + Shapes.str(t.shape()) + (h == null ? " missing" : " is " + Shapes.str(h.shape())));
            }
        });
        if (!problems.isEmpty()) {
            throw new MalformedWeightsException(file, "optimizer state does not fit: " + String.join("; ", problems)
                    + " (was it written by the other mode, fine-tuning vs probing?)");
        }
        for (Map.Entry<String, Tensor> e : state.entrySet()) backend.upload(tensors.get(e.getKey()).data, e.getValue());
    }
}
