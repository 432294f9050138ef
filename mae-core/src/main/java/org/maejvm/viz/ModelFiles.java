package org.maejvm.viz;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedFileException;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.StrictJson;
import org.maejvm.io.PthReader;
import org.maejvm.io.Safetensors;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.MaeModel;
import org.maejvm.nn.LoadReport;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.HostTensor;
import org.maejvm.train.PretrainConfig;

/**
 * Loads an MAE with its weights for reconstruction from a pretraining checkpoint (safetensors whose metadata
 * {@code config} holds the model config), a plain safetensors weights file or a PyTorch {@code .pth} (official
 * {@code {'model': state_dict}} checkpoints too). Only the model tensors are used: optimizer state is ignored.
 * The model needs its decoder: encoder-only checkpoints (the official fine-tuning starting points) cannot reconstruct.
 */
public final class ModelFiles {
    private ModelFiles() {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** A model ready to run, its display name, and the file tensors that were not model weights. */
    public record Loaded(MaeModel model, String name, int ignoredTensors) {}

    /** A model config and its name as recorded in a checkpoint's metadata. */
    public record Recorded(MaeConfig config, String name) {}

    /**
     * Reads {@code file} and builds the model on {@code backend}. {@code config} (may be null) overrides the config
     * the file records; a file that records none (a .pth or plain weights) needs it. {@code normPix} (may be null)
     * says whether the model was trained with norm_pix_loss, when the file does not say.
     */
    public static Loaded load(Path file, MaeConfig config, String name, Boolean normPix, Backend backend)
            throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "checkpoint not found");
        boolean pth = isZipOrPickle(file);
        Map<String, HostTensor> weights = pth ? PthReader.readStateDict(file) : Safetensors.read(file);
        if (org.maejvm.model.CaeWeights.isCae(weights)) {
            throw new IllegalArgumentException(file + " is a CAE checkpoint: its decoder predicts only the masked patches "
                    + "from regressed latents, which this MAE reconstruction does not draw; its encoder serves the "
                    + "downstream commands (extract, fine-tuning, probing)");
        }
        Recorded recorded = pth ? null : recordedConfig(file, Safetensors.readMetadata(file));
        MaeConfig chosen = config != null ? config : recorded != null ? recorded.config() : null;
        if (chosen == null) {
            throw new IllegalArgumentException(file + " records no model config (a " + (pth ? ".pth state dict" : "plain weights file")
                    + "): name the model with --model (e.g. mae_vit_base_patch16) or give a config JSON with --config");
        }
        if (normPix != null) chosen = chosen.withNormPixLoss(normPix);
        String shownName = name != null ? name : recorded != null && recorded.name() != null ? recorded.name()
                : file.getFileName().toString();
        MaeModel model = new MaeModel(chosen, backend);
        LoadReport report = model.parameters().load(weights, false);
        List<String> problems = new ArrayList<>();
        if (!report.mismatched().isEmpty()) problems.add("shapes differ: " + report.mismatched());
        if (!report.missing().isEmpty()) {
            boolean noDecoder = report.missing().stream().allMatch(k -> k.startsWith("decoder") || k.equals("mask_token"));
            problems.add(noDecoder
                    ? "it has no decoder (" + report.missing().size() + " decoder tensors missing): an encoder-only "
                    + "checkpoint cannot reconstruct images; use one saved with its decoder"
                    : "missing tensors " + abbreviate(report.missing()));
        }
        if (!problems.isEmpty()) {
            throw new MalformedWeightsException(file, "does not fit the model " + shownName + ": " + String.join("; ", problems));
        }
        return new Loaded(model, shownName, report.unexpected().size());
    }

    /**
     * The model config in a checkpoint's metadata: a {@code config} entry holding either a model config
     * ({@code img_size}, ...) or a {@link PretrainConfig} (model under {@code model}; its {@code model_name} and
     * {@code norm_pix_loss} are used too). Null when there is none.
     */
    public static Recorded recordedConfig(Path file, Map<String, String> metadata) throws MalformedWeightsException {
        String json = metadata.get("config");
        if (json == null) return null;
        try {
            JsonNode root = JSON.readTree(json);
            if (root.has("img_size")) return new Recorded(JSON.treeToValue(root, MaeConfig.class).validate(), null);
            if (!root.has("model")) {
                throw new MalformedWeightsException(file, "metadata 'config' has neither a model config nor one under 'model'");
            }
            // A pretraining checkpoint: its config's norm_pix_loss is the one the model was trained with.
            PretrainConfig training = PretrainConfig.fromJson(json);
            return new Recorded(training.modelConfig().validate(), training.modelName());
        } catch (IOException | IllegalArgumentException e) {
            if (e instanceof MalformedWeightsException m) throw m;
            throw new MalformedWeightsException(file, "metadata 'config' is not a valid config: " + e.getMessage(), e);
        }
    }

    /**
     * A model config from a JSON file with the official field names (img_size, patch_size, ...), at the top level or
     * under {@code model} (a pretraining config). Strict: unknown fields and wrong types are refused, except the
     * {@code mask_ratio} and {@code adamw} entries of a parity fixture's config.json.
     */
    public static MaeConfig readConfig(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "config file not found");
        if (Files.size(file) > 1 << 20) {
            throw new MalformedFileException(file, "is " + Files.size(file) + " bytes; a model config is JSON of at most 1 MB");
        }
        JsonNode root;
        try {
            root = StrictJson.MAPPER.readTree(StrictJson.utf8(file, Files.readAllBytes(file), "the config"));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new MalformedFileException(file, "not valid JSON: " + StrictJson.describe(e), e);
        }
        JsonNode node = root != null && root.has("img_size") ? root : root == null ? null : root.get("model");
        if (node == null || !node.isObject()) {
            throw new MalformedFileException(file, "expected a model config with img_size, patch_size, in_chans, "
                    + "embed_dim, depth, num_heads, decoder_embed_dim, decoder_depth, decoder_num_heads, mlp_ratio");
        }
        com.fasterxml.jackson.databind.node.ObjectNode fields = ((com.fasterxml.jackson.databind.node.ObjectNode) node).deepCopy();
        if (node == root) fields.remove(List.of("mask_ratio", "adamw"));
        String badNull = StrictJson.explicitNull(fields, java.util.Set.of(), java.util.Set.of());
        if (badNull != null) throw new MalformedFileException(file, badNull);
        try {
            return StrictJson.MAPPER.treeToValue(fields, MaeConfig.class).validate();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new MalformedFileException(file, StrictJson.describe(e), e);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file, e.getMessage(), e);
        }
    }

    /**
     * PyTorch files are zip archives, or legacy pickles named .pth/.pt; anything else is read as safetensors
     * (whose first bytes are a header length, so they cannot be told apart from a pickle by content alone).
     */
    public static boolean isZipOrPickle(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            if (n < 4) throw new MalformedWeightsException(file, "a file of " + n + " bytes is not a checkpoint");
        }
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        // A zip's local file header is PK 3 4; "PK" alone is also the start of a safetensors header length of
        // 0x..4B50 bytes (a CAE checkpoint had one).
        return (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) || name.endsWith(".pth") || name.endsWith(".pt");
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 6 ? names.toString() : names.subList(0, 6) + " and " + (names.size() - 6) + " more";
    }
}
