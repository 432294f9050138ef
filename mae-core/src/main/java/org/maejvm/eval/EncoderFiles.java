package org.maejvm.eval;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.maejvm.io.MalformedWeightsException;
import org.maejvm.io.PthReader;
import org.maejvm.io.Safetensors;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.MaeModel;
import org.maejvm.nn.LoadReport;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.HostTensor;
import org.maejvm.viz.ModelFiles;

/**
 * Opens an MAE encoder for feature extraction from a pretraining checkpoint, a safetensors weights file or a
 * PyTorch {@code .pth} (official {@code {'model': state_dict}} too). Loading is non-strict: the decoder and
 * optimizer tensors may be present or not; every encoder tensor must be there with its shape, or loading fails
 * and names the ones that are not.
 */
public final class EncoderFiles {
    private EncoderFiles() {}

    /** The model (encoder weights loaded; the decoder keeps its initial values), its name and the load report. */
    public record Loaded(MaeModel model, String name, LoadReport report) {}

    /**
     * Reads {@code file} onto {@code backend}. {@code config} (may be null) overrides the model config the file
     * records; a file recording none (a .pth, plain weights) needs it.
     */
    public static Loaded load(Path file, MaeConfig config, Backend backend) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "checkpoint not found");
        boolean pth = isPyTorch(file);
        Map<String, HostTensor> weights = pth ? PthReader.readStateDict(file) : Safetensors.read(file);
        ModelFiles.Recorded recorded = pth ? null : ModelFiles.recordedConfig(file, Safetensors.readMetadata(file));
        MaeConfig chosen = config != null ? config : recorded != null ? recorded.config() : null;
        if (chosen == null) {
            throw new IllegalArgumentException(file + " records no model config (a " + (pth ? ".pth state dict"
                    : "plain weights file") + "): name the model, e.g. --model mae_vit_base_patch16");
        }
        String name = recorded != null && recorded.name() != null ? recorded.name() : file.getFileName().toString();
        MaeModel model = new MaeModel(chosen, backend);
        LoadReport report = model.parameters().load(weights, false);
        List<String> missing = report.missing().stream().filter(EncoderFiles::isEncoder).toList();
        List<String> mismatched = report.mismatched().stream().filter(EncoderFiles::isEncoder).toList();
        if (!missing.isEmpty() || !mismatched.isEmpty()) {
            throw new MalformedWeightsException(file, "does not hold the encoder of " + name + " " + chosen
                    + (missing.isEmpty() ? "" : "; missing " + abbreviate(missing))
                    + (mismatched.isEmpty() ? "" : "; shapes differ for " + abbreviate(mismatched)));
        }
        return new Loaded(model, name, report);
    }

    /** Encoder tensors: everything but the decoder ({@code decoder_*}, {@code mask_token}). */
    static boolean isEncoder(String key) {
        return !key.startsWith("decoder") && !key.equals("mask_token");
    }

    /** PyTorch files are zip archives (or legacy pickles named .pth/.pt); anything else is read as safetensors. */
    static boolean isPyTorch(Path file) throws IOException {
        return ModelFiles.isZipOrPickle(file);
    }

    private static String abbreviate(List<String> names) {
        return names.size() <= 6 ? names.toString() : names.subList(0, 6) + " and " + (names.size() - 6) + " more";
    }
}
