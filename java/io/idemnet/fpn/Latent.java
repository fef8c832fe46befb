package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.tensor.Tensor;
import java.util.Map;

/**
 * The latent map R(u, q) of a fixed point network, with T(u) = R(u, q) a gamma-contraction in u
 * kept so by {@link #enforceContraction}. u and q have the same shape.
 */
public interface Latent extends AutoCloseable {
  Var apply(Graph graph, Var u, Var q);

  float gamma();

  /**
   * The Jacobian J = dT/du of T(u) = R(u, q) at u, as matrix-free products for the implicit
   * backward. R is evaluated once here; every product after that is one matrix (or convolution)
   * product and one elementwise activation derivative. Buffers come from {@code graph}'s
   * workspace and stay valid until its next reset.
   */
  Linearization linearize(Graph graph, Tensor u, Tensor q);

  /** Products with the Jacobian of T at one point; v and out have u's shape and must differ. */
  interface Linearization {
    /** out = J v (a Jacobian-vector product). */
    void apply(Tensor v, Tensor out);

    /** out = J^T v (a vector-Jacobian product). */
    void applyTransposed(Tensor v, Tensor out);
  }

  /** The weight acting on u. */
  Parameter weight();

  /** Estimates the Lipschitz constant of u -> W u and rescales W to gamma if it is larger; returns the estimate. */
  double enforceContraction(int iterations);

  Map<String, Parameter> namedParameters();

  @Override
  default void close() {
    namedParameters().values().forEach(Parameter::close);
  }
}
