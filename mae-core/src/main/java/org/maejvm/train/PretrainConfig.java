package org.maejvm.train;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.maejvm.model.CaeConfig;
import org.maejvm.io.MalformedFileException;
import org.maejvm.io.StrictJson;
import org.maejvm.model.MaeConfig;
import org.maejvm.model.masking.MaskingSpec;
import org.maejvm.model.masking.MaskingStrategy;

/**
 * Everything that decides a pretraining run, with the argument names of the official {@code main_pretrain.py}
 * (JSON field names equal the command-line names there). A run is a pure function of this config, the data and
 * the seed. {@code lr} is optional: when absent it is {@code blr * batch_size * accum_iter * world_size / 256}.
 *
 * <p>{@code norm_pix_loss} here overrides the flag inside {@code model}; use {@link #modelConfig()} to build the model.
 */
public record PretrainConfig(
        @JsonProperty("model_name") String modelName,
        @JsonProperty("model") MaeConfig model,
        @JsonProperty("epochs") int epochs,
        @JsonProperty("batch_size") int batchSize,
        @JsonProperty("accum_iter") int accumIter,
        @JsonProperty("blr") double blr,
        @JsonProperty("lr") Double lr,
        @JsonProperty("min_lr") double minLr,
        @JsonProperty("warmup_epochs") double warmupEpochs,
        @JsonProperty("weight_decay") double weightDecay,
        @JsonProperty("mask_ratio") double maskRatio,
        @JsonProperty("norm_pix_loss") boolean normPixLoss,
        @JsonProperty("seed") long seed,
        @JsonProperty("clip_grad") Double clipGrad,
        @JsonProperty("output_dir") String outputDir,
        @JsonProperty("keep_last") int keepLast,
        @JsonProperty("save_freq") int saveFreq,
        @JsonProperty("save_every_steps") int saveEverySteps,
        @JsonProperty("log_freq") int logFreq,
        @JsonProperty("world_size") int worldSize,
        @JsonProperty("method") String method,
        @JsonProperty("mask_strategy") String maskStrategy,
        @JsonProperty("cae") CaeConfig cae) {

    /** The pretraining methods: MAE (the default) and CAE. */
    public static final String MAE = "mae", CAE = "cae";

    /** The official base learning rate: absolute lr = blr * effective batch size / 256. */
    public static final double DEFAULT_BLR = 1.5e-4;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** The images that contribute to one optimizer step: batch_size * accum_iter * world_size. */
    @JsonIgnore
    public int effectiveBatchSize() {
        return batchSize * accumIter * worldSize;
    }

    /** The absolute peak learning rate: {@code lr} if given, else the official rule from {@code blr}. */
    @JsonIgnore
    public double effectiveLr() {
        return lr != null ? lr : blr * effectiveBatchSize() / 256.0;
    }

    /** The model to build: {@link #model} with this config's {@code norm_pix_loss}. */
    @JsonIgnore
    public MaeConfig modelConfig() {
        return model.withNormPixLoss(normPixLoss);
    }

    /** "mae" or "cae" (lower case); absent means mae. */
    @JsonIgnore
    public String methodName() {
        return method == null ? MAE : method.toLowerCase(java.util.Locale.ROOT);
    }

    @JsonIgnore
    public boolean isCae() { return CAE.equals(methodName()); }

    /** The masking spec in effect: {@code mask_strategy}, else block-wise for CAE (as the paper) and random for MAE. */
    @JsonIgnore
    public String effectiveMaskStrategy() {
        if (maskStrategy != null && !maskStrategy.isBlank()) return maskStrategy;
        return isCae() ? "block" : "random";
    }

    @JsonIgnore
    public MaskingStrategy masking() {
        return MaskingSpec.parse(effectiveMaskStrategy());
    }

    /** The CAE settings in effect: {@code cae}, else the official defaults. */
    @JsonIgnore
    public CaeConfig caeConfig() {
        return cae != null ? cae : CaeConfig.defaults();
    }

    /** Checks every field and returns this config; the exception lists every problem found. */
    public PretrainConfig validate() {
        List<String> problems = problems();
        if (!problems.isEmpty()) throw new IllegalArgumentException("invalid pretraining config: " + String.join("; ", problems));
        return this;
    }

    /** Every problem {@link #validate()} would report, one sentence each naming the field and the valid values. */
    public List<String> problems() {
        List<String> problems = new ArrayList<>();
        if (model == null) {
            problems.add("model is missing: give a preset name or a model config");
        } else {
            try {
                modelConfig().validate();
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (epochs < 1) problems.add("epochs must be >= 1, got " + epochs);
        if (batchSize < 1) problems.add("batch_size must be >= 1, got " + batchSize);
        if (accumIter < 1) problems.add("accum_iter must be >= 1, got " + accumIter);
        if (worldSize < 1) problems.add("world_size must be >= 1, got " + worldSize);
        if (lr == null && !(blr > 0 && Double.isFinite(blr))) problems.add("blr must be > 0, got " + blr);
        if (lr != null && !(lr > 0 && Double.isFinite(lr))) problems.add("lr must be > 0 when given, got " + lr);
        if (!(minLr >= 0) || !Double.isFinite(minLr)) problems.add("min_lr must be >= 0, got " + minLr);
        else if (problems.isEmpty() && minLr > effectiveLr()) {
            problems.add("min_lr " + minLr + " is above the peak lr " + effectiveLr());
        }
        // Longer than the run is allowed (as officially): the lr then only ramps up.
        if (!(warmupEpochs >= 0) || !Double.isFinite(warmupEpochs)) {
            problems.add("warmup_epochs must be >= 0, got " + warmupEpochs);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) problems.add("weight_decay must be >= 0, got " + weightDecay);
        // 0 is out too: with no masked patch the loss (a mean over masked patches) is 0 / 0.
        if (!(maskRatio > 0 && maskRatio < 1)) {
            problems.add("mask_ratio must be in (0, 1), got " + maskRatio);
        } else if (model != null && model.patchSize() > 0 && model.imgSize() >= model.patchSize()) {
            int keep = (int) (model.numPatches() * (1.0 - maskRatio));
            if (keep < 1) problems.add("mask_ratio " + maskRatio + " keeps no patch of " + model.numPatches());
            else if (keep >= model.numPatches()) {
                problems.add("mask_ratio " + maskRatio + " masks no patch of " + model.numPatches()
                        + ", so there is no loss; use at least " + (1.0 / model.numPatches()));
            }
        }
        if (!MAE.equals(methodName()) && !CAE.equals(methodName())) {
            problems.add("method must be 'mae' or 'cae', got '" + method + "'");
        } else if (isCae() && model != null) {
            try {
                caeConfig().validate(model);
            } catch (IllegalArgumentException e) {
                problems.add(e.getMessage());
            }
        }
        if (model != null && model.patchSize() > 0 && model.imgSize() >= model.patchSize() && maskRatio >= 0 && maskRatio < 1) {
            String bad = MaskingSpec.problem(effectiveMaskStrategy(), model.gridSize(), model.gridSize(), maskRatio);
            if (bad != null) problems.add(bad);
            if (isCae() && (int) (model.numPatches() * (1.0 - maskRatio)) >= model.numPatches()) {
                problems.add("CAE needs masked patches to regress, but mask_ratio " + maskRatio + " masks none of "
                        + model.numPatches() + " (CAE's recipe: 0.5)");
            }
        }
        if (clipGrad != null && !(clipGrad > 0 && Double.isFinite(clipGrad))) {
            problems.add("clip_grad must be > 0 when given, got " + clipGrad);
        }
        if (keepLast < 1) problems.add("keep_last must be >= 1, got " + keepLast);
        if (saveFreq < 0) problems.add("save_freq must be >= 0 epochs (0 = only the last epoch), got " + saveFreq);
        if (saveEverySteps < 0) problems.add("save_every_steps must be >= 0 (0 = off), got " + saveEverySteps);
        if (logFreq < 1) problems.add("log_freq must be >= 1 step, got " + logFreq);
        return problems;
    }

    // ------------------------------------------------------------------ JSON

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise the config: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * Parses a config strictly (unknown fields, wrong types and duplicates are refused, see {@link StrictJson});
     * missing fields take the defaults of {@link #builder()}. Values are not validated.
     */
    public static PretrainConfig fromJson(String json) {
        try {
            PretrainConfig parsed = StrictJson.MAPPER.readValue(json, PretrainConfig.class);
            if (parsed == null) throw new IllegalArgumentException("pretraining config JSON is empty (null)");
            com.fasterxml.jackson.databind.JsonNode tree = StrictJson.MAPPER.readTree(json);
            String badNull = StrictJson.explicitNull(tree, NULLABLE, java.util.Set.of("model", "cae"));
            if (badNull != null) throw new IllegalArgumentException("pretraining config: " + badNull);
            return parsed.withDefaultsFrom(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("pretraining config is not valid JSON for PretrainConfig: "
                    + StrictJson.describe(e), e);
        }
    }

    /** The fields that may be null (absent values); a null anywhere else is refused. */
    private static final java.util.Set<String> NULLABLE = java.util.Set.of("model_name", "model", "lr", "clip_grad",
            "output_dir", "method", "mask_strategy", "cae");

    /** Largest config file read; real ones are a few hundred bytes. */
    static final long MAX_FILE_BYTES = 1 << 20;

    /**
     * Reads a config file written by hand or by {@link #toJson()}: syntax, field names, types and every value the
     * file gives are checked ({@code model} may be left out, for the caller to fill in). A bad file gives a
     * {@link MalformedFileException} naming the file, the field and the valid values.
     */
    public static PretrainConfig read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new MalformedFileException(file, "is " + size + " bytes; a pretraining config is JSON of at most "
                    + MAX_FILE_BYTES);
        }
        PretrainConfig c;
        try {
            c = fromJson(Files.readString(file));
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(file, e.getMessage(), e);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new MalformedFileException(file, "is not UTF-8 text, so not a JSON config", e);
        }
        List<String> problems = new ArrayList<>(c.problems());
        if (c.model == null) problems.removeIf(p -> p.startsWith("model is missing") || p.startsWith("min_lr "));
        if (!problems.isEmpty()) {
            throw new MalformedFileException(file, "invalid pretraining config: " + String.join("; ", problems));
        }
        return c;
    }

    /** Fields absent from the JSON get the builder defaults rather than Java's zeros. */
    private PretrainConfig withDefaultsFrom(com.fasterxml.jackson.databind.JsonNode present) {
        Builder d = builder();
        Builder b = toBuilder();
        if (!present.has("epochs")) b.epochs(d.epochs);
        if (!present.has("batch_size")) b.batchSize(d.batchSize);
        if (!present.has("accum_iter")) b.accumIter(d.accumIter);
        if (!present.has("blr")) b.blr(d.blr);
        if (!present.has("warmup_epochs")) b.warmupEpochs(d.warmupEpochs);
        if (!present.has("weight_decay")) b.weightDecay(d.weightDecay);
        if (!present.has("mask_ratio")) b.maskRatio(d.maskRatio);
        if (!present.has("keep_last")) b.keepLast(d.keepLast);
        if (!present.has("save_freq")) b.saveFreq(d.saveFreq);
        if (!present.has("log_freq")) b.logFreq(d.logFreq);
        if (!present.has("world_size")) b.worldSize(d.worldSize);
        if (!present.has("norm_pix_loss") && model != null) b.normPixLoss(model.normPixLoss());
        // A cae section may give only what it changes (old checkpoints also lack the newer fields).
        if (cae != null && present.has("cae")) b.cae(cae.withDefaultsFor(present.get("cae")));
        return b.build();
    }

    // ------------------------------------------------------------------ builder

    /** Defaults of main_pretrain.py where it has them (blr 1.5e-4, weight_decay 0.05, mask_ratio 0.75, ...). */
    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().modelName(modelName).model(model).epochs(epochs).batchSize(batchSize).accumIter(accumIter)
                .blr(blr).lr(lr).minLr(minLr).warmupEpochs(warmupEpochs).weightDecay(weightDecay).maskRatio(maskRatio)
                .normPixLoss(normPixLoss).seed(seed).clipGrad(clipGrad).outputDir(outputDir).keepLast(keepLast)
                .saveFreq(saveFreq).saveEverySteps(saveEverySteps).logFreq(logFreq).worldSize(worldSize)
                .method(method).maskStrategy(maskStrategy).cae(cae);
    }

    /** Fluent construction, mainly for Java and Kotlin callers; {@link #build()} does not validate. */
    public static final class Builder {
        private String modelName;
        private MaeConfig model;
        private int epochs = 400;
        private int batchSize = 64;
        private int accumIter = 1;
        private double blr = DEFAULT_BLR;
        private Double lr;
        private double minLr = 0.0;
        private double warmupEpochs = 40;
        private double weightDecay = 0.05;
        private double maskRatio = 0.75;
        private boolean normPixLoss;
        private long seed;
        private Double clipGrad;
        private String outputDir;
        private int keepLast = 3;
        private int saveFreq = 1;
        private int saveEverySteps;
        private int logFreq = 20;
        private int worldSize = 1;
        private String method;
        private String maskStrategy;
        private CaeConfig cae;

        private Builder() {}

        public Builder modelName(String v) { modelName = v; return this; }
        /** A model config; also takes its norm_pix_loss flag. */
        public Builder model(MaeConfig v) { model = v; if (v != null) normPixLoss = v.normPixLoss(); return this; }
        /** A preset by name (see {@link ModelPresets}); also records the name. */
        public Builder model(String preset) { return model(ModelPresets.named(preset)).modelName(preset); }
        public Builder epochs(int v) { epochs = v; return this; }
        public Builder batchSize(int v) { batchSize = v; return this; }
        public Builder accumIter(int v) { accumIter = v; return this; }
        public Builder blr(double v) { blr = v; return this; }
        public Builder lr(Double v) { lr = v; return this; }
        public Builder minLr(double v) { minLr = v; return this; }
        public Builder warmupEpochs(double v) { warmupEpochs = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder maskRatio(double v) { maskRatio = v; return this; }
        public Builder normPixLoss(boolean v) { normPixLoss = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder clipGrad(Double v) { clipGrad = v; return this; }
        public Builder outputDir(String v) { outputDir = v; return this; }
        public Builder outputDir(Path v) { outputDir = v == null ? null : v.toString(); return this; }
        public Builder keepLast(int v) { keepLast = v; return this; }
        public Builder saveFreq(int v) { saveFreq = v; return this; }
        public Builder saveEverySteps(int v) { saveEverySteps = v; return this; }
        public Builder logFreq(int v) { logFreq = v; return this; }
        public Builder worldSize(int v) { worldSize = v; return this; }
        /** "mae" (default) or "cae". */
        public Builder method(String v) { method = v; return this; }
        /** A masking spec (see {@link MaskingSpec}); null = the method's default. */
        public Builder maskStrategy(String v) { maskStrategy = v; return this; }
        /** CAE settings; null = the official defaults. */
        public Builder cae(CaeConfig v) { cae = v; return this; }

        public PretrainConfig build() {
            return new PretrainConfig(modelName, model, epochs, batchSize, accumIter, blr, lr, minLr, warmupEpochs,
                    weightDecay, maskRatio, normPixLoss, seed, clipGrad, outputDir, keepLast, saveFreq, saveEverySteps,
                    logFreq, worldSize, method, maskStrategy, cae);
        }
    }
}
