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
  /**
   * The scalars the update kernels read from device memory (on the parameters' backend; null
   * without parameters), written by {@link #writeStepScalars}.
   */
  protected final Tensor stepScalars;

  /** @param scalarCount how many step scalars the update kernels read (see {@link #stepScalars}) */
  protected Optimizer(Map<String, Parameter> params, float learningRate, int scalarCount) {
    if (!(learningRate >= 0) || !Float.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + learningRate);
    }
    this.params = new LinkedHashMap<>(params);
    this.learningRate = learningRate;
    this.stepScalars = params.isEmpty() ? null : params.values().iterator().next().backend().zeros(scalarCount);
  }

  /** One update of every parameter from its gradient: {@link #prepareStep()} then {@link #applyStep()}. */
  public final void step() {
    prepareStep();
    applyStep();
  }

  /**
   * The host half of a step: counts it and writes the scalars the update kernels read from device
   * memory (learning rate, bias corrections) with a declared write, when they changed. Call it
   * before each replay of a recorded step that contains {@link #applyStep()}.
   */
  public final void prepareStep() {
    steps++;
    writeStepScalars();
  }

  /**
   * The device half of a step: the update kernels, reading the scalars of the last
   * {@link #prepareStep()} from device memory (so this part can be recorded and replayed).
   */
  public final void applyStep() {
    for (Map.Entry<String, Parameter> e : params.entrySet()) update(e.getKey(), e.getValue());
  }

  /** Writes the step's scalars for the step count {@link #steps} and the current learning rate. */
  protected abstract void writeStepScalars();

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
    if (stepScalars != null) stepScalars.close();
  }
}
