package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A differentiable function with named parameters, applied on a {@link Graph}. Parameter names
 * follow PyTorch's {@code state_dict} ({@code weight}, {@code bias}, and {@code 0.weight} ... inside
 * a {@link Sequential}), so checkpoints map one to one onto the same PyTorch module.
 */
public interface Module extends AutoCloseable {
  /** Applies the module to {@code x}, recording on {@code graph}. */
  Var forward(Graph graph, Var x);

  /** Parameters by PyTorch-style name, in registration order. */
  Map<String, Parameter> namedParameters();

  /** The parameters, in the order of {@link #namedParameters()}. */
  default List<Parameter> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  /**
   * State that is not trained by gradients but belongs to the module (BatchNorm's
   * {@code running_mean}, {@code running_var}), by PyTorch-style name; empty by default.
   */
  default Map<String, Tensor> namedBuffers() {
    return Map.of();
  }

  /**
   * Training (true, the default) or evaluation mode, as PyTorch's {@code module.train(mode)}: it
   * changes what BatchNorm and Dropout do. Containers pass it on to their children.
   */
  /**
   * Sets the counter that random layers (Dropout) derive their next masks from, so that a run
   * resumed from a checkpoint draws the same masks as the uninterrupted run. No-op by default.
   */
  default void setRandomCounter(long counter) {}

  /** Switches between training (true) and evaluation behaviour (dropout, batch statistics). */
  default void train(boolean mode) {}

  /** Evaluation mode: {@code train(false)}. */
  default void eval() {
    train(false);
  }

  /** Frees the parameters' memory. */
  @Override
  default void close() {
    namedParameters().values().forEach(Parameter::close);
  }
}
