package org.maejvm.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.maejvm.io.Safetensors;
import org.maejvm.model.CaeConfig;
import org.maejvm.model.CaeModel;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.MaskPlan;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.HostTensor;
import org.maejvm.tensor.Tensor;

/**
 * Replays a CAE fixture of tools/fixtures/make_cae_fixtures.py: loads the initial weights (teacher included), runs
 * one forward with the fixture's masks and drop-path keep masks (which also moves the teacher) and one backward,
 * and compares loss terms,
 * latents, prediction, every gradient and the teacher after its EMA step with PyTorch's.
 */
public final class CaeParityCheck {
    private static final String KEEP = "keep.";

    private CaeParityCheck() {}

    /** The encoder shape and the CAE settings of a fixture's config.json. */
    public record Config(MaeConfig model, CaeConfig cae) {}

    public static Config readConfig(Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) throw new IOException("fixture file not found: " + file);
        JsonNode j = new ObjectMapper().readTree(file.toFile());
        int d = j.path("embed_dim").asInt(), heads = j.path("num_heads").asInt();
        MaeConfig model = new MaeConfig(j.path("img_size").asInt(), j.path("patch_size").asInt(), j.path("in_chans").asInt(),
                d, j.path("depth").asInt(), heads, d, j.path("decoder_depth").asInt(), heads,
                j.path("mlp_ratio").asDouble(), j.path("norm_pix_loss").asBoolean());
        CaeConfig cae = new CaeConfig(j.path("regressor_depth").asInt(), j.path("decoder_depth").asInt(),
                j.path("decoder_num_heads").asInt(), j.path("layer_scale_init_value").asDouble(),
                j.path("decoder_layer_scale_init_value").asDouble(), j.path("align_loss_weight").asDouble(),
                j.path("base_momentum").asDouble(), CaeConfig.PIXELS, j.path("decoder_embed_dim").asInt(0),
                j.path("drop_path").asDouble(0));
        return new Config(model.validate(), cae.validate(model));
    }

    public static List<TensorComparison> run(Path dir, Backend backend, double tolerance) throws IOException {
        Config c = readConfig(dir);
        Map<String, HostTensor> weights = Safetensors.read(dir.resolve("model.safetensors"));
        Map<String, HostTensor> inputs = Safetensors.read(dir.resolve("inputs.safetensors"));
        Map<String, HostTensor> expected = Safetensors.read(dir.resolve("expected.safetensors"));
        CaeModel model = new CaeModel(c.model(), c.cae(), backend);
        model.parameters().load(weights, true);
        HostTensor imgs = inputs.get("imgs"), maskT = inputs.get("mask");
        int b = imgs.dim(0), l = c.model().numPatches();
        int[] maskInts = maskT.ints;
        boolean[] masked = new boolean[maskInts.length];
        for (int i = 0; i < masked.length; i++) masked[i] = maskInts[i] != 0;
        // Drop-path keep masks, one 0/1 per image for each drop path with a rate > 0 ("keep.<name>").
        Map<String, float[]> keep = new java.util.LinkedHashMap<>();
        inputs.forEach((k, v) -> {
            if (k.startsWith(KEEP)) keep.put(k.substring(KEEP.length()), v.data);
        });
        Tensor x = backend.fromHost(imgs.data, imgs.shape());
        float loss = model.forward(x, MaskPlan.fromMasked(masked, b, l), keep);
        List<TensorComparison> out = new ArrayList<>();
        out.add(scalar("loss", loss, expected, tolerance));
        out.add(scalar("loss_main", model.lossMain(), expected, tolerance));
        out.add(scalar("loss_align", model.lossAlign(), expected, tolerance));
        out.add(tensor("pred", backend.toHost(model.pred()), expected, tolerance));
        out.add(tensor("latent_pred", backend.toHost(model.latentPred()), expected, tolerance));
        out.add(tensor("latent_target", backend.toHost(model.latentTarget()), expected, tolerance));
        for (Parameter p : model.parameters().all()) {
            if (p.name().startsWith("teacher.")) out.add(tensor("ema." + p.name(), backend.toHost(p.value()), expected, tolerance));
        }
        model.parameters().zeroGrad();
        model.backward(1f);
        for (Parameter p : model.parameters().trainable()) {
            String name = "grad." + p.name();
            float[] g = backend.toHost(p.grad());
            // A bias on the keys shifts every score of a query equally, which the softmax cancels: the true gradient
            // is 0 and both sides hold rounding noise, so compare against a unit scale instead of their own size.
            out.add(p.name().endsWith("norm1_k.bias") && expected.containsKey(name)
                    ? zeroByConstruction(name, g, expected.get(name).data, tolerance)
                    : tensor(name, g, expected, tolerance));
        }
        for (String k : expected.keySet()) {
            if (k.startsWith("grad.") && !model.parameters().get(k.substring(5)).trainable()) {
                out.add(new TensorComparison(k + " (trainable in PyTorch, fixed here)", 0, Double.NaN, Double.NaN, tolerance));
            }
        }
        return out;
    }

    private static TensorComparison zeroByConstruction(String name, float[] actual, float[] expected, double tol) {
        double worst = 0;
        for (float v : actual) worst = Math.max(worst, Math.abs(v));
        for (float v : expected) worst = Math.max(worst, Math.abs(v));
        return new TensorComparison(name + " (zero by construction)", actual.length, worst, worst, tol);
    }

    private static TensorComparison scalar(String name, float actual, Map<String, HostTensor> expected, double tol) {
        return tensor(name, new float[] {actual}, expected, tol);
    }

    private static TensorComparison tensor(String name, float[] actual, Map<String, HostTensor> expected, double tol) {
        HostTensor e = expected.get(name);
        if (e == null) return new TensorComparison(name + " (missing in the fixture)", 0, Double.NaN, Double.NaN, tol);
        return TensorComparison.of(name, actual, e.data, tol);
    }
}
