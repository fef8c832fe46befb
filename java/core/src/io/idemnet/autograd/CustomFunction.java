package io.idemnet.autograd;

import io.idemnet.tensor.Tensor;

/**
 * An operation with a hand-written backward pass, recorded with {@link Graph#apply}. The forward
 * runs with recording off; whatever it needs in backward it keeps in its own fields (one instance
 * per call). Modified Backpropagation's idempotent loss is one.
 */
public interface CustomFunction {
  /** Computes the output from the inputs' values; take buffers from {@code graph.workspace()}. */
  Tensor forward(Graph graph, Tensor... inputs);

  /**
   * Given dL/d(output), writes dL/d(input i) into {@code gradInputs[i]} (overwriting it) for every
   * i where {@code gradInputs[i]} is not null; null means that input needs no gradient.
   */
  void backward(Graph graph, Tensor gradOutput, Tensor[] gradInputs);
}
