package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Modules applied in order; parameter names are prefixed by the child's index, as in PyTorch. */
public final class Sequential implements Module {
  private final List<Module> children;

  /** The modules applied in the given order. */
  public Sequential(Module... children) {
    this.children = List.of(children);
  }

  /** The modules applied in the list's order. */
  public Sequential(List<Module> children) {
    this.children = List.copyOf(children);
  }

  /**
   * The paper's MLPs: Linear(d0, d1) + act, Linear(d1, d2) + act, ... with the activation after
   * every layer including the last (B1: 5-5; B2: 128-256-256-256-256-128; B3: 4096-1024-4096;
   * B4: 784-1024-2048-784, all with LeakyReLU(0.2)). Layer i draws its weights from seed + 2i.
   */
  public static Sequential mlp(Backend backend, long seed, Activation activation, int... dims) {
    if (dims.length < 2) throw new IllegalArgumentException("mlp needs at least two sizes");
    List<Module> layers = new ArrayList<>();
    for (int i = 0; i + 1 < dims.length; i++) {
      layers.add(new Linear(backend, dims[i], dims[i + 1], true, seed + 2L * i));
      layers.add(new ActivationLayer(activation));
    }
    return new Sequential(layers);
  }

  /**
   * Linear(d0, d1) + act, ..., Linear(d_{k-1}, d_k) with no activation after the last layer (the
   * usual regression or logits head). Layer i draws its weights from seed + 2i, as in
   * {@link #mlp}.
   */
  public static Sequential mlpLinearOutput(Backend backend, long seed, Activation activation, int... dims) {
    Sequential withLast = mlp(backend, seed, activation, dims);
    return new Sequential(withLast.children.subList(0, withLast.children.size() - 1));
  }

  /** The modules, in order. */
  public List<Module> children() {
    return children;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    Var h = x;
    for (Module m : children) h = m.forward(graph, h);
    return h;
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> all = new LinkedHashMap<>();
    for (int i = 0; i < children.size(); i++) {
      for (Map.Entry<String, Parameter> e : children.get(i).namedParameters().entrySet()) {
        all.put(i + "." + e.getKey(), e.getValue());
      }
    }
    return all;
  }

  @Override
  public Map<String, Tensor> namedBuffers() {
    Map<String, Tensor> all = new LinkedHashMap<>();
    for (int i = 0; i < children.size(); i++) {
      for (Map.Entry<String, Tensor> e : children.get(i).namedBuffers().entrySet()) {
        all.put(i + "." + e.getKey(), e.getValue());
      }
    }
    return all;
  }

  @Override
  public void train(boolean mode) {
    children.forEach(m -> m.train(mode));
  }

  /** Each child gets its own range of counters, so that equal seeds in two children never collide. */
  @Override
  public void setRandomCounter(long counter) {
    for (int i = 0; i < children.size(); i++) children.get(i).setRandomCounter(counter + ((long) i << 40));
  }

  @Override
  public void close() {
    children.forEach(Module::close);
  }

  @Override
  public String toString() {
    return "Sequential" + children;
  }
}
