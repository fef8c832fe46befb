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
   * chosen algorithm; parameter gradients accumulate. Returns L_idem at the current parameters.
   */
  public static double backward(Graph graph, Module f, Tensor x, Mode mode) {
    Var y = f.forward(graph, graph.constant(x));
    checkSquare(x, y);
    Var loss = switch (mode) {
      case MODIFIED -> graph.apply(new ModifiedBackprop(f), y);
      case ORDINARY -> graph.mseLoss(f.forward(graph, y), y);
    };
    graph.backward(loss);
    return loss.value().toArray()[0];
  }

  /**
   * One training step: reset the graph, zero gradients, backward, optimizer step. Returns L_idem
   * before the update. When the loss or a gradient is NaN or infinite (e.g. a NaN in the batch, or
   * a diverging run) the update is skipped and f's buffers are put back as they were, or a
   * {@link io.idemnet.optim.NonFiniteStepException} is thrown, as the optimizer's
   * {@link Optimizer#nonFinitePolicy()} says; {@link Optimizer#skippedSteps()} counts the skips.
   *
   * @throws IllegalArgumentException for a batch without rows (its loss would be undefined)
   */
  public static double trainStep(Graph graph, Module f, Optimizer optimizer, Tensor x, Mode mode) {
    if (x.rank() == 0 || x.dim(0) == 0 || x.numel() == 0) {
      throw new IllegalArgumentException("trainStep: the batch " + x + " is empty; the loss of no rows is undefined");
    }
    graph.reset();
    optimizer.zeroGrad();
    BufferSnapshot buffers = f.namedBuffers().isEmpty() ? null : new BufferSnapshot(f);
    boolean applied = false;
    try {
      if (buffers != null) buffers.save();
      double loss = backward(graph, f, x, mode);
      applied = optimizer.stepIfFinite(loss);
      return loss;
    } finally {
      if (buffers != null) {
        if (!applied) buffers.restore(); // a skipped, refused or failed step leaves no trace
        buffers.close();
      }
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
      double sumSq = be.corrector(-1f / rows, fy, ffy, y, gradient, true);
      Tensor loss = graph.workspace().take(1);
      be.fill(loss, (float) (sumSq / Math.max(1, y.numel())));
      return loss;
    }

    @Override
    public void backward(Graph graph, Tensor gradOutput, Tensor[] gradInputs) {
      if (gradInputs[0] == null) return;
      float upstream = gradOutput.toArray()[0];
      if (upstream == 1f) graph.backend().copy(gradient, gradInputs[0]);
      else graph.backend().scale(gradient, upstream, gradInputs[0]);
    }
  }
}
