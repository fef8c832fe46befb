package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A layer with a weight and an optional bias ({@link Linear}, {@link Conv2d},
 * {@link ConvTranspose2d}), both drawn from U(-bound, bound) as PyTorch's default initialisation
 * does: the weight from {@code seed}, the bias from {@code seed + 1}.
 */
abstract class WeightedLayer implements Module {
  private final Parameter weight;
  private final Parameter bias;

  WeightedLayer(Backend backend, float bound, long seed, boolean withBias, int biasSize, int... weightShape) {
    this.weight = Parameter.uniform(backend, bound, seed, weightShape);
    this.bias = withBias ? Parameter.uniform(backend, bound, seed + 1, biasSize) : null;
  }

  /** PyTorch's bound for the default initialisation: 1 / sqrt(fan_in). */
  static float bound(long fanIn) {
    return (float) (1.0 / Math.sqrt((double) fanIn));
  }

  /** The weight, in PyTorch's layout (the class comment gives it). */
  public Parameter weight() {
    return weight;
  }

  /** The bias, or null. */
  public Parameter bias() {
    return bias;
  }

  /** The bias on {@code graph}, or null when the layer has none. */
  final Var biasOn(Graph graph) {
    return bias == null ? null : graph.param(bias);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    m.put("weight", weight);
    if (bias != null) m.put("bias", bias);
    return m;
  }
}
