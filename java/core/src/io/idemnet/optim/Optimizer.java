package io.idemnet.optim;

import io.idemnet.autograd.Parameter;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients with one fused native kernel per parameter.
 * State tensors are named {@code <parameter name>.<state>} (e.g. {@code 0.weight.exp_avg}) so they
 * can be saved next to the model.
 *
 * <p>{@link #step()} applies an update whatever the gradients hold. Training loops call
 * {@link #stepIfFinite(double)} instead: it updates only when the loss and every gradient are
 * finite, and otherwise follows the {@link NonFinitePolicy}: skip the update (count it, log it) or
 * throw. One NaN in a batch then costs one step instead of every weight.
 */
public abstract class Optimizer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("io.idemnet");

  /** What {@link #stepIfFinite} does with a step whose loss or gradient is NaN or infinite. */
  public enum NonFinitePolicy {
    /** Skip the update (parameters, state and step count stay as they were), count it and log a warning. */
    SKIP,
    /** Throw a {@link NonFiniteStepException}; nothing is updated. */
    FAIL
  }

  protected final Map<String, Parameter> params;
  protected float learningRate;
  protected long steps;
  private NonFinitePolicy nonFinitePolicy = NonFinitePolicy.SKIP;
  private long skippedSteps;
  private int consecutiveSkips;
  private boolean closed;

  protected Optimizer(Map<String, Parameter> params, float learningRate) {
    if (!(learningRate >= 0) || !Float.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + learningRate);
    }
    this.params = new LinkedHashMap<>(params);
    this.learningRate = learningRate;
  }

  /** One update of every parameter from its gradient, unchecked (see {@link #stepIfFinite}). */
  public final void step() {
    if (closed) throw new IllegalStateException("Optimizer.step: optimizer used after close");
    steps++;
    for (Map.Entry<String, Parameter> e : params.entrySet()) update(e.getKey(), e.getValue());
  }

  /**
   * {@link #step()} when {@code loss} and every gradient are finite; otherwise the step is skipped
   * (policy SKIP: counted in {@link #skippedSteps()} and {@link #consecutiveSkips()}, logged) or
   * refused with a {@link NonFiniteStepException} (policy FAIL). The gradients are checked by one
   * reduction on the backend ({@link io.idemnet.backend.Backend#allFinite}).
   *
   * @return whether the update was applied
   */
  public final boolean stepIfFinite(double loss) {
    String problem = !Double.isFinite(loss) ? "the loss is " + loss
        : gradientsFinite() ? null : "a gradient holds NaN or infinite values";
    if (problem == null) {
      consecutiveSkips = 0;
      step();
      return true;
    }
    skipStep(problem);
    return false;
  }

  /**
   * Records a step that produced no usable gradient (e.g. its forward pass diverged) as
   * {@link #stepIfFinite} records a non-finite one: counted and logged, or, under the FAIL policy,
   * a {@link NonFiniteStepException}. Nothing is updated.
   */
  public final void skipStep(String problem) {
    if (nonFinitePolicy == NonFinitePolicy.FAIL) {
      throw new NonFiniteStepException("update " + (steps + 1) + " refused: " + problem + "; nothing was updated");
    }
    skippedSteps++;
    consecutiveSkips++;
    LOG.log(System.Logger.Level.WARNING, "idemnet: skipped update " + (steps + 1) + ": " + problem + " (" + skippedSteps
        + " skipped in all, " + consecutiveSkips + " in a row)");
  }

  /** Whether every parameter's gradient is free of NaN and infinity (one backend reduction). */
  public boolean gradientsFinite() {
    if (params.isEmpty()) return true;
    List<Tensor> grads = new ArrayList<>(params.size());
    for (Parameter p : params.values()) grads.add(p.grad());
    return params.values().iterator().next().backend().allFinite(grads);
  }

  /** What {@link #stepIfFinite} does with a non-finite step: skip it or throw. */
  public NonFinitePolicy nonFinitePolicy() {
    return nonFinitePolicy;
  }

  /** Sets what {@link #stepIfFinite} does with a non-finite step (SKIP unless set); returns this. */
  public Optimizer nonFinitePolicy(NonFinitePolicy policy) {
    this.nonFinitePolicy = java.util.Objects.requireNonNull(policy, "policy");
    return this;
  }

  /** Steps skipped by {@link #stepIfFinite} since this optimizer was made. */
  public long skippedSteps() {
    return skippedSteps;
  }

  /** Steps skipped since the last applied one (0 after an applied step). */
  public int consecutiveSkips() {
    return consecutiveSkips;
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

  /** Frees the state tensors; later steps are refused. */
  @Override
  public void close() {
    closed = true;
    state().values().forEach(Tensor::close);
  }
}
