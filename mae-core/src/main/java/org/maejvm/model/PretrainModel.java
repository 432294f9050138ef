package org.maejvm.model;

import java.util.Map;
import org.maejvm.nn.ParameterSet;
import org.maejvm.ops.Backend;
import org.maejvm.tensor.Tensor;

/**
 * What the pretraining loop needs of a model, so MAE and CAE share one trainer (data, lr schedule, accumulation,
 * checkpoints, resume, logs): a loss from images and a mask plan, the gradients of that loss, and the named
 * tensors to optimise and save.
 */
public interface PretrainModel {

    Backend backend();

    /** Every tensor under its state_dict name: trainable ones are optimised, all are checkpointed. */
    ParameterSet parameters();

    /** The encoder's shape (image and patch size, channels, width, depth). */
    MaeConfig config();

    /** Loss of images [B, C, H, W] masked by {@code plan}; what backward needs stays until the next forward. */
    float forward(Tensor imgs, MaskPlan plan);

    /** Accumulates dLoss · d(loss)/d(parameter) of the last forward into the trainable parameters' grads. */
    void backward(float dLoss);

    /** The loss of the last forward split into its named terms (e.g. CAE's loss_main and loss_align); may be empty. */
    default Map<String, Float> lossTerms() { return Map.of(); }
}
