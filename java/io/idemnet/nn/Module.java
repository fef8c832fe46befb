package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A differentiable function with named parameters, applied on a {@link Graph}. Parameter names
 * follow PyTorch's {@code state_dict} ({@code weight}, {@code bias}, and {@code 0.weight} ... inside
 * a {@link Sequential}), so checkpoints map one to one onto the same PyTorch module.
 */
public interface Module extends AutoCloseable {
  Var forward(Graph graph, Var x);

  /** Parameters by PyTorch-style name, in registration order. */
  Map<String, Parameter> namedParameters();

  default List<Parameter> parameters() {
    return new ArrayList<>(namedParameters().values());
  }

  /** Frees the parameters' memory. */
  @Override
  default void close() {
    namedParameters().values().forEach(Parameter::close);
  }
}
