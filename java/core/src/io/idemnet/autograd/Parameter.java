package io.idemnet.autograd;

import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;

/**
 * A trainable tensor and its gradient, both owned here. Gradients accumulate across backward
 * passes until {@link #zeroGrad()} (the optimizers' {@code zeroGrad} calls it).
 */
public final class Parameter implements AutoCloseable {
  private final Tensor value;
  private final Tensor grad;

  /** Takes ownership of {@code value}; allocates a zero gradient of the same shape. */
  public Parameter(Tensor value) {
    this.value = value;
    this.grad = Backend.of(value).zeros(value.shape());
  }

  /**
   * A new parameter of the given shape drawn from U(-bound, bound) by the counter-based generator
   * (PyTorch's default initialisations of Linear and convolutions are such uniforms).
   */
  public static Parameter uniform(Backend backend, float bound, long seed, int... shape) {
    Tensor t = backend.zeros(shape);
    backend.randomUniform(t, seed, -bound, bound);
    return new Parameter(t);
  }

  /** The parameter's current value. */
  public Tensor value() {
    return value;
  }

  /** The accumulated gradient, of the value's shape (zero after {@link #zeroGrad()}). */
  public Tensor grad() {
    return grad;
  }

  /** The backend of the value and the gradient. */
  public Backend backend() {
    return Backend.of(value);
  }

  /** The value's shape (a copy). */
  public int[] shape() {
    return value.shape();
  }

  /** Sets the accumulated gradient to zero. */
  public void zeroGrad() {
    Backend.of(value).fill(grad, 0f);
  }

  @Override
  public void close() {
    value.close();
    grad.close();
  }
}
