package io.idemnet.idempotent;

import io.idemnet.autograd.CustomFunction;
import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.nn.BufferSnapshot;
import io.idemnet.nn.Module;
import io.idemnet.optim.Optimizer;
import io.idemnet.tensor.Tensor;

/**
 * The idempotent loss L_idem = mean((f(y) - y)^2), y = f(x), mean over all elements, for any
 * module f: R^n -> R^n, trained by one of two algorithms:
 *
 * <ul>
 *   <li>{@link Mode#MODIFIED} (Modified Backpropagation, Jensen &amp; Vicary, Algorithm 1): y = f(x)
 *       is recorded; f(y) and f(f(y)) are evaluated without a tape; dL/dy is replaced by
 *       -(3 f(y) - 2 f(f(y)) - y) / N (N = batch rows) and backpropagated through y = f(x) only.
 *       The gradient and the loss come from one fused pass ({@link Backend#corrector}) that reuses
 *       f(y); no input gradient is computed for the first layer.
 *   <li>{@link Mode#ORDINARY} (OB): the true gradient of mean((f(f(x)) - f(x))^2) through both
 *       applications of f.
 * </ul>
 */
public final class IdempotentLoss {
  private IdempotentLoss() {}

  /** How the gradient of the idempotent loss is computed. */
  public enum Mode {
    /** Modified Backpropagation (the paper's Algorithm 1). */
    MODIFIED,
    /** Ordinary Backpropagation: the true gradient through both applications of f. */
    ORDINARY
  }

  /**
   * Records f on the batch {@code x} ([N, n]) and backpropagates the idempotent loss with the
   * chosen algorithm; parameter gradients accumulate. Returns L_idem at the current parameters as
   * a one-element tensor on the device (valid until the graph's next reset; read it with
   * {@link Backend#readScalar}). Nothing is copied to or from the host.
   */
  public static Tensor backward(Graph graph, Module f, Tensor x, Mode mode) {
    Var y = f.forward(graph, graph.constant(x));
    checkSquare(x, y);
    Var loss = switch (mode) {
      case MODIFIED -> graph.apply(new ModifiedBackprop(f), y);
      case ORDINARY -> graph.mseLoss(f.forward(graph, y), y);
    };
    graph.backward(loss);
    return loss.value();
  }

  /**
   * One training step: reset the graph, zero gradients, backward, and the optimizer step when the
   * loss and every gradient are finite ({@link Optimizer#stepIfFinite(Tensor)}: one declared read
   * of 4 bytes). Returns L_idem before the update as a one-element tensor on the device. When the
   * loss or a gradient is NaN or infinite (e.g. a NaN in the batch, or a diverging run) the update
   * is skipped and f's buffers are put back as they were, or a
   * {@link io.idemnet.optim.NonFiniteStepException} is thrown, as the optimizer's
   * {@link Optimizer#nonFinitePolicy()} says; {@link Optimizer#skippedSteps()} counts the skips.
   *
   * @throws IllegalArgumentException for a batch without rows (its loss would be undefined)
   */
  public static Tensor trainStep(Graph graph, Module f, Optimizer optimizer, Tensor x, Mode mode) {
    checkBatch(x);
    graph.reset();
    optimizer.zeroGrad();
    BufferSnapshot buffers = f.namedBuffers().isEmpty() ? null : new BufferSnapshot(f);
    boolean applied = false;
    try {
      if (buffers != null) buffers.save();
      Tensor loss = backward(graph, f, x, mode);
      applied = optimizer.stepIfFinite(loss);
      return loss;
    } finally {
      if (buffers != null) {
        if (!applied) buffers.restore(); // a skipped, refused or failed step leaves no trace
        buffers.close();
      }
    }
  }

  /**
   * The device half of an unchecked step: reset the graph, zero gradients, backward,
   * {@link Optimizer#applyStep()}; run {@link Optimizer#prepareStep()} before it. It moves no data
   * between host and device, so it can be {@linkplain Backend#record recorded} once and replayed
   * after each {@code prepareStep()}; the returned loss tensor is the same buffer at every replay.
   * It does not skip non-finite steps: read the loss when logging to notice one.
   */
  public static Tensor stepKernels(Graph graph, Module f, Optimizer optimizer, Tensor x, Mode mode) {
    checkBatch(x);
    graph.reset();
    optimizer.zeroGrad();
    Tensor loss = backward(graph, f, x, mode);
    optimizer.applyStep();
    return loss;
  }

  private static void checkBatch(Tensor x) {
    if (x.rank() == 0 || x.dim(0) == 0 || x.numel() == 0) {
      throw new IllegalArgumentException("trainStep: the batch " + x + " is empty; the loss of no rows is undefined");
    }
  }

  /** The idempotent error mean((f(f(x)) - f(x))^2) without recording anything. */
  public static double error(Graph graph, Module f, Tensor x) {
    try (Graph.Scope s = graph.noGrad()) {
      Var y = f.forward(graph, graph.constant(x));
      checkSquare(x, y);
      Var z = f.forward(graph, y);
      Tensor diff = graph.workspace().take(y.shape());
      graph.backend().sub(z.value(), y.value(), diff);
      return graph.backend().sumOfSquares(diff) / Math.max(1, diff.numel());
    }
  }

  private static void checkSquare(Tensor x, Var y) {
    if (!x.sameShape(y.value())) {
      throw new IllegalArgumentException("the idempotent loss needs f: R^n -> R^n; input " + x + " maps to "
          + java.util.Arrays.toString(y.shape()));
    }
  }

  /**
   * MB as a custom function of y, the way the paper builds it in PyTorch: forward computes the
   * loss and, in the same fused pass, the replacement gradient; backward hands that gradient on.
   */
  static final class ModifiedBackprop implements CustomFunction {
    private final Module f;
    private Tensor gradient;

    ModifiedBackprop(Module f) {
      this.f = f;
    }

    @Override
    public Tensor forward(Graph graph, Tensor... inputs) {
      Tensor y = inputs[0];
      Backend be = graph.backend();
      Tensor fy = f.forward(graph, graph.constant(y)).value();
      Tensor ffy = f.forward(graph, graph.constant(fy)).value();
      gradient = graph.workspace().take(y.shape());
      int rows = y.rank() == 0 ? 1 : y.dim(0);
      Tensor loss = graph.workspace().take(1);
      be.corrector(-1f / rows, fy, ffy, y, gradient, 1.0 / Math.max(1, y.numel()), loss);
      return loss;
    }

    @Override
    public void backward(Graph graph, Tensor gradOutput, Tensor[] gradInputs) {
      if (gradInputs[0] == null) return;
      // The upstream gradient stays on the device (1 in a plain backward: then this is a copy, bit for bit).
      graph.backend().scale(gradient, gradOutput, 1f, gradInputs[0]);
    }
  }
}
