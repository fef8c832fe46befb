package io.idemnet.backend;

import io.idemnet.nativelib.NativeAbi;

/**
 * An elementwise activation. {@code slope} is LeakyReLU's negative slope (0 for the others).
 * Derivatives at the kink follow PyTorch: ReLU'(0) = 0, LeakyReLU'(0) = slope. A NaN input gives
 * a NaN output for every kind.
 */
public record Activation(Kind kind, float slope) {
  /** The codes are those of {@code enum idemnet_activation} in {@code idemnet_common.h}. */
  public enum Kind {
    /** f(x) = x. */
    IDENTITY(NativeAbi.IDENTITY),
    /** f(x) = max(x, 0). */
    RELU(NativeAbi.RELU),
    /** f(x) = x for x &gt; 0, slope * x otherwise. */
    LEAKY_RELU(NativeAbi.LEAKY_RELU),
    /** f(x) = tanh(x). */
    TANH(NativeAbi.TANH),
    /** f(x) = 1 / (1 + exp(-x)). */
    SIGMOID(NativeAbi.SIGMOID);

    /** The code of {@code enum idemnet_activation}. */
    public final int code;

    Kind(int code) {
      this.code = code;
    }
  }

  public static final Activation IDENTITY = new Activation(Kind.IDENTITY, 0f);
  public static final Activation RELU = new Activation(Kind.RELU, 0f);
  public static final Activation TANH = new Activation(Kind.TANH, 0f);
  public static final Activation SIGMOID = new Activation(Kind.SIGMOID, 0f);

  public Activation {
    if (kind != Kind.LEAKY_RELU && slope != 0f) throw new IllegalArgumentException(kind + " takes no slope");
    if (!Float.isFinite(slope)) throw new IllegalArgumentException("slope must be finite, got " + slope);
  }

  /** LeakyReLU with the given negative slope (PyTorch's default is 0.01; the papers use 0.2). */
  public static Activation leakyRelu(float slope) {
    return new Activation(Kind.LEAKY_RELU, slope);
  }

  /** Whether the backward pass reads the input x (else it reads the output y). */
  public boolean backwardNeedsInput() {
    return kind == Kind.RELU || kind == Kind.LEAKY_RELU;
  }

  @Override
  public String toString() {
    return kind == Kind.LEAKY_RELU ? "LeakyReLU(" + slope + ")" : kind.toString();
  }
}
