package org.maejvm.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.io.PthReader;
import org.maejvm.io.Safetensors;
import org.maejvm.model.MaeConfig;
import org.maejvm.tensor.HostTensor;

/**
 * A parity fixture directory: one MAE pretraining step computed elsewhere (PyTorch), in the format documented in
 * tools/fixtures/README.md: config.json, model.safetensors (or a .pth), inputs.safetensors, expected.safetensors.
 */
public record ParityFixture(Path dir, MaeConfig config, double maskRatio, AdamWConfig adamw,
                            Map<String, HostTensor> weights, HostTensor imgs, HostTensor noise,
                            Map<String, HostTensor> expected) {

    /** AdamW hyper-parameters of the fixture's optimizer step. */
    public record AdamWConfig(float lr, float beta1, float beta2, float eps, float weightDecay) {}

    /** Loads a fixture; {@code pth}, when given, replaces model.safetensors as the source of initial weights. */
    public static ParityFixture load(Path dir, Path pth) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("fixture directory not found: " + dir);
        Path configFile = require(dir.resolve("config.json"));
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(configFile.toFile());
        } catch (IOException e) {
            throw new IOException(configFile + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")", e);
        }
        MaeConfig config;
        try {
            config = new MaeConfig(intField(json, "img_size"), intField(json, "patch_size"), intField(json, "in_chans"),
                    intField(json, "embed_dim"), intField(json, "depth"), intField(json, "num_heads"),
                    intField(json, "decoder_embed_dim"), intField(json, "decoder_depth"), intField(json, "decoder_num_heads"),
                    numField(json, "mlp_ratio"), json.path("norm_pix_loss").asBoolean(false)).validate();
        } catch (IllegalArgumentException e) {
            throw new IOException(configFile + ": " + e.getMessage(), e);
        }
        double maskRatio = numField(json, "mask_ratio");
        JsonNode a = json.path("adamw");
        if (!a.isObject() || !a.path("betas").isArray() || a.path("betas").size() != 2) {
            throw new IOException(configFile + ": 'adamw' must be an object with lr, betas [b1, b2], eps, weight_decay");
        }
        AdamWConfig adamw = new AdamWConfig((float) numField(a, "lr"), (float) a.path("betas").get(0).asDouble(),
                (float) a.path("betas").get(1).asDouble(), (float) numField(a, "eps"), (float) numField(a, "weight_decay"));

        Map<String, HostTensor> weights = pth != null
                ? PthReader.readStateDict(require(pth))
                : Safetensors.read(require(dir.resolve("model.safetensors")));
        LinkedHashMap<String, HostTensor> inputs = Safetensors.read(require(dir.resolve("inputs.safetensors")));
        Map<String, HostTensor> expected = Safetensors.read(require(dir.resolve("expected.safetensors")));
        for (String k : List.of("imgs", "noise")) {
            if (!inputs.containsKey(k)) throw new IOException(dir.resolve("inputs.safetensors") + ": missing tensor '" + k + "'");
        }
        for (String k : List.of("loss", "pred", "mask", "ids_restore")) {
            if (!expected.containsKey(k)) throw new IOException(dir.resolve("expected.safetensors") + ": missing tensor '" + k + "'");
        }
        return new ParityFixture(dir, config, maskRatio, adamw, weights, inputs.get("imgs"), inputs.get("noise"), expected);
    }

    private static Path require(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("fixture file not found: " + file);
        return file;
    }

    private static int intField(JsonNode json, String name) throws IOException {
        JsonNode n = json.get(name);
        if (n == null || !n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IOException("config.json: '" + name + "' must be an integer, got " + n);
        }
        return n.intValue();
    }

    private static double numField(JsonNode json, String name) throws IOException {
        JsonNode n = json.get(name);
        if (n == null || !n.isNumber()) throw new IOException("config.json: '" + name + "' must be a number, got " + n);
        return n.doubleValue();
    }
}
