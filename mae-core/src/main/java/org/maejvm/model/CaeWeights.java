package org.maejvm.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.maejvm.tensor.HostTensor;

/**
 * A CAE encoder as a plain ViT (timm / MAE {@code models_vit.py} names), so CAE checkpoints feed the same downstream
 * code as MAE ones. The conversion is exact: the {@code encoder.} prefix is dropped; {@code q_bias} and
 * {@code v_bias} become {@code qkv.bias} = [q_bias, 0, v_bias] (CAE's key bias is zero); layer scale is folded into
 * the layer it scales, gamma * (x Wᵀ + b) = x (diag(gamma) W)ᵀ + gamma * b, so {@code gamma_1} goes into
 * {@code attn.proj} and {@code gamma_2} into {@code mlp.fc2}. The teacher, the regressor, the decoder, the mask token
 * and optimizer moments are left out.
 */
public final class CaeWeights {
    private static final String PREFIX = "encoder.";

    private CaeWeights() {}

    /** Whether a state_dict holds a CAE model (its encoder under {@code encoder.}). */
    public static boolean isCae(Map<String, ? extends HostTensor> weights) {
        return weights.containsKey(PREFIX + "cls_token") || weights.containsKey(PREFIX + "patch_embed.proj.weight");
    }

    /** The encoder of a CAE state_dict as a ViT state_dict (see the class comment). */
    public static LinkedHashMap<String, HostTensor> toVit(Map<String, ? extends HostTensor> weights) {
        LinkedHashMap<String, HostTensor> enc = new LinkedHashMap<>();
        weights.forEach((k, v) -> {
            if (k.startsWith(PREFIX)) enc.put(k.substring(PREFIX.length()), v);
        });
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : enc.entrySet()) {
            String k = e.getKey();
            if (k.endsWith(".attn.q_bias") || k.endsWith(".attn.v_bias") || k.matches(".*\\.gamma_[12]")) continue;
            out.put(k, e.getValue());
        }
        for (int i = 0; enc.containsKey("blocks." + i + ".norm1.weight"); i++) {
            String b = "blocks." + i + ".";
            HostTensor q = enc.get(b + "attn.q_bias"), v = enc.get(b + "attn.v_bias");
            if (q != null && v != null) {
                int c = q.data.length;
                float[] qkv = new float[3 * c];
                System.arraycopy(q.data, 0, qkv, 0, c);
                System.arraycopy(v.data, 0, qkv, 2 * c, c);
                out.put(b + "attn.qkv.bias", new HostTensor(qkv, 3 * c));
            }
            fold(out, enc.get(b + "gamma_1"), b + "attn.proj");
            fold(out, enc.get(b + "gamma_2"), b + "mlp.fc2");
        }
        return out;
    }

    /** weight[o, :] *= gamma[o], bias[o] *= gamma[o] of the Linear {@code layer}. */
    private static void fold(Map<String, HostTensor> out, HostTensor gamma, String layer) {
        if (gamma == null) return;
        HostTensor w = out.get(layer + ".weight"), b = out.get(layer + ".bias");
        if (w == null || w.rank() != 2 || w.dim(0) != gamma.data.length) {
            throw new IllegalArgumentException("cannot fold layer scale of " + gamma.data.length + " channels into "
                    + layer + ".weight " + (w == null ? "(missing)" : w.toString()));
        }
        int rows = w.dim(0), cols = w.dim(1);
        float[] scaled = new float[rows * cols];
        for (int o = 0; o < rows; o++) {
            for (int j = 0; j < cols; j++) scaled[o * cols + j] = w.data[o * cols + j] * gamma.data[o];
        }
        out.put(layer + ".weight", new HostTensor(scaled, rows, cols));
        if (b != null) {
            float[] sb = new float[rows];
            for (int o = 0; o < rows; o++) sb[o] = b.data[o] * gamma.data[o];
            out.put(layer + ".bias", new HostTensor(sb, rows));
        }
    }
}
