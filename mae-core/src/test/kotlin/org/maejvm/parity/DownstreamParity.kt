package org.maejvm.parity

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.ObjectMapper
import org.maejvm.data.Mixup
import org.maejvm.model.AttentiveProbe
import org.maejvm.model.ClassifierConfig
import org.maejvm.model.VitClassifier
import org.maejvm.nn.BatchNorm1d
import org.maejvm.nn.Parameter
import org.maejvm.nn.ParameterSet
import org.maejvm.ops.Backend
import org.maejvm.optim.AdamW
import org.maejvm.optim.Lars
import org.maejvm.optim.LayerDecay
import org.maejvm.optim.Sgd
import org.maejvm.io.Safetensors
import org.maejvm.tensor.HostTensor
import java.nio.file.Path
import kotlin.math.abs

/**
 * Replays the downstream PyTorch fixtures (tools/fixtures/make_downstream_fixtures.py) on a backend. Each function
 * returns one comparison per tensor; the callers (reference and SIMD tests) assert they are all within tolerance.
 * [root] is the fixtures/downstream folder, relative to the module that runs the test.
 */
class DownstreamParity(private val be: Backend, private val tol: Double, private val root: Path) {
    val cases: JsonNode = ObjectMapper().readTree(root.resolve("cases.json").toFile())

    fun tensors(case: String): Map<String, HostTensor> = Safetensors.read(root.resolve("$case.safetensors"))

    private fun cmp(name: String, actual: FloatArray, expected: HostTensor?, t: Double = tol): TensorComparison =
        if (expected == null) TensorComparison("$name (missing from the fixture)", 0, Double.NaN, Double.NaN, t)
        else TensorComparison.of(name, actual, expected.data, t)

    fun classifierConfig(case: String): ClassifierConfig {
        val c = cases[case]
        return ClassifierConfig(c["img_size"].asInt(), c["patch_size"].asInt(), c["in_chans"].asInt(), c["embed_dim"].asInt(),
            c["depth"].asInt(), c["num_heads"].asInt(), c["mlp_ratio"].asDouble(), c["num_classes"].asInt(),
            c["global_pool"].asBoolean(), c["drop_path"].asDouble(), ClassifierConfig.Head.valueOf(c["head"].asText()))
    }

    /** Forward (train mode, given drop-path masks), soft-target CE, backward, running stats, eval forward. */
    fun classifier(case: String): List<TensorComparison> {
        val fx = tensors(case)
        val c = cases[case]
        val cfg = classifierConfig(case)
        val model = VitClassifier(cfg, be, 99)
        val init = fx.filterKeys { it.startsWith("init.") }.mapKeys { it.key.removePrefix("init.") }
        model.parameters().load(init, true)
        val imgs = fx.getValue("imgs")
        val x = be.fromHost(imgs.data, *imgs.shape())
        val keepT = fx.getValue("keep")
        val b = keepT.dim(1)
        val keep = Array(keepT.dim(0)) { i -> keepT.data.copyOfRange(i * b, (i + 1) * b) }
        val out = ArrayList<TensorComparison>()

        val targets = Mixup.targets(fx.getValue("labels").ints, cfg.numClasses(), c["mixup_lam"].asDouble(), c["smoothing"].asDouble())
        out += cmp("targets", targets, fx["targets"])
        model.train(true)
        model.parameters().zeroGrad()
        val logits = model.forward(x, keep)
        out += cmp("logits", be.toHost(logits), fx["logits"])
        val dLogits = be.zeros(*logits.shape())
        val loss = be.softmaxCrossEntropy(logits, be.fromHost(targets, *logits.shape()), dLogits)
        out += cmp("loss", floatArrayOf(loss), fx["loss"])
        model.backward(dLogits)
        out += gradients(model.parameters().trainable(), fx)
        for (p in model.parameters().all().filter { it.name().contains("running") }) {
            out += cmp("after.${p.name()}", be.toHost(p.value()), fx["after.${p.name()}"])
        }
        model.train(false)
        out += cmp("eval_logits", be.toHost(model.forward(x)), fx["eval_logits"])
        return out
    }

