package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * y = x W^T + b with W stored [out, in], as PyTorch's {@code nn.Linear}, and PyTorch's default
 * initialisation: W and b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)).
 */
public final class Linear implements Module {
  private final int in, out;
  private final Parameter weight;
  private final Parameter bias;

  /** Weights drawn from the counter-based generator: seed for W, seed + 1 for b. */
  public Linear(Backend backend, int in, int out, boolean withBias, long seed) {
    if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear: sizes must be positive, got " + in + " -> " + out);
    this.in = in;
    this.out = out;
    float bound = (float) (1.0 / Math.sqrt(in));
    this.weight = Parameter.uniform(backend, bound, seed, out, in);
    this.bias = withBias ? Parameter.uniform(backend, bound, seed + 1, out) : null;
  }

  /** Input features. */
  public int inFeatures() {
    return in;
  }

  /** Output features. */
  public int outFeatures() {
    return out;
  }

  /** The weight, [out, in] as in PyTorch. */
  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.linear(x, graph.param(weight), bias == null ? null : graph.param(bias));
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("weight", weight);
    if (bias != null) m.put("bias", bias);
    return m;
  }

  @Override
  public String toString() {
    return "Linear(" + in + ", " + out + (bias == null ? ", bias=False" : "") + ")";
  }
}
