package org.maejvm.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.PthReader;
import org.maejvm.io.Safetensors;
import org.maejvm.nn.LoadReport;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.HostTensor;
import org.maejvm.viz.ModelFiles;

/**
 * The one way to load a pretrained encoder: from our MAE or CAE pretraining checkpoint or any safetensors weights
 * file, or from an official PyTorch {@code .pth} ({@code {'model': state_dict}} or a bare state_dict), into a
 * {@link VitClassifier} (fine-tuning and probing, as main_finetune.py / main_linprobe.py do) or into an
 * {@link MaeModel} for feature extraction ({@link #loadMae}). A CAE state_dict becomes a plain ViT through
 * {@link CaeWeights#toVit} first. Loading into a classifier is non-strict: the returned {@link LoadReport} lists
 * what the model lacks (normally the head and fc_norm) and what the file had extra; decoder tensors,
 * {@code mask_token} and optimizer state are dropped silently. When the file's patch grid differs from the model's,
 * {@code pos_embed} is resized as the official {@code interpolate_pos_embed} (bicubic, cls row kept).
 */
public final class EncoderWeights {
    private EncoderWeights() {}

    /** The tensors of a weights file under their state_dict names (a .pth's {@code model} dict unwrapped). */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "weights file not found");
        return ModelFiles.isZipOrPickle(file) ? PthReader.readStateDict(file) : Safetensors.read(file);
    }

    /** An encoder opened for feature extraction: the model (decoder left at its init), its name, the load report. */
    public record Loaded(MaeModel model, String name, LoadReport report) {}

    /**
     * Reads {@code file} into a new {@link MaeModel} on {@code backend} for feature extraction. {@code config} (may
     * be null) overrides the model config the file records; a file recording none (a .pth, plain weights) needs it.
     * Every encoder tensor must be there with its shape (pos_embed is interpolated to the config's grid), or loading
     * fails naming the ones that are not; the decoder may be missing.
     */
    public static Loaded loadMae(Path file, MaeConfig config, Backend backend) throws IOException {
        LinkedHashMap<String, HostTensor> weights = read(file);
        ModelFiles.Recorded recorded = ModelFiles.isZipOrPickle(file) ? null
                : ModelFiles.recordedConfig(file, Safetensors.readMetadata(file));
        MaeConfig chosen = config != null ? config : recorded != null ? recorded.config() : null;
        if (chosen == null) {
            throw new IllegalArgumentException(file + " records no model config (a .pth state dict or plain weights): "
                    + "name the model, e.g. --model mae_vit_base_patch16");
        }
        String name = recorded != null && recorded.name() != null ? recorded.name() : file.getFileName().toString();
        MaeModel model = new MaeModel(chosen, backend);
        Map<String, HostTensor> vit = CaeWeights.isCae(weights) ? CaeWeights.toVit(weights) : weights;
        HostTensor pos = vit.get("pos_embed");
        int grid = chosen.imgSize() / chosen.patchSize();
        if (pos != null && pos.data != null && pos.rank() == 3 && pos.dim(2) == chosen.embedDim() && pos.dim(1) != 1 + grid * grid) {
            vit = new LinkedHashMap<>(vit);
            try {
                vit.put("pos_embed", interpolatePosEmbed(pos, 1, grid));
            } catch (IllegalArgumentException e) {
                throw new MalformedWeightsException(file, e.getMessage(), e);
            }
        }
        LoadReport report = model.parameters().load(vit, false);
        List<String> missing = report.missing().stream().filter(k -> !pretrainingOnly(k)).toList();
        List<String> mismatched = report.mismatched().stream().filter(k -> !pretrainingOnly(k)).toList();
        if (!missing.isEmpty() || !mismatched.isEmpty()) {
            throw new MalformedWeightsException(file, "does not hold the encoder of " + name + " " + chosen
                    + (missing.isEmpty() ? "" : "; missing " + abbreviate(missing))
                    + (mismatched.isEmpty() ? "" : "; shapes differ for " + abbreviate(mismatched)));
        }
        return new Loaded(model, name, report);
    }

    /**
     * The MAE config a file records (our pretraining checkpoints and weights saved with a config), or null (a .pth,
     * plain weights): then the caller names the model.
     */
    public static MaeConfig recordedConfig(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "weights file not found");
        if (ModelFiles.isZipOrPickle(file)) return null;
        ModelFiles.Recorded r = ModelFiles.recordedConfig(file, Safetensors.readMetadata(file));
        return r == null ? null : r.config();
    }

    /** Reads {@code file} and loads it into {@code model}; see {@link #load(VitClassifier, Map)}. */
    public static LoadReport load(VitClassifier model, Path file) throws IOException {
        LinkedHashMap<String, HostTensor> weights = read(file);
        try {
            return load(model, weights);
        } catch (IllegalArgumentException e) {
            throw new MalformedWeightsException(file, e.getMessage(), e);
        }
    }

    /**
     * Loads the matching tensors into the model, non-strict. Pretraining-only tensors (decoder, mask_token, optimizer
     * moments) are ignored without being reported; pos_embed is interpolated to the model's patch grid when needed.
     */
    public static LoadReport load(VitClassifier model, Map<String, HostTensor> weights) {
        if (CaeWeights.isCae(weights)) weights = CaeWeights.toVit(weights); // a CAE encoder as a plain ViT, exactly
        LinkedHashMap<String, HostTensor> kept = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : weights.entrySet()) {
            if (!pretrainingOnly(e.getKey())) kept.put(e.getKey(), e.getValue());
        }
        HostTensor pos = kept.get("pos_embed");
        int[] target = model.parameters().get("pos_embed").shape();
        if (pos != null && pos.data != null && pos.rank() == 3 && pos.dim(2) == target[2] && pos.dim(1) != target[1]) {
            int extra = target[1] - model.config().numPatches();
            kept.put("pos_embed", interpolatePosEmbed(pos, extra, model.config().gridSize()));
        }
        return model.parameters().load(kept, false);
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 6 ? names.toString() : names.subList(0, 6) + " and " + (names.size() - 6) + " more";
    }

    /** Tensors only pretraining uses: the decoder, the mask token and our checkpoints' optimizer moments. */
    public static boolean pretrainingOnly(String name) {
        return name.startsWith("decoder_") || name.equals("mask_token") || name.startsWith("optimizer.");
    }

    /**
     * The official interpolate_pos_embed: pos_embed [1, extra + g*g, D] to [1, extra + n*n, D], the first
     * {@code extra} rows (cls) kept, the grid resized with torch's bicubic interpolation (a = -0.75,
     * align_corners=False, borders clamped, no antialiasing). Returned unchanged when the grid already has size n.
     */
    public static HostTensor interpolatePosEmbed(HostTensor posEmbed, int extraTokens, int newGrid) {
        if (posEmbed.rank() != 3 || posEmbed.dim(0) != 1 || posEmbed.data == null) {
            throw new IllegalArgumentException("pos_embed must be a float tensor [1, tokens, dim], got " + posEmbed);
        }
        int tokens = posEmbed.dim(1), dim = posEmbed.dim(2);
        int grid = (int) Math.round(Math.sqrt(tokens - extraTokens));
        if (extraTokens < 0 || grid * grid != tokens - extraTokens || newGrid <= 0) {
            throw new IllegalArgumentException("pos_embed " + posEmbed + " is not " + extraTokens
                    + " extra token(s) plus a square patch grid, so it cannot be resized to a " + newGrid + "x" + newGrid + " grid");
        }
        if (grid == newGrid) return posEmbed;
        float[] src = posEmbed.data;
        float[] out = new float[(extraTokens + newGrid * newGrid) * dim];
        System.arraycopy(src, 0, out, 0, extraTokens * dim);
        float[] plane = new float[grid * grid], resized = new float[newGrid * newGrid];
        for (int c = 0; c < dim; c++) {
            for (int t = 0; t < grid * grid; t++) plane[t] = src[(extraTokens + t) * dim + c];
            bicubic(plane, grid, newGrid, resized);
            for (int t = 0; t < newGrid * newGrid; t++) out[(extraTokens + t) * dim + c] = resized[t];
        }
        return new HostTensor(out, 1, extraTokens + newGrid * newGrid, dim);
    }

    /** torch.nn.functional.interpolate(mode='bicubic', align_corners=False) of one square plane. */
    static void bicubic(float[] in, int inSize, int outSize, float[] out) {
        double scale = (double) inSize / outSize;
        int[][] idx = new int[outSize][4];
        double[][] w = new double[outSize][4];
        for (int o = 0; o < outSize; o++) {
            double real = (o + 0.5) * scale - 0.5; // area_pixel_compute_source_index, cubic: not clamped at 0
            int i0 = (int) Math.floor(real);
            double t = real - i0;
            w[o] = cubicWeights(t);
            for (int k = 0; k < 4; k++) idx[o][k] = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
        }
        for (int oy = 0; oy < outSize; oy++) {
            for (int ox = 0; ox < outSize; ox++) {
                double acc = 0;
                for (int ky = 0; ky < 4; ky++) {
                    double row = 0;
                    int base = idx[oy][ky] * inSize;
                    for (int kx = 0; kx < 4; kx++) row += w[ox][kx] * in[base + idx[ox][kx]];
                    acc += w[oy][ky] * row;
                }
                out[oy * outSize + ox] = (float) acc;
            }
        }
    }

    /** Keys's cubic convolution weights with a = -0.75 (torch) for the 4 taps at offsets -1, 0, 1, 2. */
    private static double[] cubicWeights(double t) {
        double a = -0.75;
        return new double[] {cubicFar(t + 1, a), cubicNear(t, a), cubicNear(1 - t, a), cubicFar(2 - t, a)};
    }

    private static double cubicNear(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double cubicFar(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
}
