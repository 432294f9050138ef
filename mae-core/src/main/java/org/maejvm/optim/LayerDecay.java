package org.maejvm.optim;

import java.util.List;
import java.util.Set;
import org.maejvm.nn.Parameter;
import org.maejvm.ops.Backend;

/**
 * Layer-wise learning-rate decay for fine-tuning a ViT, as the official util/lr_decay.py {@code param_groups_lrd}:
 * with {@code numLayers = depth + 1}, the patch embedding, cls token and position embedding are layer 0, block i is
 * layer i + 1 and everything after the blocks (norms, head) is layer {@code numLayers}; a parameter's lr is scaled by
 * {@code decay^(numLayers - layer)}. Weight decay skips 1-d parameters and the model's no-weight-decay list
 * ({@code pos_embed}, {@code cls_token}, {@code dist_token}).
 */
public final class LayerDecay {
    private LayerDecay() {}

    /** timm VisionTransformer.no_weight_decay(). */
    public static final Set<String> NO_WEIGHT_DECAY = Set.of("pos_embed", "cls_token", "dist_token");

    /** main_finetune.py's AdamW: torch defaults betas (0.9, 0.999), eps 1e-8. */
    public static final float BETA1 = 0.9f, BETA2 = 0.999f, EPS = 1e-8f;

    /** get_layer_id_for_vit: the layer of a parameter by name. */
    public static int layerId(String name, int numLayers) {
        if (name.equals("cls_token") || name.equals("pos_embed") || name.startsWith("patch_embed")) return 0;
        if (name.startsWith("blocks.")) {
            String[] parts = name.split("\\.", 3);
            try {
                return Integer.parseInt(parts[1]) + 1;
            } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("parameter name '" + name + "' has no block index after 'blocks.'");
            }
        }
        return numLayers;
    }

    /** The lr scale of a parameter: {@code decay^(numLayers - layerId)} with {@code numLayers = depth + 1}. */
    public static float lrScale(String name, int depth, double decay) {
        int numLayers = depth + 1;
        return (float) Math.pow(decay, numLayers - layerId(name, numLayers));
    }

    /** Whether weight decay applies: not for 1-d parameters nor the no-weight-decay list. */
    public static boolean decays(Parameter p) {
        return p.shape().length != 1 && !NO_WEIGHT_DECAY.contains(p.name());
    }

    /** The official fine-tuning optimizer: AdamW over {@code params} with layer-wise lr decay and these groups. */
    public static AdamW adamw(Backend backend, List<Parameter> params, int depth, float weightDecay, double layerDecay) {
        if (!(layerDecay > 0 && layerDecay <= 1)) throw new IllegalArgumentException("layer decay must be in (0, 1], got " + layerDecay);
        if (depth <= 0) throw new IllegalArgumentException("depth must be > 0, got " + depth);
        return new AdamW(backend, params, BETA1, BETA2, EPS, weightDecay,
                p -> new AdamW.Group(lrScale(p.name(), depth, layerDecay), decays(p)));
    }
}