    /** BatchNorm1d with and without affine: train forward + backward, running stats after two batches, eval. */
    fun batchNorm(): List<TensorComparison> {
        val fx = tensors("batchnorm1d")
        val c = cases["batchnorm1d"]
        val out = ArrayList<TensorComparison>()
        for (tag in listOf("plain", "affine")) {
            val ps = ParameterSet(be)
            val bn = BatchNorm1d(ps, "bn", c["features"].asInt(), c["eps"].floatValue(), c["momentum"].asDouble(), tag == "affine")
            if (tag == "affine") {
                be.upload(fx.getValue("$tag.weight").data, ps.get("bn.weight").value())
                be.upload(fx.getValue("$tag.bias").data, ps.get("bn.bias").value())
            }
            fun t(k: String) = fx.getValue("$tag.$k").let { be.fromHost(it.data, *it.shape()) }
            bn.train(true)
            out += cmp("$tag.y1", be.toHost(bn.forward(t("x1"))), fx["$tag.y1"])
            out += cmp("$tag.dx1", be.toHost(bn.backward(t("dy"))), fx["$tag.dx1"])
            if (tag == "affine") {
                out += cmp("$tag.dweight", be.toHost(ps.get("bn.weight").grad()), fx["$tag.dweight"])
                out += cmp("$tag.dbias", be.toHost(ps.get("bn.bias").grad()), fx["$tag.dbias"])
            }
            bn.forward(t("x2"))
            out += cmp("$tag.running_mean", be.toHost(bn.runningMean().value()), fx["$tag.running_mean"])
            out += cmp("$tag.running_var", be.toHost(bn.runningVar().value()), fx["$tag.running_var"])
            bn.train(false)
            out += cmp("$tag.y_eval", be.toHost(bn.forward(t("x1"))), fx["$tag.y_eval"])
        }
        return out
    }

    /** Soft-target cross-entropy with label smoothing 0 and 0.1: targets, loss, d(loss)/d(logits). */
    fun crossEntropy(): List<TensorComparison> {
        val fx = tensors("cross-entropy")
        val classes = cases["cross-entropy"]["classes"].asInt()
        val logitsH = fx.getValue("logits")
        val logits = be.fromHost(logitsH.data, *logitsH.shape())
        val out = ArrayList<TensorComparison>()
        for (s in listOf("0.0", "0.1")) {
            val targets = Mixup.smoothedOneHot(fx.getValue("labels").ints, classes, s.toDouble())
            out += cmp("s$s.targets", targets, fx["s$s.targets"])
            val d = be.zeros(*logitsH.shape())
            val loss = be.softmaxCrossEntropy(logits, be.fromHost(targets, *logitsH.shape()), d)
            out += cmp("s$s.loss", floatArrayOf(loss), fx["s$s.loss"])
            out += cmp("s$s.dlogits", be.toHost(d), fx["s$s.dlogits"])
        }
        return out
    }

    /** Two LARS steps on a 2-d weight, a bias and an all-zero weight (trust ratio 1). */
    fun lars(): List<TensorComparison> {
        val fx = tensors("lars")
        val c = cases["lars"]
        val ps = ParameterSet(be)
        val names = listOf("head.weight", "head.bias", "zero.weight")
        for (n in names) {
            val t = fx.getValue("init.$n")
            be.upload(t.data, ps.add(n, true, *t.shape()).value())
        }
        val opt = Lars(be, ps.trainable(), c["weight_decay"].floatValue(), c["momentum"].floatValue(), c["trust_coefficient"].floatValue())
        val out = ArrayList<TensorComparison>()
        for (step in 1..2) {
            for (n in names) be.upload(fx.getValue("grad$step.$n").data, ps.get(n).grad())
            opt.step(c["lr"].floatValue())
            for (n in names) out += cmp("step$step.$n", be.toHost(ps.get(n).value()), fx["step$step.$n"])
        }
        return out
    }

