package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import me.tongfei.progressbar.ProgressBar;
import org.maejvm.api.Downstream;
import org.maejvm.data.DataLoader;
import org.maejvm.data.Dataset;
import org.maejvm.data.EvalTransform;
import org.maejvm.model.EncoderWeights;
import org.maejvm.eval.FeatureSet;
import org.maejvm.eval.Pooling;
import org.maejvm.model.MaeConfig;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.ModelPresets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mae extract}: encoder features of a data set into one safetensors file, for retrieval or clustering. */
@Command(name = "extract", sortOptions = false, description = {
    "Encode every image of a data set with a pretrained MAE encoder (no masking) and write one feature row per "
            + "image: features [N, D] (F32), labels [N] (I32) and the file of each row (metadata 'files').",
    "The file is written atomically; load it in Python with safetensors.torch.load_file."
})
final class ExtractCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE",
            description = "A pretraining checkpoint (e.g. mae-demo/checkpoint-last.safetensors), safetensors weights or a PyTorch .pth.")
    Path checkpoint;

    @Option(names = "--data", paramLabel = "DIR|fashion-mnist", defaultValue = "fashion-mnist",
            description = "'fashion-mnist' (the bundled set; default), an image folder or a CIFAR-10 binary folder.")
    String data;

    @Option(names = "--split", defaultValue = "train", description = "train (default) or val: which part of --data.")
    String split;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "features.safetensors",
            description = "Output file (default features.safetensors).")
    Path out;

    @Option(names = "--pool", defaultValue = "cls", description = "cls (default: the cls token) or mean (mean of the patch tokens).")
    String pool;

    @Option(names = "--model", paramLabel = "NAME", description = "Model preset, for files that record no config (.pth, plain weights).")
    String model;

    @Option(names = "--batch-size", defaultValue = "64", description = "Images per forward pass (default 64).")
    int batchSize;

    @Option(names = "--limit", description = "Use only the first N images.")
    Integer limit;

    @Option(names = "--crop-pct", description = "Eval transform crop ratio (default 1.0 for fashion-mnist/CIFAR, else 0.875 as official).")
    Double cropPct;

    @Option(names = "--backend", defaultValue = "simd", description = "simd (default) or reference.")
    String backend;

    @Option(names = "--threads", defaultValue = "0", description = "Compute threads (0 = all cores; default).")
    int threads;

    @Option(names = "--no-progress", description = "No progress bar.")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        Pooling pooling = Pooling.parse(pool);
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        MaeConfig config = model == null ? null : ModelPresets.named(model);
        try (Backend be = Backends.create(backend, threads)) {
            EncoderWeights.Loaded loaded = EncoderWeights.loadMae(checkpoint, config, be);
            MaeConfig mc = loaded.model().config();
            DataChoice choice = new DataChoice(data, DataChoice.Split.parse(split));
            Dataset ds = choice.open(mc.inChans(), limit);
            DataLoader loader = new DataLoader(ds, new EvalTransform(mc.imgSize(), choice.cropPct(cropPct, mc.imgSize()),
                    ds.normalization()), batchSize, 0L, false, false);
            o.printf(Locale.ROOT, "extracting %s features (dim %d) of %,d images with %s (%s backend)%n",
                    pooling.label(), mc.embedDim(), ds.size(), loaded.name(), be.name());
            o.flush();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("checkpoint", checkpoint.getFileName().toString());
            meta.put("model", loaded.name());
            meta.put("data", data);
            meta.put("split", split);
            FeatureSet set;
            try (ProgressBar bar = noProgress ? null : Progress.bar("extract", ds.size())) {
                IntConsumer progress = bar == null ? null : bar::stepTo;
                set = Downstream.extractFeatures(loaded.model(), loader, pooling, meta, progress);
            }
            set.save(out);
            o.printf(Locale.ROOT, "wrote %s: features [%d, %d], labels [%d]%n", out, set.count(), set.dim(), set.count());
            o.flush();
            return 0;
        }
    }
}
