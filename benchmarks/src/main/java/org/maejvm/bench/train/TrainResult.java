package org.maejvm.bench.train;

import java.util.Locale;
import java.util.Map;

/**
 * One measurement of the training benchmark: images per second of full training steps and of forward passes,
 * and the peak resident memory of the process. {@code framework} is "mae-jvm" or "pytorch".
 */
public record TrainResult(String framework, String model, int batch, int threads, String backend,
                          double trainImgPerSec, double fwdImgPerSec, double peakRssMb, double finalLoss) {

    /** The one JSON line {@code mae bench train --json} prints (the fields the issue names, plus the loss). */
    public String toJson() {
        return String.format(Locale.ROOT,
                "{\"framework\":\"%s\",\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"backend\":\"%s\","
                        + "\"train_img_s\":%.3f,\"fwd_img_s\":%.3f,\"peak_rss_mb\":%.1f,\"loss\":%.6f}",
                framework, model, batch, threads, backend, trainImgPerSec, fwdImgPerSec, peakRssMb, finalLoss);
    }

    /** Achieved FLOP/s of the training step over the FMA peak of {@code threads} cores at {@code peakGflopsPerCore}. */
    public double trainUtilisation(StepFlops flops, double peakGflopsPerCore) {
        double perImage = flops.train() / batch;
        return perImage * trainImgPerSec / (peakGflopsPerCore * 1e9 * threads);
    }

    /** Reads the fields {@link #toJson} writes (the PyTorch script writes the same names). */
    static TrainResult fromFields(Map<String, String> f) {
        return new TrainResult(f.get("framework"), f.get("model"), FlatJson.integer(f, "batch"),
                FlatJson.integer(f, "threads"), f.get("backend"), FlatJson.number(f, "train_img_s"),
                FlatJson.number(f, "fwd_img_s"), FlatJson.number(f, "peak_rss_mb"), FlatJson.number(f, "loss"));
    }
}
