package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;

/**
 * y = x W^T + b with W stored [out, in], as PyTorch's {@code nn.Linear}, and PyTorch's default
 * initialisation: W and b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)).
 */
public final class Linear extends WeightedLayer {
  private final int in, out;

  /** Weights drawn from the counter-based generator: seed for W, seed + 1 for b. */
  public Linear(Backend backend, int in, int out, boolean withBias, long seed) {
    super(backend, bound(checkedFanIn(in, out)), seed, withBias, out, out, in);
    this.in = in;
    this.out = out;
  }

  private static long checkedFanIn(int in, int out) {
    if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear: sizes must be positive, got " + in + " -> " + out);
    return in;
  }

  /** Input features. */
  public int inFeatures() {
    return in;
  }

  /** Output features. */
  public int outFeatures() {
    return out;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.linear(x, graph.param(weight()), biasOn(graph));
  }

  @Override
  public String toString() {
    return "Linear(" + in + ", " + out + (bias() == null ? ", bias=False" : "") + ")";
  }
}
