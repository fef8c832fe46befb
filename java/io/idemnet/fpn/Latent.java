package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import java.util.Map;

/**
 * The latent map R(u, q) of a fixed point network, with T(u) = R(u, q) a gamma-contraction in u
 * kept so by {@link #enforceContraction}. u and q have the same shape.
 */
public interface Latent extends AutoCloseable {
  Var apply(Graph graph, Var u, Var q);

  float gamma();

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
