package io.idemnet.optim;

import io.idemnet.autograd.Parameter;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients with one fused native kernel per parameter.
 * State tensors are named {@code <parameter name>.<state>} (e.g. {@code 0.weight.exp_avg}) so they
 * can be saved next to the model.
 */
public abstract class Optimizer implements AutoCloseable {
  protected final Map<String, Parameter> params;
  protected float learningRate;
  protected long steps;

  protected Optimizer(Map<String, Parameter> params, float learningRate) {
    if (!(learningRate >= 0) || !Float.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + learningRate);
    }
    this.params = new LinkedHashMap<>(params);
    this.learningRate = learningRate;
  }

  /** One update of every parameter from its gradient. */
  public final void step() {
    steps++;
    for (Map.Entry<String, Parameter> e : params.entrySet()) update(e.getKey(), e.getValue());
  }

  protected abstract void update(String name, Parameter p);

  /** Sets every parameter's gradient to zero. */
  public void zeroGrad() {
    params.values().forEach(Parameter::zeroGrad);
  }

  /** The current learning rate. */
  public float learningRate() {
    return learningRate;
  }

  /** Used by learning-rate schedules. */
  public void setLearningRate(float lr) {
    if (!(lr >= 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
    this.learningRate = lr;
  }

  /** Number of completed steps. */
  public long steps() {
    return steps;
  }

  /** Restores the step count (for resuming from a checkpoint). */
  public void setSteps(long steps) {
    if (steps < 0) throw new IllegalArgumentException("negative step count");
    this.steps = steps;
  }

  /** Named state tensors (live views, not copies); empty for stateless optimizers. */
  public abstract Map<String, Tensor> state();

  @Override
  public void close() {
    state().values().forEach(Tensor::close);
  }
}
