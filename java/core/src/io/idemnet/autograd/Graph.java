package io.idemnet.autograd;

import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
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
  private boolean closed;
  private int noGradDepth;
  private int detachDepth;

  /**
   * The step's random counter on the device ([2], see {@link Backend#counterScalars}), allocated up
   * front so that a recorded step reads it rather than creating (and zeroing) it.
   */
  private final Tensor randomCounter;

  /** A graph whose tape and workspace live on {@code backend}. */
  public Graph(Backend backend) {
    this.backend = backend;
    this.workspace = new Workspace(backend);
    this.randomCounter = backend.zeros(2);
  }

  /**
   * Writes the counter that {@link #dropout(Var, float, long, long)} adds to its offsets (a declared
   * write of two floats): a training loop sets it once per step, before the step runs or is
   * replayed, so a recorded step draws new dropout masks every step. The counter lies in [0, 2^48).
   */
  public void setRandomCounter(long counter) {
    backend.writeScalars(randomCounter, Backend.counterScalars(counter));
  }

  /** The device tensor behind {@link #setRandomCounter}. */
  public Tensor randomCounter() {
    return randomCounter;
  }

  /** The backend every value of this graph lives on. */
  public Backend backend() {
    return backend;
  }

  /** The buffers reused from step to step (see {@link #reset()}). */
  public Workspace workspace() {
    checkOpen("workspace");
    return workspace;
  }

  /** Starts a new step: forgets the tape and recycles the workspace. */
  public void reset() {
    checkOpen("reset");
    tape.clear();
    workspace.rewind();
  }

  /** Number of recorded operations (for tests). */
  public int tapeSize() {
    return tape.size();
  }

  /** Whether operations are recorded now (false inside a {@link #noGrad()} scope). */
  public boolean isRecording() {
    return noGradDepth == 0;
  }

  /** A scope in which nothing is recorded: {@code try (var s = graph.noGrad()) { ... }}. */
  public Scope noGrad() {
    checkOpen("noGrad");
    noGradDepth++;
    return () -> noGradDepth--;
  }

  /** A scope in which parameters act as constants (gradients still flow to inputs). */
  public Scope detachParameters() {
    checkOpen("detachParameters");
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
    checkOpen("constant");
    checkBackend(t);
    return new Var(t, false, null);
  }

  /** A leaf whose gradient is wanted (e.g. for a gradient check): backward allocates its grad. */
  public Var leaf(Tensor t) {
    checkOpen("leaf");
    checkBackend(t);
    return new Var(t, true, null);
  }

  /** A parameter: gradients accumulate into {@link Parameter#grad()} unless parameters are detached. */
  public Var param(Parameter p) {
    checkOpen("param");
    checkBackend(p.value());
    return detachDepth > 0 ? new Var(p.value(), false, null) : new Var(p.value(), true, p.grad());
  }

  private void checkBackend(Tensor t) {
    if (t.owner() != backend) {
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
    checkOpen("linear");
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
    checkOpen("activation");
    Tensor y = workspace.take(x.shape());
    backend.activation(act, x.value, y);
    boolean rec = records(x);
    return output(y, rec, rec ? new ActivationNode(act, x) : null);
  }

  /** a + b (same shapes). */
  public Var add(Var a, Var b) {
    checkOpen("add");
    Tensor y = workspace.take(a.shape());
    backend.add(a.value, b.value, y);
    boolean rec = records(a, b);
    return output(y, rec, rec ? new AddSubNode(a, b, 1f) : null);
  }

  /** a - b (same shapes). */
  public Var sub(Var a, Var b) {
    checkOpen("sub");
    Tensor y = workspace.take(a.shape());
    backend.sub(a.value, b.value, y);
    boolean rec = records(a, b);
    return output(y, rec, rec ? new AddSubNode(a, b, -1f) : null);
  }

  /** mean((a - b)^2) over all elements, as a [1] tensor computed on the device. */
  public Var mseLoss(Var a, Var b) {
    checkOpen("mseLoss");
    Tensor diff = workspace.take(a.shape());
    backend.sub(a.value, b.value, diff);
    Tensor out = workspace.take(1);
    backend.sumOfSquares(diff, 1.0 / Math.max(1, diff.numel()), out);
    boolean rec = records(a, b);
    return output(out, rec, rec ? new MseNode(a, b, diff) : null);
  }

  /**
   * Mean softmax cross-entropy of {@code logits} [N, classes] against {@code labels} [N] (class
   * indices stored as floats, on this graph's backend), as a [1] tensor; loss and gradient are
   * computed on the device ({@link Backend#softmaxCrossEntropy}). A label outside [0, classes)
   * makes the loss NaN: check labels where they are made, or use {@link #crossEntropy(Var, int[])}.
   */
  public Var crossEntropy(Var logits, Tensor labels) {
    checkBackend(labels);
    if (logits.value.rank() != 2 || !labels.hasShape(logits.dim(0))) {
      throw new IllegalArgumentException("crossEntropy: need logits [N, classes] and labels [N], got "
          + Arrays.toString(logits.shape()) + " and " + labels);
    }
    Tensor out = workspace.take(1);
    boolean rec = records(logits);
    Tensor g = rec ? workspace.take(logits.shape()) : null;
    backend.softmaxCrossEntropy(logits.value, labels, out, g);
    return output(out, rec, rec ? new ScaledGradientNode(logits, g) : null);
  }

  /**
   * {@link #crossEntropy(Var, Tensor)} with labels from the host: they are checked against the
   * class count and uploaded (an upload every call; a device-resident step keeps its labels in a
   * tensor filled with the batch).
   */
  public Var crossEntropy(Var logits, int[] labels) {
    checkOpen("crossEntropy");
    if (logits.value.rank() != 2 || logits.dim(0) != labels.length) {
      throw new IllegalArgumentException("crossEntropy: need logits [N, classes] and N labels, got "
          + Arrays.toString(logits.shape()) + " and " + labels.length + " labels");
    }
    Tensor t = workspace.take(labels.length);
    t.copyFrom(labelValues(labels, logits.dim(1)));
    return crossEntropy(logits, t);
  }

  /** Labels as the floats {@link #crossEntropy(Var, Tensor)} reads, after checking each lies in [0, classes). */
  public static float[] labelValues(int[] labels, int classes) {
    float[] v = new float[labels.length];
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException("crossEntropy: label " + labels[i] + " at row " + i + " outside [0, " + classes
            + ")");
      }
      v[i] = labels[i];
    }
    return v;
  }

  /**
   * PyTorch's conv2d: x [N, C, H, W], w [O, C, kh, kw], b [O] (or null) give
   * [N, O, (H + 2 padH - kh) / strideH + 1, (W + 2 padW - kw) / strideW + 1].
   */
  public Var conv2d(Var x, Var w, Var b, ConvSpec spec) {
    checkOpen("conv2d");
    requireRank4("conv2d", x, w);
    Tensor y = workspace.take(x.dim(0), w.dim(0), Math.max(0, spec.convOutH(x.dim(2), w.dim(2))),
        Math.max(0, spec.convOutW(x.dim(3), w.dim(3))));
    backend.conv2d(x.value, w.value, b == null ? null : b.value, spec, y);
    boolean rec = records(x, w, b);
    return output(y, rec, rec ? new ConvNode(x, w, b, spec, false) : null);
  }

  /**
   * PyTorch's conv_transpose2d: x [N, Cin, H, W], w [Cin, Cout, kh, kw], b [Cout] (or null) give
   * [N, Cout, (H - 1) strideH - 2 padH + kh + outputPaddingH, likewise W], 0 &lt;= outputPadding &lt; stride.
   */
  public Var convTranspose2d(Var x, Var w, Var b, ConvSpec spec, int outputPaddingH, int outputPaddingW) {
    checkOpen("convTranspose2d");
    requireRank4("convTranspose2d", x, w);
    Tensor y = workspace.take(x.dim(0), w.dim(1), Math.max(0, spec.transposedOutH(x.dim(2), w.dim(2), outputPaddingH)),
        Math.max(0, spec.transposedOutW(x.dim(3), w.dim(3), outputPaddingW)));
    backend.convTranspose2d(x.value, w.value, b == null ? null : b.value, spec, y);
    boolean rec = records(x, w, b);
    return output(y, rec, rec ? new ConvNode(x, w, b, spec, true) : null);
  }

  private static void requireRank4(String op, Var x, Var w) {
    if (x.value.rank() != 4 || w.value.rank() != 4) {
      throw new IllegalArgumentException(op + ": x and weight must be 4-D, got x " + Arrays.toString(x.shape())
          + ", weight " + Arrays.toString(w.shape()));
    }
  }

  /**
   * PyTorch's batch_norm over x [N, C, *]. Training: batch statistics, and runningMean/runningVar
   * (which may be null) are updated in place with {@code momentum}, even when nothing is recorded
   * (as PyTorch does under no_grad). Evaluation: the running statistics normalize x. gamma and beta
   * are both null when the layer has no affine transform. See {@link Backend#batchNorm2d}.
   */
  public Var batchNorm2d(Var x, Var gamma, Var beta, Tensor runningMean, Tensor runningVar, boolean training,
      float momentum, float eps) {
    checkOpen("batchNorm2d");
    boolean rec = records(x, gamma, beta);
    Tensor y = workspace.take(x.shape());
    int c = x.value.rank() >= 2 ? x.dim(1) : 1;
    Tensor saveMean = rec ? workspace.take(c) : null, saveInvstd = rec ? workspace.take(c) : null;
    backend.batchNorm2d(x.value, gamma == null ? null : gamma.value, beta == null ? null : beta.value, runningMean,
        runningVar, training, momentum, eps, y, saveMean, saveInvstd);
    return output(y, rec, rec ? new BatchNormNode(x, gamma, beta, saveMean, saveInvstd, training) : null);
  }

  /**
   * Inverted dropout: keeps element i iff uniform(seed, i) >= p and scales kept ones by 1/(1 - p).
   * The backward pass recomputes the same mask from (seed, p). Callers pass a fresh seed per call.
   */
  public Var dropout(Var x, float p, long seed) {
    checkOpen("dropout");
    Tensor y = workspace.take(x.shape());
    backend.dropout(x.value, p, seed, y);
    boolean rec = records(x);
    return output(y, rec, rec ? new DropoutNode(x, p, seed, -1) : null);
  }

  /**
   * Dropout whose mask is that of {@link #dropout(Var, float, long)} with the seed
   * bits(seed, C + offset), C being the {@linkplain #setRandomCounter random counter} read on the
   * device: a recorded step draws the masks of the counter written before each replay.
   */
  public Var dropout(Var x, float p, long seed, long offset) {
    Tensor y = workspace.take(x.shape());
    backend.dropout(x.value, p, seed, randomCounter, offset, y);
    boolean rec = records(x);
    return output(y, rec, rec ? new DropoutNode(x, p, seed, offset) : null);
  }

  /** The same elements in a new shape (a copy); one dimension may be -1 (inferred). */
  public Var reshape(Var x, int... shape) {
    checkOpen("reshape");
    int[] target = shape.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < target.length; i++) {
      if (target[i] == -1 && infer < 0) {
        infer = i;
      } else if (target[i] < 0) {
        throw new IllegalArgumentException("reshape: bad shape " + Arrays.toString(shape));
      } else {
        known *= target[i];
      }
    }
    long numel = x.value.numel();
    if (infer >= 0) {
      if (known == 0 || numel % known != 0) {
        throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(shape) + " for "
            + Arrays.toString(x.shape()));
      }
      target[infer] = Math.toIntExact(numel / known);
    }
    if (io.idemnet.tensor.Shape.numel(target) != numel) {
      throw new IllegalArgumentException("reshape: " + Arrays.toString(x.shape()) + " cannot become "
          + Arrays.toString(shape));
    }
    Tensor y = workspace.take(target);
    backend.reshapeCopy(x.value, y);
    boolean rec = records(x);
    return output(y, rec, rec ? new ReshapeNode(x) : null);
  }

  /** [N, d1, d2, ...] -> [N, d1 * d2 * ...] (PyTorch's Flatten with its defaults). */
  public Var flatten(Var x) {
    checkOpen("flatten");
    if (x.value.rank() < 1) throw new IllegalArgumentException("flatten: needs at least one dimension");
    long rest = 1;
    for (int i = 1; i < x.value.rank(); i++) rest *= x.dim(i);
    return reshape(x, x.dim(0), Math.toIntExact(rest));
  }

  /** Runs a custom function and records it with its hand-written backward. */
  public Var apply(CustomFunction fn, Var... inputs) {
    checkOpen("apply");
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
    checkOpen("backward");
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
    checkOpen("backward");
    backward(List.of(output), List.of(gradient));
  }

  /** Backpropagates several seeds at once (their contributions add up). */
  public void backward(List<Var> outputs, List<Tensor> gradients) {
    checkOpen("backward");
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
      // d/da mean((a-b)^2) = 2 (a - b) / numel, times the incoming scalar gradient (read on the device).
      float s = 2f / Math.max(1, diff.numel());
      if (wants(a)) {
        Tensor da = gradTarget(a);
        backend.scale(diff, output.grad, s, da);
        commit(a, da);
      }
      if (wants(b)) {
        Tensor db = gradTarget(b);
        backend.scale(diff, output.grad, -s, db);
        commit(b, db);
      }
    }
  }

  /** A gradient buffer for a weight-like input: its own gradient, accumulated into when it exists. */
  private Tensor accumulatingTarget(Var v) {
    if (!wants(v)) return null;
    if (v.grad == null) v.grad = workspace.take(v.shape());
    return v.grad;
  }

  private final class ConvNode extends Node {
    final Var x, w, b;
    final ConvSpec spec;
    final boolean transposed;

    ConvNode(Var x, Var w, Var b, ConvSpec spec, boolean transposed) {
      this.x = x;
      this.w = w;
      this.b = b;
      this.spec = spec;
      this.transposed = transposed;
    }

    @Override
    void backward() {
      // Parameters accumulate into their gradient; a fresh gradient is overwritten (as in linear).
      boolean accW = wants(w) && w.grad != null, accB = wants(b) && b.grad != null;
      Tensor dw = accumulatingTarget(w), db = accumulatingTarget(b);
      Tensor dx = wants(x) ? gradTarget(x) : null;
      if (transposed) {
        backend.convTranspose2dBackward(x.value, w.value, output.grad, spec, dx, dw, accW, db, accB);
      } else {
        backend.conv2dBackward(x.value, w.value, output.grad, spec, dx, dw, accW, db, accB);
      }
      if (dx != null) commit(x, dx);
    }
  }

  private final class BatchNormNode extends Node {
    final Var x, gamma, beta;
    final Tensor saveMean, saveInvstd;
    final boolean training;

    BatchNormNode(Var x, Var gamma, Var beta, Tensor saveMean, Tensor saveInvstd, boolean training) {
      this.x = x;
      this.gamma = gamma;
      this.beta = beta;
      this.saveMean = saveMean;
      this.saveInvstd = saveInvstd;
      this.training = training;
    }

    @Override
    void backward() {
      boolean accG = wants(gamma) && gamma.grad != null, accB = wants(beta) && beta.grad != null;
      Tensor dg = accumulatingTarget(gamma), db = accumulatingTarget(beta);
      Tensor dx = wants(x) ? gradTarget(x) : null;
      backend.batchNorm2dBackward(x.value, output.grad, gamma == null ? null : gamma.value, saveMean, saveInvstd,
          training, dx, dg, accG, db, accB);
      if (dx != null) commit(x, dx);
    }
  }

  private final class DropoutNode extends Node {
    final Var x;
    final float p;
    final long seed, offset; // offset < 0: the seed is used as it is, not drawn from the counter

    DropoutNode(Var x, float p, long seed, long offset) {
      this.x = x;
      this.p = p;
      this.seed = seed;
      this.offset = offset;
    }

    @Override
    void backward() {
      if (!wants(x)) return;
      Tensor dx = gradTarget(x);
      if (offset < 0) backend.dropoutBackward(output.grad, p, seed, dx);
      else backend.dropoutBackward(output.grad, p, seed, randomCounter, offset, dx);
      commit(x, dx);
    }
  }

  private final class ReshapeNode extends Node {
    final Var x;

    ReshapeNode(Var x) {
      this.x = x;
    }

    @Override
    void backward() {
      if (!wants(x)) return;
      Tensor dx = gradTarget(x);
      backend.reshapeCopy(output.grad, dx);
      commit(x, dx);
    }
  }

  /** An input whose gradient is a fixed tensor times the incoming scalar gradient (a device scalar). */
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
      Tensor target = gradTarget(input);
      backend.scale(gradient, output.grad, 1f, target);
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

  /** Frees the workspace; any later use of the graph is refused. Idempotent. */
  @Override
  public void close() {
    closed = true;
    tape.clear();
    workspace.close();
    randomCounter.close();
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  private void checkOpen(String op) {
    if (closed) throw new IllegalStateException("Graph." + op + ": the graph is closed");
  }
}
