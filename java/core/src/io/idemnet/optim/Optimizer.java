package io.idemnet.optim;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
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
  /**
   * The scalars the update kernels read from device memory (on the parameters' backend; null
   * without parameters), written by {@link #writeStepScalars}.
   */
  protected final Tensor stepScalars;
  /** One-element tensors of the device-side finiteness check ({@link #stepIfFinite(Tensor)}). */
  private final Tensor finiteFlag, finiteTerm;

  /** @param scalarCount how many step scalars the update kernels read (see {@link #stepScalars}) */
  protected Optimizer(Map<String, Parameter> params, float learningRate, int scalarCount) {
    if (!(learningRate >= 0) || !Float.isFinite(learningRate)) {
      throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + learningRate);
    }
    this.params = new LinkedHashMap<>(params);
    this.learningRate = learningRate;
    Backend be = params.isEmpty() ? null : params.values().iterator().next().backend();
    this.stepScalars = be == null ? null : be.zeros(scalarCount);
    this.finiteFlag = be == null ? null : be.zeros(1);
    this.finiteTerm = be == null ? null : be.zeros(1);
  }

  /**
   * One update of every parameter from its gradient, unchecked (see {@link #stepIfFinite}):
   * {@link #prepareStep()} then {@link #applyStep()}.
   */
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
    if (closed) throw new IllegalStateException("Optimizer.step: optimizer used after close");
    steps++;
    writeStepScalars();
  }

  /**
   * The device half of a step: the update kernels, reading the scalars of the last
   * {@link #prepareStep()} from device memory (so this part can be recorded and replayed).
   */
  public final void applyStep() {
    if (closed) throw new IllegalStateException("Optimizer.step: optimizer used after close");
    for (Map.Entry<String, Parameter> e : params.entrySet()) update(e.getKey(), e.getValue());
  }

  /** Writes the step's scalars for the step count {@link #steps} and the current learning rate. */
  protected abstract void writeStepScalars();

  /**
   * {@link #stepIfFinite(double)} for a loss that lives on the device: the finiteness of the loss
   * and of every gradient is reduced on the device to one float (sum of squares times 0: 0 when
   * finite, NaN otherwise; squares of floats cannot overflow the double sum) and read with one
   * declared read of 4 bytes, the only host traffic of the check.
   *
   * @return whether the update was applied
   */
  public final boolean stepIfFinite(Tensor loss) {
    if (finiteFlag == null) return stepIfFinite(0.0);
    Backend be = Backend.of(finiteFlag);
    be.sumOfSquares(loss, 0.0, finiteFlag);
    for (Parameter p : params.values()) {
      be.sumOfSquares(p.grad(), 0.0, finiteTerm);
      be.add(finiteFlag, finiteTerm, finiteFlag);
    }
    if (be.readScalar(finiteFlag) == 0f) {
      consecutiveSkips = 0;
      step();
      return true;
    }
    skipStep("the loss or a gradient holds NaN or infinite values");
    return false;
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
    for (Tensor t : new Tensor[] {stepScalars, finiteFlag, finiteTerm}) {
      if (t != null) t.close();
    }
  }
}
