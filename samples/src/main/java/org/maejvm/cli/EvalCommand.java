package org.maejvm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import org.maejvm.api.Downstream;
import org.maejvm.data.DataLoader;
import org.maejvm.data.Dataset;
import org.maejvm.data.EvalTransform;
import org.maejvm.eval.EvalResult;
import org.maejvm.model.VitClassifier;
import org.maejvm.ops.Backend;
import org.maejvm.ops.Backends;
import org.maejvm.train.DownstreamCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mae eval}: top-1/top-5, loss and confusion matrix of a fine-tuned or probed classifier. */
@Command(name = "eval", sortOptions = false, description = {
    "Evaluate a classifier written by 'mae finetune' or 'mae linprobe' on validation data (official "
            + "engine_finetune.evaluate: resize + centre crop, top-1 / top-5 accuracy, mean cross-entropy).",
    "Prints the summary; writes eval.json (acc1, acc5, loss, per-class accuracy) and confusion.csv (rows: true class, "
            + "columns: predicted) to --output-dir."
})
final class EvalCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, paramLabel = "FILE",
            description = "checkpoint-best.safetensors (or -last) of mae finetune / mae linprobe.")
    Path checkpoint;

    @Option(names = "--data", paramLabel = "DIR|fashion-mnist", defaultValue = "fashion-mnist",
            description = "'fashion-mnist' (default), an image folder (its val/ sub-folder if there is one) or a CIFAR-10 folder.")
    String data;

    @Option(names = "--split", defaultValue = "val", description = "val (default) or train.") String split;
    @Option(names = "--limit", description = "Evaluate the first N images only.") Integer limit;
    @Option(names = "--batch-size", defaultValue = "128", description = "Images per forward pass (default 128).") int batchSize;
    @Option(names = "--crop-pct", description = "Eval crop ratio (default 1.0 for fashion-mnist/CIFAR, else 0.875).") Double cropPct;
    @Option(names = "--output-dir", paramLabel = "DIR", defaultValue = "eval_output", description = "Where eval.json and confusion.csv go (default ./eval_output).")
    Path outputDir;
    @Option(names = "--backend", defaultValue = "simd", description = "simd (default) or reference.") String backend;
    @Option(names = "--threads", defaultValue = "0", description = "Compute threads (0 = all cores; default).") int threads;
    @Option(names = "--no-progress", description = "No progress bar.") boolean noProgress;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        DownstreamCheckpoint c = DownstreamCheckpoint.read(checkpoint);
        try (Backend be = Backends.create(backend, threads)) {
            VitClassifier model = c.newModel(be);
            model.train(false);
            DataChoice choice = new DataChoice(data, DataChoice.Split.parse(split));
            Dataset ds = choice.open(model.config().inChans(), limit);
            if (!ds.classNames().equals(c.classNames())) {
                throw new IllegalArgumentException("the data's classes " + ds.classNames() + " differ from the classifier's "
                        + c.classNames());
            }
            int size = model.config().imgSize();
            DataLoader loader = new DataLoader(ds, new EvalTransform(size, choice.cropPct(cropPct, size), ds.normalization()),
                    batchSize, 0L, false, false);
            EvalResult r;
            try (ProgressBar bar = noProgress ? null : Progress.bar("eval", ds.size())) {
                r = Downstream.evaluate(loader, batch -> be.toHost(model.forward(batch)), c.classNames(),
                        bar == null ? null : bar::stepTo);
            }
            Files.createDirectories(outputDir);
            r.writeJson(outputDir.resolve("eval.json"));
            r.writeConfusionCsv(outputDir.resolve("confusion.csv"));
            out.println(r.summary());
            out.printf(Locale.ROOT, "wrote %s and %s%n", outputDir.resolve("eval.json"), outputDir.resolve("confusion.csv"));
            out.flush();
            return 0;
        }
    }
}