    /** Two AdamW steps with layer-wise lr decay on a tiny ViT classifier's parameters; lr scales checked too. */
    fun layerDecay(): List<TensorComparison> {
        val fx = tensors("layer-decay")
        val c = cases["layer-decay"]
        val model = VitClassifier(classifierConfigFrom(c["model"]), be, 1)
        val init = fx.filterKeys { it.startsWith("init.") }.mapKeys { it.key.removePrefix("init.") }
        model.parameters().load(init, false)
        val depth = c["model"]["depth"].asInt()
        val opt: AdamW = LayerDecay.adamw(be, model.trainableParameters(), depth, c["weight_decay"].floatValue(), c["layer_decay"].asDouble())
        val out = ArrayList<TensorComparison>()
        for (s in opt.slots()) {
            val n = s.param().name()
            out += TensorComparison.of("lr_scale.$n", floatArrayOf(s.lrScale()), floatArrayOf(c["lr_scale"][n].floatValue()), 1e-7)
            val wd = if (s.decay()) c["weight_decay"].floatValue() else 0f
            out += TensorComparison.of("weight_decay.$n", floatArrayOf(wd), floatArrayOf(c["weight_decay_of"][n].floatValue()), 0.0)
        }
        for (step in 1..2) {
            for (p in model.trainableParameters()) be.upload(fx.getValue("grad$step.${p.name()}").data, p.grad())
            opt.step(c["lr"].floatValue())
            for (p in model.trainableParameters()) out += cmp("step$step.${p.name()}", be.toHost(p.value()), fx["step$step.${p.name()}"])
        }
        return out
    }

    /** CAE-style attentive probe on given token features: logits, CE loss, every gradient. */
    fun attentiveProbe(): List<TensorComparison> {
        val fx = tensors("attentive-probe")
        val c = cases["attentive-probe"]
        val probe = AttentiveProbe(be, c["dim"].asInt(), c["num_heads"].asInt(), c["mlp_ratio"].asDouble(), c["num_classes"].asInt(), 3)
        probe.parameters().load(fx.filterKeys { it.startsWith("init.") }.mapKeys { it.key.removePrefix("init.") }, true)
        val tokensH = fx.getValue("tokens")
        val logits = probe.forward(be.fromHost(tokensH.data, *tokensH.shape()))
        val out = ArrayList<TensorComparison>()
        out += cmp("logits", be.toHost(logits), fx["logits"])
        val targets = Mixup.smoothedOneHot(fx.getValue("labels").ints, c["num_classes"].asInt(), 0.0)
        val d = be.zeros(*logits.shape())
        out += cmp("loss", floatArrayOf(be.softmaxCrossEntropy(logits, be.fromHost(targets, *logits.shape()), d)), fx["loss"])
        probe.parameters().zeroGrad()
        probe.backward(d)
        out += gradients(probe.parameters().trainable(), fx)
        return out
    }

