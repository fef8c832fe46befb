package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import java.util.Map;

/** An activation as a module (ReLU, LeakyReLU, Tanh, Sigmoid); it has no parameters. */
public record ActivationLayer(Activation activation) implements Module {
  /** ReLU. */
  public static ActivationLayer relu() {
    return new ActivationLayer(Activation.RELU);
  }

  /** LeakyReLU with the given negative slope. */
  public static ActivationLayer leakyRelu(float slope) {
    return new ActivationLayer(Activation.leakyRelu(slope));
  }

  /** Tanh. */
  public static ActivationLayer tanh() {
    return new ActivationLayer(Activation.TANH);
  }

  /** Sigmoid. */
  public static ActivationLayer sigmoid() {
    return new ActivationLayer(Activation.SIGMOID);
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.activation(activation, x);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    return Map.of();
  }

  @Override
  public String toString() {
    return activation.toString();
  }
}
