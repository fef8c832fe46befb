package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import java.util.Arrays;
import java.util.Map;

/**
 * Reshapes every sample, keeping the batch dimension: [N, ...] -> [N, shape...] (a copy), like
 * {@code x.view(x.size(0), *shape)} in PyTorch or {@code nn.Unflatten(1, shape)} after a flat
 * layer. One entry of {@code shape} may be -1.
 */
public final class Reshape implements Module {
  private final int[] shape;

  /** Reshapes each sample to {@code shape} (the batch dimension is kept). */
  public Reshape(int... shape) {
    if (shape.length == 0) throw new IllegalArgumentException("Reshape: needs a per-sample shape");
    this.shape = shape.clone();
  }

  /** The per-sample shape (a copy). */
  public int[] shape() {
    return shape.clone();
  }

  @Override
  public Var forward(Graph graph, Var x) {
    int[] full = new int[shape.length + 1];
    full[0] = x.dim(0);
    System.arraycopy(shape, 0, full, 1, shape.length);
    return graph.reshape(x, full);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    return Map.of();
  }

  @Override
  public String toString() {
    return "Reshape" + Arrays.toString(shape);
  }
}
