package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The latent map R(u, q) of a fixed point network, with T(u) = R(u, q) a gamma-contraction in u
 * kept so by {@link #enforceContraction}. u and q have the same shape.
 */
public interface Latent extends AutoCloseable {
  /** T(u; q), recorded on {@code graph}. */
  Var apply(Graph graph, Var u, Var q);

  /** The contraction factor the map is kept below. */
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

  /**
   * The linearization of R(u, q) = act(A u + q) at u, for a linear operator A given with its
   * adjoint (each {@code (x, out)} writes out = A x or A^T x): J v = act'(pre) * (A v) and
   * J^T v = A^T (act'(pre) * v), with pre = A u + q evaluated once here.
   */
  static Linearization ofActivatedLinear(Graph graph, Tensor u, Tensor q, Activation act,
      BiConsumer<Tensor, Tensor> linear, BiConsumer<Tensor, Tensor> adjoint) {
    Backend be = graph.backend();
    Tensor pre = graph.workspace().take(u.shape()), out = graph.workspace().take(u.shape());
    Tensor tmp = graph.workspace().take(u.shape());
    linear.accept(u, pre);
    be.add(pre, q, pre);
    be.activation(act, pre, out);
    return new Linearization() {
      @Override
      public void apply(Tensor v, Tensor result) {
        linear.accept(v, tmp);
        be.activationBackward(act, pre, out, tmp, result);
      }

      @Override
      public void applyTransposed(Tensor v, Tensor result) {
        be.activationBackward(act, pre, out, v, tmp);
        adjoint.accept(tmp, result);
      }
    };
  }

  /** The weight acting on u. */
  Parameter weight();

  /** Estimates the Lipschitz constant of u -> W u and rescales W to gamma if it is larger; returns the estimate. */
  double enforceContraction(int iterations);

  /** The map's parameters under PyTorch-style names. */
  Map<String, Parameter> namedParameters();

  @Override
  default void close() {
    namedParameters().values().forEach(Parameter::close);
  }
}