    /**
     * CAE's attentive probe as the classifier's ATTENTIVE head (read through [VitClassifier.forwardHead] on token
     * features [B, 1 + L, D]): train-mode logits, loss, every probe gradient, fc_norm's running statistics, eval
     * logits, then two torch.optim.SGD steps (momentum, weight decay) as attentive probing trains.
     */
    fun attentiveProbeCae(): List<TensorComparison> {
        val fx = tensors("attentive-probe-cae")
        val c = cases["attentive-probe-cae"]
        val dim = c["dim"].asInt()
        val patches = c["tokens"].asInt() - 1
        val grid = Math.round(Math.sqrt(patches.toDouble())).toInt()
        val cfg = ClassifierConfig(grid * 2, 2, 1, dim, 1, c["num_heads"].asInt(), 2.0, c["num_classes"].asInt(),
            false, 0.0, ClassifierConfig.Head.ATTENTIVE)
        val model = VitClassifier(cfg, be, 5)
        val init = fx.filterKeys { it.startsWith("init.") }.mapKeys { it.key.removePrefix("init.") }
        val report = model.parameters().load(init, false)
        val out = ArrayList<TensorComparison>()
        out += TensorComparison.of("probe tensors loaded", floatArrayOf(report.loaded().size.toFloat()), floatArrayOf(init.size.toFloat()), 0.0)
        val tokensH = fx.getValue("tokens")
        val tokens = be.fromHost(tokensH.data, *tokensH.shape())
        model.train(true)
        val logits = model.forwardHead(tokens)
        out += cmp("logits", be.toHost(logits), fx["logits"])
        val targets = Mixup.smoothedOneHot(fx.getValue("labels").ints, cfg.numClasses(), 0.0)
        val d = be.zeros(*logits.shape())
        out += cmp("loss", floatArrayOf(be.softmaxCrossEntropy(logits, be.fromHost(targets, *logits.shape()), d)), fx["loss"])
        model.parameters().zeroGrad()
        model.backward(d)
        out += gradients(model.headParameters(), fx)
        for (k in listOf("running_mean", "running_var")) {
            out += cmp("after.fc_norm.$k", be.toHost(model.parameters().get("fc_norm.$k").value()), fx["after.fc_norm.$k"])
        }
        model.train(false)
        out += cmp("eval_logits", be.toHost(model.forwardHead(tokens)), fx["eval_logits"])
        val sgd = Sgd(be, model.headParameters(), c["momentum"].floatValue(), c["weight_decay"].floatValue())
        for (step in 1..2) {
            if (step == 2) for (p in model.headParameters()) be.upload(fx.getValue("grad2.${p.name()}").data, p.grad())
            sgd.step(c["lr"].floatValue())
            for (p in model.headParameters()) out += cmp("step$step.${p.name()}", be.toHost(p.value()), fx["step$step.${p.name()}"])
        }
        return out
    }

    /**
     * Every parameter's gradient against the fixture's {@code grad.<name>}. A gradient that is exactly 0 in exact
     * arithmetic holds only rounding noise (the cls-path norm under a BatchNorm head, which removes any per-feature
     * shift; a key-side bias, which softmax cancels): such a tensor is compared relative to the largest gradient.
     */
    private fun gradients(params: List<Parameter>, fx: Map<String, HostTensor>): List<TensorComparison> {
        val gradScale = params.maxOf { p -> fx["grad.${p.name()}"]?.data?.maxOf { abs(it) } ?: 0f }
        return params.map { p ->
            val want = fx["grad.${p.name()}"]
            val got = be.toHost(p.grad())
            if (want != null && want.data.maxOf { abs(it) } < 1e-5f * gradScale) {
                val maxAbs = got.indices.maxOf { abs(got[it].toDouble() - want.data[it]) }
                TensorComparison("grad.${p.name()} (~0: relative to the largest gradient)", got.size, maxAbs, maxAbs / gradScale, tol)
            } else {
                cmp("grad.${p.name()}", got, want)
            }
        }
    }

    private fun classifierConfigFrom(m: JsonNode) = ClassifierConfig(m["img_size"].asInt(), m["patch_size"].asInt(),
        m["in_chans"].asInt(), m["embed_dim"].asInt(), m["depth"].asInt(), m["num_heads"].asInt(), m["mlp_ratio"].asDouble(),
        m["num_classes"].asInt(), m["global_pool"].asBoolean(), m["drop_path"].asDouble(), ClassifierConfig.Head.valueOf(m["head"].asText()))

    companion object {
        /** Failed comparisons, one line each ("" when all pass). */
        fun failures(results: List<TensorComparison>): String =
            results.filter { !it.ok() }.joinToString("\n") { "${it.name()}: rel ${it.maxRel()} abs ${it.maxAbs()}" }
    }
}
