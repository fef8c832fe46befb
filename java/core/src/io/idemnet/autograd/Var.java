package io.idemnet.autograd;

import io.idemnet.tensor.Tensor;

/**
 * A value in a {@link Graph}: a tensor, whether gradients flow to it, and (once a backward pass
 * reaches it) its gradient. Values and gradients that the graph allocated are valid until the
 * graph's next {@link Graph#reset()}.
 */
public final class Var {
  final Tensor value;
  final boolean requiresGrad;
  /** For a parameter: its persistent gradient, accumulated into. Otherwise allocated by backward. */
  Tensor grad;
  final boolean accumulatesIntoParameter;

  Var(Tensor value, boolean requiresGrad, Tensor parameterGrad) {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.grad = parameterGrad;
    this.accumulatesIntoParameter = parameterGrad != null;
  }

  /** The value this node computed. */
  public Tensor value() {
    return value;
  }

  /** Whether a backward pass computes a gradient for this node. */
  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** The gradient reached by the last backward pass, or null if none reached this value. */
  public Tensor grad() {
    return grad;
  }

  /** The value's shape (a copy). */
  public int[] shape() {
    return value.shape();
  }

  /** Size of dimension {@code i} of the value; negative {@code i} counts from the end. */
  public int dim(int i) {
    return value.dim(i);
  }
}
