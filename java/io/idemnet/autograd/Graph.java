package io.idemnet.autograd;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tape-based reverse-mode differentiation over backend tensors.
 *
 * <p>One graph serves a whole training loop: call {@link #reset()} at the start of every step;
 * values and gradients the graph allocated live in its {@link Workspace} and are reused by the
 * next step (so they are valid until the next reset). An operation is recorded only when one of
 * its inputs requires a gradient and recording is on.
 *
 * <p>Scopes: {@link #noGrad()} turns recording off (results require no gradient);
 * {@link #detachParameters()} makes {@link #param} hand out parameters that receive no gradient
 * while gradients still flow through them to their inputs: the same module then serves as
 * f_theta and as the detached copy f_theta' that IGN needs, without copying weights.
 */
public final class Graph implements AutoCloseable {
  private final Backend backend;
  private final Workspace workspace;
  private final List<Node> tape = new ArrayList<>();
  private int noGradDepth;
  private int detachDepth;

  public Graph(Backend backend) {
    this.backend = backend;
    this.workspace = new Workspace(backend);
  }

  public Backend backend() {
    return backend;
  }

  public Workspace workspace() {
    return workspace;
  }

  /** Starts a new step: forgets the tape and recycles the workspace. */
  public void reset() {
    tape.clear();
    workspace.rewind();
  }

  /** Number of recorded operations (for tests). */
  public int tapeSize() {
    return tape.size();
  }

  public boolean isRecording() {
    return noGradDepth == 0;
  }

  /** A scope in which nothing is recorded: {@code try (var s = graph.noGrad()) { ... }}. */
  public Scope noGrad() {
    noGradDepth++;
    return () -> noGradDepth--;
  }

  /** A scope in which parameters act as constants (gradients still flow to inputs). */
  public Scope detachParameters() {
    detachDepth++;
    return () -> detachDepth--;
  }

  /** A scope closed with try-with-resources; closing does not throw. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  // ------------------------------------------------------------------ leaves

  /** A value that needs no gradient (data). The graph does not take ownership. */
  public Var constant(Tensor t) {
    checkBackend(t);
    return new Var(t, false, null);
  }

  /** A leaf whose gradient is wanted (e.g. for a gradient check): backward allocates its grad. */
  public Var leaf(Tensor t) {
    checkBackend(t);
    return new Var(t, true, null);
  }

  /** A parameter: gradients accumulate into {@link Parameter#grad()} unless parameters are detached. */
  public Var param(Parameter p) {
    checkBackend(p.value());
    return detachDepth > 0 ? new Var(p.value(), false, null) : new Var(p.value(), true, p.grad());
  }

  private void checkBackend(Tensor t) {
    if (t.backend() != backend) {
      throw new IllegalArgumentException("tensor " + t + " is not on this graph's backend " + backend.name());
    }
  }

  private boolean records(Var... inputs) {
    if (noGradDepth > 0) return false;
    for (Var v : inputs) {
      if (v != null && v.requiresGrad) return true;
    }
    return false;
  }

  private Var output(Tensor value, boolean recorded, Node node) {
    Var out = new Var(value, recorded, null);
    if (recorded) {
      node.output = out;
      tape.add(node);
    }
    return out;
  }

  // ------------------------------------------------------------------ operations

  /** y = x W^T + b for x [N, in], W [out, in], b [out] (or null): PyTorch's Linear. */
  public Var linear(Var x, Var w, Var b) {
    if (x.value.rank() != 2 || w.value.rank() != 2 || x.dim(1) != w.dim(1)) {
      throw new IllegalArgumentException("linear: need x [N, in] and W [out, in], got x " + Arrays.toString(x.shape())
          + ", W " + Arrays.toString(w.shape()));
    }
    Tensor y = workspace.take(x.dim(0), w.dim(0));
    backend.gemm(false, true, 1f, x.value, w.value, 0f, y);
    if (b != null) backend.addBias(y, b.value, y);
    boolean rec = records(x, w, b);
    return output(y, rec, rec ? new LinearNode(x, w, b) : null);
  }

  /** y = act(x). */
  public Var activation(Activation act, Var x) {
    Tensor y = workspace.take(x.shape());
    backend.activation(act, x.value, y);
    boolean rec = records(x);
    return output(y, rec, rec ? new ActivationNode(act, x) : null);
  }

  /** a + b (same shapes). */
  public Var add(Var a, Var b) {
    Tensor y = workspace.take(a.shape());
    backend.add(a.value, b.value, y);
    boolean rec = records(a, b);
    return output(y, rec, rec ? new AddSubNode(a, b, 1f) : null);
  }

  /** a - b (same shapes). */
  public Var sub(Var a, Var b) {
    Tensor y = workspace.take(a.shape());
    backend.sub(a.value, b.value, y);
    boolean rec = records(a, b);
    return output(y, rec, rec ? new AddSubNode(a, b, -1f) : null);
  }

  /** mean((a - b)^2) over all elements, as a [1] tensor. */
  public Var mseLoss(Var a, Var b) {
    Tensor diff = workspace.take(a.shape());
    backend.sub(a.value, b.value, diff);
    double loss = backend.sumOfSquares(diff) / Math.max(1, diff.numel());
    Tensor out = workspace.take(1);
    backend.fill(out, (float) loss);
    boolean rec = records(a, b);
    return output(out, rec, rec ? new MseNode(a, b, diff) : null);
  }

  /**
   * Mean softmax cross-entropy of {@code logits} [N, classes] against integer labels, as a [1]
   * tensor. Computed on the host (N x classes values), which is cheap next to the layers before it.
   */
  public Var crossEntropy(Var logits, int[] labels) {
    if (logits.value.rank() != 2 || logits.dim(0) != labels.length) {
      throw new IllegalArgumentException("crossEntropy: need logits [N, classes] and N labels, got "
          + Arrays.toString(logits.shape()) + " and " + labels.length + " labels");
    }
    int n = logits.dim(0), k = logits.dim(1);
    float[] z = logits.value.toArray();
    float[] grad = new float[z.length];
    double loss = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= k) {
        throw new IllegalArgumentException("crossEntropy: label " + labels[i] + " at row " + i + " outside [0, " + k + ")");
      }
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) max = Math.max(max, z[i * k + j]);
      double sum = 0;
      for (int j = 0; j < k; j++) sum += Math.exp(z[i * k + j] - max);
      double logSum = max + Math.log(sum);
      loss += logSum - z[i * k + labels[i]];
      for (int j = 0; j < k; j++) {
        grad[i * k + j] = (float) ((Math.exp(z[i * k + j] - logSum) - (j == labels[i] ? 1 : 0)) / n);
      }
    }
    Tensor out = workspace.take(1);
    backend.fill(out, (float) (loss / Math.max(1, n)));
    boolean rec = records(logits);
    if (!rec) return output(out, false, null);
    Tensor g = workspace.take(logits.shape());
    g.copyFrom(grad);
    return output(out, true, new ScaledGradientNode(logits, g));
  }

  /** Runs a custom function and records it with its hand-written backward. */
  public Var apply(CustomFunction fn, Var... inputs) {
    Tensor[] values = new Tensor[inputs.length];
    for (int i = 0; i < inputs.length; i++) values[i] = inputs[i].value;
    Tensor out;
    try (Scope s = noGrad()) {
      out = fn.forward(this, values);
    }
    boolean rec = records(inputs);
    return output(out, rec, rec ? new CustomNode(fn, inputs) : null);
  }

  // ------------------------------------------------------------------ backward

  /** Backpropagates from a scalar ([1]-shaped) output with dL/dL = 1. */
  public void backward(Var loss) {
    if (loss.value.numel() != 1) {
      throw new IllegalArgumentException("backward(loss) needs a one-element output, got " + Arrays.toString(loss.shape())
          + "; use backward(output, gradient)");
    }
    Tensor seed = workspace.take(loss.shape());
    backend.fill(seed, 1f);
    backward(List.of(loss), List.of(seed));
  }

  /** Backpropagates dL/d(output) = {@code gradient} (which is read, not kept). */
  public void backward(Var output, Tensor gradient) {
    backward(List.of(output), List.of(gradient));
  }

  /** Backpropagates several seeds at once (their contributions add up). */
  public void backward(List<Var> outputs, List<Tensor> gradients) {
    if (outputs.size() != gradients.size()) throw new IllegalArgumentException("backward: outputs and gradients differ in number");
    for (int i = 0; i < outputs.size(); i++) {
      Var v = outputs.get(i);
      Tensor g = gradients.get(i);
      if (!v.value.sameShape(g)) {
        throw new IllegalArgumentException("backward: gradient " + g + " does not match output " + v.value);
      }
      if (!v.requiresGrad) throw new IllegalArgumentException("backward: output does not require a gradient");
      accumulate(v, g);
    }
    for (int i = tape.size() - 1; i >= 0; i--) {
      Node n = tape.get(i);
      if (n.output.grad != null) n.backward();
    }
  }

  /** Adds {@code contribution} to v's gradient, allocating it on first contact. */
  void accumulate(Var v, Tensor contribution) {
    if (v.grad == null) {
      v.grad = workspace.take(v.shape());
      backend.copy(contribution, v.grad);
    } else {
      backend.add(v.grad, contribution, v.grad);
    }
  }

  /**
   * A buffer to write v's gradient contribution into: v's own gradient when this is the first
   * contribution (then {@link #commit} does nothing), else scratch that commit adds in.
   */
  private Tensor gradTarget(Var v) {
    if (v.grad == null) {
      v.grad = workspace.take(v.shape());
      return v.grad;
    }
    return workspace.take(v.shape());
  }

  private void commit(Var v, Tensor target) {
    if (target != v.grad) backend.add(v.grad, target, v.grad);
  }

  private static boolean wants(Var v) {
    return v != null && v.requiresGrad;
  }

  private abstract static class Node {
    Var output;

    abstract void backward();
  }

  private final class LinearNode extends Node {
    final Var x, w, b;

    LinearNode(Var x, Var w, Var b) {
      this.x = x;
      this.w = w;
      this.b = b;
    }

    @Override
    void backward() {
      Tensor dy = output.grad;
      if (wants(w)) {
        // dW [out, in] = dy^T x; parameters accumulate, a fresh gradient is overwritten.
        boolean fresh = w.grad == null;
        if (fresh) w.grad = workspace.take(w.shape());
        backend.gemm(true, false, 1f, dy, x.value, fresh ? 0f : 1f, w.grad);
      }
      if (wants(b)) {
        boolean fresh = b.grad == null;
        if (fresh) b.grad = workspace.take(b.shape());
        backend.sumRows(dy, b.grad, !fresh);
      }
      if (wants(x)) {
        // dx [N, in] = dy W; skipped for data inputs (the first layer's dx is never needed there).
        boolean fresh = x.grad == null;
        if (fresh) x.grad = workspace.take(x.shape());
        backend.gemm(false, false, 1f, dy, w.value, fresh ? 0f : 1f, x.grad);
      }
    }
  }

  private final class ActivationNode extends Node {
    final Activation act;
    final Var x;

    ActivationNode(Activation act, Var x) {
      this.act = act;
      this.x = x;
    }

    @Override
    void backward() {
      if (!wants(x)) return;
      Tensor dx = gradTarget(x);
      backend.activationBackward(act, x.value, output.value, output.grad, dx);
      commit(x, dx);
    }
  }

  private final class AddSubNode extends Node {
    final Var a, b;
    final float signB;

    AddSubNode(Var a, Var b, float signB) {
      this.a = a;
      this.b = b;
      this.signB = signB;
    }

    @Override
    void backward() {
      if (wants(a)) accumulate(a, output.grad);
      if (wants(b)) {
        Tensor db = gradTarget(b);
        backend.scale(output.grad, signB, db);
        commit(b, db);
      }
    }
  }

  private final class MseNode extends Node {
    final Var a, b;
    final Tensor diff;

    MseNode(Var a, Var b, Tensor diff) {
      this.a = a;
      this.b = b;
      this.diff = diff;
    }

    @Override
    void backward() {
      // d/da mean((a-b)^2) = 2 (a - b) / numel, times the incoming scalar gradient.
      float upstream = output.grad.toArray()[0];
      float s = 2f * upstream / Math.max(1, diff.numel());
      if (wants(a)) {
        Tensor da = gradTarget(a);
        backend.scale(diff, s, da);
        commit(a, da);
      }
      if (wants(b)) {
        Tensor db = gradTarget(b);
        backend.scale(diff, -s, db);
        commit(b, db);
      }
    }
  }

  /** An input whose gradient is a fixed tensor times the incoming scalar gradient. */
  private final class ScaledGradientNode extends Node {
    final Var input;
    final Tensor gradient;

    ScaledGradientNode(Var input, Tensor gradient) {
      this.input = input;
      this.gradient = gradient;
    }

    @Override
    void backward() {
      if (!wants(input)) return;
      float upstream = output.grad.toArray()[0];
      Tensor target = gradTarget(input);
      backend.scale(gradient, upstream, target);
      commit(input, target);
    }
  }

  private final class CustomNode extends Node {
    final CustomFunction fn;
    final Var[] inputs;

    CustomNode(CustomFunction fn, Var[] inputs) {
      this.fn = fn;
      this.inputs = inputs;
    }

    @Override
    void backward() {
      Tensor[] targets = new Tensor[inputs.length];
      for (int i = 0; i < inputs.length; i++) targets[i] = wants(inputs[i]) ? gradTarget(inputs[i]) : null;
      try (Scope s = noGrad()) {
        fn.backward(Graph.this, output.grad, targets);
      }
      for (int i = 0; i < inputs.length; i++) {
        if (targets[i] != null) commit(inputs[i], targets[i]);
      }
    }
  }

  @Override
  public void close() {
    tape.clear();
    workspace.close();
  }
}
