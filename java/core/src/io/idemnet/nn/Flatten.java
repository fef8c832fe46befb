package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import java.util.Map;

/** PyTorch's {@code nn.Flatten()} with its defaults: [N, d1, d2, ...] -> [N, d1 * d2 * ...] (a copy). */
public record Flatten() implements Module {
  @Override
  public Var forward(Graph graph, Var x) {
    return graph.flatten(x);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    return Map.of();
  }

  @Override
  public String toString() {
    return "Flatten()";
  }
}
