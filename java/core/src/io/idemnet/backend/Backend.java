package io.idemnet.backend;

import io.idemnet.tensor.Shape;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import io.idemnet.tensor.TensorOwner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * A place where tensors live and kernels run: {@code reference} (plain Java, the oracle),
 * {@code cpu} (C++ through FFM). Obtain one with {@link Backends#get()} or {@link Backends#named}.
 *
 * <p>Every public operation here validates its arguments (backend, open tensors, shapes) in Java
 * and then calls the backend's kernel; a bad call is an {@link IllegalArgumentException} or
 * {@link IllegalStateException} naming the operation and the shapes, never a crash. Tensors are
 * contiguous row-major float32.
 *
 * <p>Aliasing (passing the same tensor twice): an output may be one of the inputs only where the
 * kernel reads each element before writing it at the same place: the elementwise operations
 * (add, sub, mul, scale, axpy, addBias, activation and its backward, dropout and its backward),
 * batchNorm2d's y = x, batchNorm2dBackward's dx = dy or x, an optimizer's gradient that is also
 * its weight or state, and copy onto itself (nothing to do). Everywhere else (gemm, sumRows, the
 * corrector, convolutions, two outputs of one call) aliasing is refused with an
 * {@link IllegalArgumentException} by this class, so every backend behaves the same.
 *
 * <p>NaN policy: nothing checks for NaN; NaN and Inf propagate through every operation as IEEE
 * arithmetic says (see {@link Activation} for the activations). Use {@link #isFinite(Tensor)} to
 * detect them where a caller wants a clear error.
 */
public abstract class Backend implements TensorOwner, AutoCloseable {
  private volatile boolean closed;

  /** Short lower-case name: "reference", "cpu", "cuda". */
  @Override
  public abstract String name();

  /**
   * The backend that created {@code tensor}.
   *
   * @throws IllegalArgumentException if the tensor was made by something other than a backend
   */
  public static Backend of(Tensor tensor) {
    java.util.Objects.requireNonNull(tensor, "Backend.of: null tensor");
    if (tensor.owner() instanceof Backend b) return b;
    throw new IllegalArgumentException("tensor " + tensor + " was not created by a backend but by " + tensor.owner());
  }

  /**
   * Releases what this backend holds (for cuda: its context, stream and all device memory, open
   * tensors included). Afterwards every operation of this backend throws
   * {@link IllegalStateException}. Idempotent. The process-wide {@link Backends#get()} backend may
   * be closed too; the next {@code get()} then makes a new one.
   */
  @Override
  public final void close() {
    synchronized (this) {
      if (closed) return;
      closed = true;
    }
    releaseResources();
  }

  /** Whether {@link #close()} was called. */
  public final boolean isClosed() {
    return closed;
  }

  /** What {@link #close()} frees; nothing for backends whose tensors own all their memory. */
  protected void releaseResources() {}

  private void requireOpen(String op) {
    if (closed) throw new IllegalStateException(op + ": backend " + name() + " used after close");
  }

  // ------------------------------------------------------------------ kernels (the SPI: Kernels)

  /**
   * The kernels behind this facade (the same object on every call). Backends implement
   * {@link Kernels}; the facade calls it only after its checks.
   */
  protected abstract Kernels kernels();

  /** Elementwise binary operations; codes are those of {@code enum idemnet_binary_op}. */
  public enum BinaryOp {
    /** a + b. */
    ADD(io.idemnet.nativelib.NativeAbi.ADD),
    /** a - b. */
    SUB(io.idemnet.nativelib.NativeAbi.SUB),
    /** a * b. */
    MUL(io.idemnet.nativelib.NativeAbi.MUL);

    /** The code of {@code enum idemnet_binary_op}. */
    public final int code;

    BinaryOp(int code) {
      this.code = code;
    }
  }

  // ------------------------------------------------------------------ creation and copies

  /** The most elements one tensor may hold: its bytes must be a positive long. */
  public static final long MAX_ELEMENTS = Long.MAX_VALUE / Float.BYTES;

  /**
   * A new zero-filled tensor. While a step is {@linkplain #record recorded} its memory belongs to
   * the recording (freed only after the {@link StepGraph} is closed) and the zero fill is part of
   * the recorded step, so every replay starts it from zeros as the eager step did.
   */
  public final Tensor zeros(int... shape) {
    requireOpen("zeros");
    java.util.Objects.requireNonNull(shape, "zeros: null shape");
    long numel;
    try {
      numel = Shape.numel(shape);
    } catch (ArithmeticException e) {
      numel = Long.MAX_VALUE;
    }
    if (numel > MAX_ELEMENTS) {
      throw new IllegalArgumentException("zeros: shape " + Shape.toString(shape) + " holds more than " + MAX_ELEMENTS
          + " elements; no tensor can be that large");
    }
    Tensor t = new Tensor(this, shape, kernels().allocate(numel));
    if (recording != null) {
      pinWhileRecording(t);
      launch(() -> kernels().fillKernel(t, 0f));
    }
    return t;
  }

  /** A new tensor holding a copy of {@code data}, whose length must equal the shape's size. */
  public final Tensor fromArray(float[] data, int... shape) {
    if (data.length != Shape.numel(shape)) {
      throw new IllegalArgumentException("fromArray: " + data.length + " values do not fill shape " + Shape.toString(shape));
    }
    refuseWhileRecording("fromArray");
    Tensor t = zeros(shape);
    kernels().uploadKernel(data, t);
    return t;
  }

  /** A new tensor filled with {@code value}. */
  public final Tensor full(float value, int... shape) {
    Tensor t = zeros(shape);
    launch(() -> kernels().fillKernel(t, value));
    return t;
  }

  /** A new tensor with the same shape and contents as {@code src} (which may be on another backend). */
  public final Tensor copyOf(Tensor src) {
    java.util.Objects.requireNonNull(src, "copyOf: null tensor");
    if (src.owner() != this) return fromArray(src.toArray(), src.shape());
    try (Use use = use("copyOf", src)) {
      Tensor t = zeros(src.shape());
      launch(() -> kernels().copyKernel(src, t));
      return t;
    }
  }

  /** Copies {@code src} (exactly {@code dst.numel()} values) into {@code dst}. */
  @Override
  public final void upload(float[] src, Tensor dst) {
    try (Use use = use("upload", dst)) {
      if (src.length != dst.numel()) {
        throw new IllegalArgumentException("upload: " + src.length + " values into " + dst);
      }
      refuseWhileRecording("upload");
      kernels().uploadKernel(src, dst);
    }
  }

  /** The contents of {@code src} in a new Java array. */
  @Override
  public final float[] download(Tensor src) {
    try (Use use = use("download", src)) {
      if (src.numel() > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("download: " + src + " is too large for a Java array");
      }
      refuseWhileRecording("download");
      float[] out = new float[(int) src.numel()];
      kernels().downloadKernel(src, out);
      return out;
    }
  }

  /** Copies src into dst, which must hold exactly src's element count (no allocation: for hot loops). */
  @Override
  public final void download(Tensor src, float[] dst) {
    try (Use use = use("download", src)) {
      if (dst.length != src.numel()) {
        throw new IllegalArgumentException("download: " + src + " into an array of " + dst.length + " values");
      }
      refuseWhileRecording("download");
      kernels().downloadKernel(src, dst);
    }
  }

  // ------------------------------------------------------------------ declared transfers

  /** The most elements a declared read or write may move (a few scalars, never a tensor's data). */
  public static final int MAX_DECLARED_ELEMENTS = 16;

  /**
   * A declared read: the value of a one-element tensor (a loss, a residual norm), for the host
   * decisions and logging a training loop needs. Training steps read nothing else; see
   * docs/architecture.md, "Device-resident steps". On a device this waits for the queued work.
   */
  public final float readScalar(Tensor t) {
    try (Use use = use("readScalar", t)) {
      if (t.numel() != 1) throw new IllegalArgumentException("readScalar: needs a one-element tensor, got " + t);
      refuseWhileRecording("readScalar");
      float[] v = new float[1];
      kernels().readScalarsKernel(t, v);
      return v[0];
    }
  }

  /** A declared read of a small tensor (at most {@link #MAX_DECLARED_ELEMENTS} elements, e.g. a step's losses). */
  public final float[] readScalars(Tensor t) {
    try (Use use = use("readScalars", t)) {
      if (t.numel() > MAX_DECLARED_ELEMENTS) {
        throw new IllegalArgumentException("readScalars: at most " + MAX_DECLARED_ELEMENTS + " elements, got " + t);
      }
      refuseWhileRecording("readScalars");
      float[] v = new float[(int) t.numel()];
      kernels().readScalarsKernel(t, v);
      return v;
    }
  }

  /**
   * A declared write of a few scalars (at most {@link #MAX_DECLARED_ELEMENTS}) into a small tensor:
   * how values that change from step to step (a learning rate, Adam's bias corrections, a random
   * counter) reach a step that reads them from device memory, before the step runs or is replayed.
   */
  public final void writeScalars(Tensor t, float... values) {
    try (Use use = use("writeScalars", t)) {
      if (values.length != t.numel() || values.length > MAX_DECLARED_ELEMENTS) {
        throw new IllegalArgumentException("writeScalars: " + values.length + " values into " + t + " (at most "
            + MAX_DECLARED_ELEMENTS + ", exactly the tensor's size)");
      }
      refuseWhileRecording("writeScalars");
      kernels().writeScalarsKernel(values.clone(), t);
    }
  }

  /** dst = src (same shape). */
  public final void copy(Tensor src, Tensor dst) {
    try (Use use = use("copy", src, dst)) {
      sameShape("copy", src, dst);
      if (sameMemory(src, dst)) return; // a copy onto itself changes nothing
      launch(() -> kernels().copyKernel(src, dst));
    }
  }

  /**
   * dst = src element by element in row-major order, for shapes that differ but hold the same
   * number of elements (a reshape).
   */
  public final void reshapeCopy(Tensor src, Tensor dst) {
    try (Use use = use("reshapeCopy", src, dst)) {
      if (src.numel() != dst.numel()) {
        throw new IllegalArgumentException("reshapeCopy: " + src + " and " + dst + " hold different numbers of elements");
      }
      if (sameMemory(src, dst)) return;
      launch(() -> kernels().copyKernel(src, dst));
    }
  }

  /** Sets every element of {@code x} to {@code value}. */
  public final void fill(Tensor x, float value) {
    try (Use use = use("fill", x)) {
      launch(() -> kernels().fillKernel(x, value));
    }
  }

  // ------------------------------------------------------------------ random numbers

  /**
   * Fills with U(low, high) numbers from a counter-based generator: element i depends only on
   * (seed, i), so every backend gives the same values (to float rounding of the same formula).
   */
  public final void randomUniform(Tensor x, long seed, float low, float high) {
    try (Use use = use("randomUniform", x)) {
      if (!(low <= high) || !Float.isFinite(low) || !Float.isFinite(high)) {
        throw new IllegalArgumentException("randomUniform: need finite low <= high, got [" + low + ", " + high + ")");
      }
      launch(() -> kernels().uniformKernel(x, seed, low, high));
    }
  }

  /** Fills with N(mean, std^2) numbers (Box-Muller over the same counter-based stream). */
  public final void randomNormal(Tensor x, long seed, float mean, float std) {
    try (Use use = use("randomNormal", x)) {
      if (!(std >= 0) || !Float.isFinite(mean) || !Float.isFinite(std)) {
        throw new IllegalArgumentException("randomNormal: need finite mean and std >= 0, got " + mean + ", " + std);
      }
      launch(() -> kernels().normalKernel(x, seed, mean, std));
    }
  }

  // ------------------------------------------------------------------ GEMM

  /**
   * C = alpha op(A) op(B) + beta C with 2-D tensors; op(A) is m x k and op(B) is k x n, C is m x n.
   * With beta = 0, C's previous contents (even NaN) are ignored, as in BLAS. C must not be A or B
   * (BLAS overwrites C while it still reads A and B).
   */
  public final void gemm(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
    try (Use use = use("gemm", a, b, c)) {
      for (Tensor t : new Tensor[] {a, b, c}) {
        if (t.rank() != 2) throw new IllegalArgumentException("gemm: expects 2-D tensors, got " + t);
      }
      gemmChecked("gemm", transA, transB, alpha, a, b, beta, c, 1, 0);
    }
  }

  /**
   * Strided-batched GEMM over 3-D tensors [batch, rows, cols]: C[i] = alpha op(A[i]) op(B[i]) + beta C[i].
   */
  public final void gemmBatched(boolean transA, boolean transB, float alpha, Tensor a, Tensor b, float beta, Tensor c) {
    try (Use use = use("gemmBatched", a, b, c)) {
      for (Tensor t : new Tensor[] {a, b, c}) {
        if (t.rank() != 3) throw new IllegalArgumentException("gemmBatched: expects 3-D tensors, got " + t);
      }
      if (a.dim(0) != b.dim(0) || a.dim(0) != c.dim(0)) {
        throw new IllegalArgumentException("gemmBatched: batch sizes differ: " + a + ", " + b + ", " + c);
      }
      gemmChecked("gemmBatched", transA, transB, alpha, a, b, beta, c, a.dim(0), 1);
    }
  }

  private void gemmChecked(String op, boolean transA, boolean transB, float alpha, Tensor a, Tensor b,
      float beta, Tensor c, int batch, int first) {
    int m = transA ? a.dim(first + 1) : a.dim(first);
    int k = transA ? a.dim(first) : a.dim(first + 1);
    int kb = transB ? b.dim(first + 1) : b.dim(first);
    int n = transB ? b.dim(first) : b.dim(first + 1);
    if (k != kb) {
      throw new IllegalArgumentException(op + ": inner dimensions differ: op(A) is " + m + "x" + k
          + (transA ? " (A transposed) " : " ") + "but op(B) is " + kb + "x" + n + (transB ? " (B transposed)" : "")
          + "; A=" + a + ", B=" + b);
    }
    if (c.dim(first) != m || c.dim(first + 1) != n) {
      throw new IllegalArgumentException(op + ": C must be " + m + "x" + n + ", got " + c + "; A=" + a + ", B=" + b);
    }
    distinct(op, c, a, b);
    launch(() -> kernels().gemmKernel(transA, transB, m, n, k, alpha, a, b, beta, c, batch));
  }

  // ------------------------------------------------------------------ elementwise

  /** out[r, c] = x[r, c] + bias[c]; x and out have the same shape, bias has x's last dimension. */
  public final void addBias(Tensor x, Tensor bias, Tensor out) {
    try (Use use = use("addBias", x, bias, out)) {
      sameShape("addBias", x, out);
      if (x.rank() < 1 || bias.rank() != 1 || bias.dim(0) != x.dim(-1)) {
        throw new IllegalArgumentException("addBias: bias must be 1-D of length x's last dimension; x=" + x + ", bias=" + bias);
      }
      int cols = x.dim(-1);
      launch(() -> kernels().addBiasKernel(x, bias, out, cols == 0 ? 0 : x.numel() / cols, cols));
    }
  }

  /** out = a + b elementwise (same shapes; out may be a or b). */
  public final void add(Tensor a, Tensor b, Tensor out) {
    binary(BinaryOp.ADD, a, b, out);
  }

  /** out = a - b elementwise (same shapes; out may be a or b). */
  public final void sub(Tensor a, Tensor b, Tensor out) {
    binary(BinaryOp.SUB, a, b, out);
  }

  /** out = a * b elementwise (same shapes; out may be a or b). */
  public final void mul(Tensor a, Tensor b, Tensor out) {
    binary(BinaryOp.MUL, a, b, out);
  }

  private void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
    String name = op.name().toLowerCase(java.util.Locale.ROOT);
    try (Use use = use(name, a, b, out)) {
      sameShape(name, a, b);
      sameShape(name, a, out);
      launch(() -> kernels().binaryKernel(op, a, b, out));
    }
  }

  /** out = alpha x. */
  public final void scale(Tensor x, float alpha, Tensor out) {
    try (Use use = use("scale", x, out)) {
      sameShape("scale", x, out);
      launch(() -> kernels().scaleKernel(x, alpha, out));
    }
  }

  /** y += alpha x. */
  public final void axpy(float alpha, Tensor x, Tensor y) {
    try (Use use = use("axpy", x, y)) {
      sameShape("axpy", x, y);
      launch(() -> kernels().axpyKernel(alpha, x, y));
    }
  }

  /** y = act(x). */
  public final void activation(Activation act, Tensor x, Tensor y) {
    try (Use use = use("activation", x, y)) {
      sameShape("activation", x, y);
      launch(() -> kernels().activationKernel(act, x, y));
    }
  }

  /**
   * dx = dy * act'(x). ReLU and LeakyReLU read the input {@code x}; Tanh and Sigmoid read the
   * output {@code y} = act(x); the one not needed may be null.
   */
  public final void activationBackward(Activation act, Tensor x, Tensor y, Tensor dy, Tensor dx) {
    Tensor needed = act.backwardNeedsInput() ? x : y;
    if (needed == null && act.kind() != Activation.Kind.IDENTITY) {
      throw new IllegalArgumentException("activationBackward: " + act + " needs its "
          + (act.backwardNeedsInput() ? "input x" : "output y"));
    }
    if (needed == null) needed = dy;
    try (Use use = use("activationBackward", needed, dy, dx)) {
      sameShape("activationBackward", needed, dy);
      sameShape("activationBackward", dy, dx);
      Tensor in = act.backwardNeedsInput() ? needed : null, out = act.backwardNeedsInput() ? null : needed;
      launch(() -> kernels().activationBackwardKernel(act, in, out, dy, dx));
    }
  }

  // ------------------------------------------------------------------ reductions (double accumulation)

  /** Sum of all elements, accumulated in double. */
  public final double sum(Tensor x) {
    try (Use use = use("sum", x)) {
      refuseWhileRecording("sum");
      return kernels().sumKernel(x);
    }
  }

  /** Mean of all elements; NaN for an empty tensor. */
  public final double mean(Tensor x) {
    try (Use use = use("mean", x)) {
      refuseWhileRecording("mean");
      return x.numel() == 0 ? Double.NaN : kernels().sumKernel(x) / x.numel();
    }
  }

  /** Sum of the squares of all elements, accumulated in double. */
  public final double sumOfSquares(Tensor x) {
    try (Use use = use("sumOfSquares", x)) {
      refuseWhileRecording("sumOfSquares");
      return kernels().sumSquaresKernel(x);
    }
  }

  /** True when no element is NaN or infinite (a float squared cannot overflow a double). */
  public final boolean isFinite(Tensor x) {
    try (Use use = use("isFinite", x)) {
      refuseWhileRecording("isFinite");
      return Double.isFinite(kernels().sumSquaresKernel(x));
    }
  }

  /**
   * True when no element of any of the tensors is NaN or infinite: the sum of all their squares,
   * reduced on the backend (finite exactly when every element is), so no element is copied to
   * Java. Optimizers check their gradients with it before an update. The default adds one reduced
   * number per tensor; see {@link Kernels#sumSquaresOfAllKernel} for a device backend.
   */
  public final boolean allFinite(java.util.Collection<Tensor> tensors) {
    List<Tensor> list = new ArrayList<>(tensors);
    try (Use use = use("allFinite", list.toArray(new Tensor[0]))) {
      refuseWhileRecording("allFinite");
      return Double.isFinite(kernels().sumSquaresOfAllKernel(list));
    }
  }

  /**
   * Sums over every leading dimension: for x of shape [..., cols], out[c] = sum of x[..., c]
   * (the bias gradient). With {@code accumulate} the sums are added to out's contents. out must
   * not be x.
   */
  public final void sumRows(Tensor x, Tensor out, boolean accumulate) {
    try (Use use = use("sumRows", x, out)) {
      distinct("sumRows", out, x);
      if (x.rank() < 1 || out.rank() != 1 || out.dim(0) != x.dim(-1)) {
        throw new IllegalArgumentException("sumRows: out must be 1-D of length x's last dimension; x=" + x + ", out=" + out);
      }
      int cols = x.dim(-1);
      launch(() -> kernels().sumRowsKernel(x, cols == 0 ? 0 : x.numel() / cols, cols, accumulate, out));
    }
  }

  /**
   * The fused corrector of Modified Backpropagation: out = s (3a - 2b - c). With {@code withLoss}
   * it also returns sum((a - c)^2) from the same pass (else NaN). With a = f(y), b = f(f(y)),
   * c = y and s = -1/N, out is the MB gradient and the return value / numel is the idempotent loss.
   * out must not be a, b or c (the device kernel declares them non-overlapping).
   */
  public final double corrector(float s, Tensor a, Tensor b, Tensor c, Tensor out, boolean withLoss) {
    try (Use use = use("corrector", a, b, c, out)) {
      distinct("corrector", out, a, b, c);
      sameShape("corrector", a, b);
      sameShape("corrector", a, c);
      sameShape("corrector", a, out);
      if (withLoss) {
        refuseWhileRecording("corrector with a host loss");
        return kernels().correctorKernel(s, a, b, c, out, true);
      }
      launch(() -> kernels().correctorKernel(s, a, b, c, out, false));
      return Double.NaN;
    }
  }

  // ------------------------------------------------------------------ device-resident losses and scalars

  /**
   * out = (alpha * factor[0]) x with {@code factor} a one-element tensor: scaling by a value that
   * lives on the device (an upstream gradient, a loss-dependent weight) without reading it. The
   * product alpha * factor[0] is rounded to float, then multiplies each element. out may equal x,
   * not factor.
   */
  public final void scale(Tensor x, Tensor factor, float alpha, Tensor out) {
    try (Use use = use("scale", x, factor, out)) {
      sameShape("scale", x, out);
      scalarTensor("scale", "factor", factor);
      distinct("scale", out, factor);
      launch(() -> kernels().scaleByKernel(x, factor, alpha, out));
    }
  }

  /** out[0] = scale * sum of x^2, accumulated in double and rounded once; out is a one-element tensor. */
  public final void sumOfSquares(Tensor x, double scale, Tensor out) {
    try (Use use = use("sumOfSquares", x, out)) {
      scalarTensor("sumOfSquares", "out", out);
      distinct("sumOfSquares", out, x);
      launch(() -> kernels().sumSquaresToKernel(x, scale, out));
    }
  }

  /**
   * The fused corrector with its loss on the device: out = s (3a - 2b - c) and
   * loss[0] = lossScale * sum (a - c)^2 (double accumulation, one rounding). With a = f(y),
   * b = f(f(y)), c = y, s = -1/N and lossScale = 1/numel this is the MB gradient and the idempotent
   * loss mean((f(y) - y)^2). out and loss must differ from the inputs and from each other.
   */
  public final void corrector(float s, Tensor a, Tensor b, Tensor c, Tensor out, double lossScale, Tensor loss) {
    try (Use use = use("corrector", a, b, c, out, loss)) {
      sameShape("corrector", a, b);
      sameShape("corrector", a, c);
      sameShape("corrector", a, out);
      scalarTensor("corrector", "loss", loss);
      distinct("corrector", out, a, b, c);
      distinct("corrector", loss, a, b, c, out);
      launch(() -> kernels().correctorToKernel(s, a, b, c, out, lossScale, loss));
    }
  }

  /**
   * The L1 loss and its gradient in one pass: loss[0] = lossScale * sum |a - b| and
   * grad = gradScale * sign(a - b) (0 where a = b or either is NaN; grad may be null, or equal a
   * or b). With lossScale = 1/numel the loss is mean |a - b|.
   */
  public final void l1Loss(Tensor a, Tensor b, float gradScale, Tensor grad, double lossScale, Tensor loss) {
    try (Use use = use("l1Loss", a, b, loss)) {
      sameShape("l1Loss", a, b);
      scalarTensor("l1Loss", "loss", loss);
      distinct("l1Loss", loss, a, b, grad);
      if (grad != null) {
        use.add(grad);
        sameShape("l1Loss", a, grad);
      }
      launch(() -> kernels().l1Kernel(a, b, gradScale, grad, lossScale, loss));
    }
  }

  /**
   * Mean softmax cross-entropy of logits [N, classes] against labels [N] (class indices stored as
   * floats), on the device: loss[0] = mean_i (logsumexp(z_i) - z_i[label_i]) and, unless grad is
   * null, grad = (softmax(z) - onehot(label)) / N. Rows are computed in double. A label that is not
   * an integer in [0, classes) makes the loss and that row's gradient NaN (a device cannot throw;
   * check labels where they are made, as {@code Graph.crossEntropy(Var, int[])} does).
   */
  public final void softmaxCrossEntropy(Tensor logits, Tensor labels, Tensor loss, Tensor grad) {
    try (Use use = use("softmaxCrossEntropy", logits, labels, loss)) {
      if (logits.rank() != 2 || labels.rank() != 1 || labels.dim(0) != logits.dim(0)) {
        throw new IllegalArgumentException("softmaxCrossEntropy: need logits [N, classes] and labels [N], got " + logits
            + " and " + labels);
      }
      scalarTensor("softmaxCrossEntropy", "loss", loss);
      distinct("softmaxCrossEntropy", loss, logits, labels, grad);
      if (grad != null) {
        use.add(grad);
        sameShape("softmaxCrossEntropy", logits, grad);
        distinct("softmaxCrossEntropy", grad, labels);
      }
      launch(() -> kernels().crossEntropyKernel(logits, labels, logits.dim(0), logits.dim(1), loss, grad));
    }
  }

  /**
   * out[0] = the largest Euclidean norm of x's rows, x viewed as [x.dim(0), rest] (a batch of
   * samples): the fixed-point solver's residual. NaN when any row's norm is NaN; 0 for no rows.
   */
  public final void maxRowNorm(Tensor x, Tensor out) {
    try (Use use = use("maxRowNorm", x, out)) {
      scalarTensor("maxRowNorm", "out", out);
      distinct("maxRowNorm", out, x);
      if (x.rank() < 1) throw new IllegalArgumentException("maxRowNorm: x needs a batch dimension, got " + x);
      long rows = x.dim(0), cols = rows == 0 ? 0 : x.numel() / rows;
      launch(() -> kernels().maxRowNormKernel(x, rows, cols, out));
    }
  }

  /** The most iterates {@link #andersonRecord} and {@link #andersonMix} keep per row: 16. */
  public static final int ANDERSON_MAX_MEMORY = io.idemnet.nativelib.NativeAbi.ANDERSON_MAX_MEMORY;

  /**
   * Records one step of an Anderson-accelerated fixed-point iteration u = T(u) with one
   * independent problem per row (u viewed as [u.dim(0), rest]): images[slot] = t (= T(u)),
   * residuals[slot] = t - u (one float rounding), and norm[0] = the largest row norm of that
   * residual, exactly as {@link #maxRowNorm} computes it (NaN when any row's is NaN). images and
   * residuals hold the history, [memory, ...u's shape] (any shape with memory = dim(0) and
   * memory * u.numel() elements), memory at most {@link #ANDERSON_MAX_MEMORY}; 0 &lt;= slot &lt;
   * memory. The three outputs must differ from u, t and each other; u may equal t.
   */
  public final void andersonRecord(Tensor u, Tensor t, int slot, Tensor images, Tensor residuals, Tensor norm) {
    String op = "andersonRecord";
    try (Use use = use(op, u, t, images, residuals, norm)) {
      sameShape(op, u, t);
      int memory = andersonHistory(op, u, images, residuals);
      if (slot < 0 || slot >= memory) {
        throw new IllegalArgumentException(op + ": slot " + slot + " outside the history's " + memory + " slots");
      }
      scalarTensor(op, "norm", norm);
      distinct(op, images, u, t, residuals, norm);
      distinct(op, residuals, u, t, norm);
      distinct(op, norm, u, t);
      long rows = u.dim(0), cols = rows == 0 ? 0 : u.numel() / rows;
      launch(() -> kernels().andersonRecordKernel(u, t, rows, cols, slot, images, residuals, norm));
    }
  }

  /**
   * The Anderson mix (type II, undamped; Walker and Ni 2011) of the history that
   * {@link #andersonRecord} wrote, row by row: with the residuals g_i of slots i &lt; count,
   * alpha = (H + lambda I)^{-1} 1 normalised to sum 1, H_ij = g_i . g_j (in double), lambda =
   * 1e-10 trace(H) / count (so that H stays invertible when residuals become collinear), and
   * next = sum_i alpha_i images[i] (float arithmetic, slot 0 first). That is the combination of the
   * images whose residuals combine to the least norm. A row without usable weights (all residuals
   * 0, a non-finite Gram matrix) takes images[newest], the plain step. 1 &lt;= count &lt;= memory,
   * 0 &lt;= newest &lt; count; next has u's shape (see {@link #andersonRecord}) and must not be the
   * history.
   */
  public final void andersonMix(Tensor images, Tensor residuals, int count, int newest, Tensor next) {
    String op = "andersonMix";
    try (Use use = use(op, images, residuals, next)) {
      int memory = andersonHistory(op, next, images, residuals);
      if (count < 1 || count > memory || newest < 0 || newest >= count) {
        throw new IllegalArgumentException(op + ": need 1 <= count <= " + memory + " (the history's slots) and 0 <= newest"
            + " < count, got count " + count + ", newest " + newest);
      }
      distinct(op, next, images, residuals);
      long rows = next.dim(0), cols = rows == 0 ? 0 : next.numel() / rows;
      launch(() -> kernels().andersonMixKernel(images, residuals, rows, cols, count, newest, next));
    }
  }

  /** Checks an Anderson history against the iterate's shape; returns its memory (slots). */
  private static int andersonHistory(String op, Tensor u, Tensor images, Tensor residuals) {
    if (u.rank() < 1) throw new IllegalArgumentException(op + ": the iterate needs a batch dimension, got " + u);
    sameShape(op, images, residuals);
    int memory = images.rank() < 2 ? 0 : images.dim(0);
    if (memory < 1 || memory > ANDERSON_MAX_MEMORY || images.numel() != memory * u.numel()) {
      throw new IllegalArgumentException(op + ": the history must be [memory, ...] with 1 <= memory <= "
          + ANDERSON_MAX_MEMORY + " and memory x " + u.numel() + " elements (the iterate " + u + "), got " + images);
    }
    return memory;
  }

  /**
   * IGN's tightness clamp, evaluated where the losses are: from rec[0] and tight[0] it writes the
   * weights of the reconstruction and tightness gradients, in double and rounded once,
   * weightRec[0] = lambdaRec - lambdaTight a (tanh u - u sech^2 u) and weightTight[0] =
   * lambdaTight sech^2 u with u = tight / (a rec); {lambdaRec, lambdaTight} when a = 0 or not
   * rec > 0. The formula of {@code IgnTrainer.Lambdas.effectiveRecAndTight}.
   */
  public final void tightClampWeights(Tensor rec, Tensor tight, float lambdaRec, float lambdaTight, float clamp,
      Tensor weightRec, Tensor weightTight) {
    String op = "tightClampWeights";
    try (Use use = use(op, rec, tight, weightRec, weightTight)) {
      for (Tensor t : new Tensor[] {rec, tight, weightRec, weightTight}) scalarTensor(op, "each tensor", t);
      distinct(op, weightRec, weightTight);
      if (!(clamp >= 0) || !Float.isFinite(lambdaRec) || !Float.isFinite(lambdaTight) || !Float.isFinite(clamp)) {
        throw new IllegalArgumentException(op + ": need finite weights and clamp >= 0, got " + lambdaRec + ", "
            + lambdaTight + ", " + clamp);
      }
      launch(() -> kernels().tightClampKernel(rec, tight, lambdaRec, lambdaTight, clamp, weightRec, weightTight));
    }
  }

  private static void scalarTensor(String op, String what, Tensor t) {
    if (t.numel() != 1) throw new IllegalArgumentException(op + ": " + what + " must be a one-element tensor, got " + t);
  }

  // ------------------------------------------------------------------ convolutions (NCHW)

  /**
   * PyTorch's conv2d (dilation 1, groups 1): y = conv(x, weight) + bias for x [N, C, H, W],
   * weight [O, C, kh, kw], bias [O] or null, y [N, O, Ho, Wo] with Ho = (H + 2 padH - kh) / strideH + 1
   * (likewise Wo). y must not alias x.
   */
  public final void conv2d(Tensor x, Tensor weight, Tensor bias, ConvSpec spec, Tensor y) {
    try (Use use = use("conv2d", x, weight, y)) {
      checkConv("conv2d", x, weight, y, spec);
      distinct("conv2d", y, x, weight, bias);
      if (bias != null) checkBias(use, "conv2d", bias, weight.dim(0), weight);
      launch(() -> kernels().conv2dKernel(x, weight, bias, spec, y));
    }
  }

  /**
   * Gradients of {@link #conv2d} from dy [N, O, Ho, Wo]: dx (null to skip) is overwritten with the
   * input gradient; dWeight and dBias (each null to skip) receive the weight and bias gradients,
   * added to their contents when the matching accumulate flag is set (like {@link #sumRows}).
   */
  public final void conv2dBackward(Tensor x, Tensor weight, Tensor dy, ConvSpec spec, Tensor dx, Tensor dWeight,
      boolean accumulateWeight, Tensor dBias, boolean accumulateBias) {
    try (Use use = use("conv2dBackward", x, weight, dy)) {
      checkConv("conv2dBackward", x, weight, dy, spec);
      checkGradients(use, "conv2dBackward", x, weight, dy, dx, dWeight, dBias, weight.dim(0));
      if (dWeight != null) launch(() -> kernels().conv2dWeightKernel(x, dy, spec, accumulateWeight, dWeight));
      if (dBias != null) launch(() -> kernels().channelSumsKernel(dy, accumulateBias, dBias));
      if (dx != null) launch(() -> kernels().conv2dDataKernel(dy, weight, null, spec, dx));
    }
  }

  /**
   * PyTorch's conv_transpose2d (dilation 1, groups 1), the adjoint of {@link #conv2d}: x [N, Cin, H, W],
   * weight [Cin, Cout, kh, kw], bias [Cout] or null, y [N, Cout, Ho, Wo] with
   * Ho = (H - 1) strideH - 2 padH + kh + outputPadding, 0 &lt;= outputPadding &lt; strideH (likewise Wo).
   * The output padding is read from y's shape. y must not alias x.
   */
  public final void convTranspose2d(Tensor x, Tensor weight, Tensor bias, ConvSpec spec, Tensor y) {
    try (Use use = use("convTranspose2d", x, weight, y)) {
      checkConvTranspose("convTranspose2d", x, weight, y, spec);
      distinct("convTranspose2d", y, x, weight, bias);
      if (bias != null) checkBias(use, "convTranspose2d", bias, weight.dim(1), weight);
      // conv2d's input gradient with y as the image and x as the output gradient.
      launch(() -> kernels().conv2dDataKernel(x, weight, bias, spec, y));
    }
  }

  /**
   * Gradients of {@link #convTranspose2d} from dy [N, Cout, Ho, Wo], with the same conventions as
   * {@link #conv2dBackward}: dx [N, Cin, H, W] is overwritten, dWeight [Cin, Cout, kh, kw] and
   * dBias [Cout] accumulate when asked; any of them may be null.
   */
  public final void convTranspose2dBackward(Tensor x, Tensor weight, Tensor dy, ConvSpec spec, Tensor dx,
      Tensor dWeight, boolean accumulateWeight, Tensor dBias, boolean accumulateBias) {
    try (Use use = use("convTranspose2dBackward", x, weight, dy)) {
      checkConvTranspose("convTranspose2dBackward", x, weight, dy, spec);
      checkGradients(use, "convTranspose2dBackward", x, weight, dy, dx, dWeight, dBias, weight.dim(1));
      // In conv2d terms dy is the image and x the output: dW = conv2d weight gradient of (dy, x).
      if (dWeight != null) launch(() -> kernels().conv2dWeightKernel(dy, x, spec, accumulateWeight, dWeight));
      if (dBias != null) launch(() -> kernels().channelSumsKernel(dy, accumulateBias, dBias));
      if (dx != null) launch(() -> kernels().conv2dKernel(dy, weight, null, spec, dx));
    }
  }

  /** out[c] = sum of x[:, c, ...] over every other dimension of x [N, C, ...] (plus out's contents with accumulate). */
  public final void channelSums(Tensor x, Tensor out, boolean accumulate) {
    try (Use use = use("channelSums", x, out)) {
      if (x.rank() < 2 || out.rank() != 1 || out.dim(0) != x.dim(1)) {
        throw new IllegalArgumentException("channelSums: need x [N, C, ...] and out [C]; x=" + x + ", out=" + out);
      }
      launch(() -> kernels().channelSumsKernel(x, accumulate, out));
    }
  }

  /** What both convolutions ask of their operands: a ConvSpec, rank-4 tensors, a weight of positive sizes. */
  private static void checkConvOperands(String op, Tensor x, Tensor weight, Tensor y, ConvSpec spec, String layout) {
    java.util.Objects.requireNonNull(spec, op + ": null ConvSpec");
    rank4(op, "x", x);
    rank4(op, "weight", weight);
    rank4(op, "output", y);
    if (weight.dim(0) < 1 || weight.dim(1) < 1 || weight.dim(2) < 1 || weight.dim(3) < 1) {
      throw new IllegalArgumentException(op + ": weight " + layout + " needs positive sizes, got " + weight);
    }
  }

  /** x [N, C, H, W], weight [O, C, kh, kw], y [N, O, Ho, Wo]: conv2d's shapes. */
  private static void checkConv(String op, Tensor x, Tensor weight, Tensor y, ConvSpec spec) {
    checkConvOperands(op, x, weight, y, spec, "[O, C, kh, kw]");
    int kh = weight.dim(2), kw = weight.dim(3);
    if (x.dim(1) != weight.dim(1)) {
      throw new IllegalArgumentException(op + ": x has " + x.dim(1) + " channels but weight [O, C, kh, kw] expects "
          + weight.dim(1) + "; x=" + x + ", weight=" + weight);
    }
    int ho = spec.convOutH(x.dim(2), kh), wo = spec.convOutW(x.dim(3), kw);
    if (ho < 1 || wo < 1) {
      throw new IllegalArgumentException(op + ": kernel " + kh + "x" + kw + " does not fit x " + x + " with " + spec);
    }
    int[] expected = {x.dim(0), weight.dim(0), ho, wo};
    if (!y.hasShape(expected)) {
      throw new IllegalArgumentException(op + ": output must be " + Arrays.toString(expected) + " for x=" + x
          + ", weight=" + weight + ", " + spec + "; got " + y);
    }
  }

  /** x [N, Cin, H, W], weight [Cin, Cout, kh, kw], y [N, Cout, Ho, Wo]: conv_transpose2d's shapes. */
  private static void checkConvTranspose(String op, Tensor x, Tensor weight, Tensor y, ConvSpec spec) {
    checkConvOperands(op, x, weight, y, spec, "[Cin, Cout, kh, kw]");
    int kh = weight.dim(2), kw = weight.dim(3);
    if (x.dim(1) != weight.dim(0)) {
      throw new IllegalArgumentException(op + ": x has " + x.dim(1) + " channels but weight [Cin, Cout, kh, kw] expects "
          + weight.dim(0) + "; x=" + x + ", weight=" + weight);
    }
    int minH = spec.transposedOutH(x.dim(2), kh, 0), minW = spec.transposedOutW(x.dim(3), kw, 0);
    if (minH < 1 || minW < 1) {
      throw new IllegalArgumentException(op + ": output size would be " + minH + "x" + minW + " for x=" + x
          + ", weight=" + weight + ", " + spec);
    }
    int opH = y.dim(2) - minH, opW = y.dim(3) - minW;
    if (y.dim(0) != x.dim(0) || y.dim(1) != weight.dim(1) || opH < 0 || opH >= spec.strideH() || opW < 0
        || opW >= spec.strideW()) {
      throw new IllegalArgumentException(op + ": output must be [" + x.dim(0) + ", " + weight.dim(1) + ", " + minH
          + "+oph, " + minW + "+opw] with output padding 0 <= op < stride, for x=" + x + ", weight=" + weight + ", "
          + spec + "; got " + y);
    }
  }

  private void checkGradients(Use use, String op, Tensor x, Tensor weight, Tensor dy, Tensor dx, Tensor dWeight,
      Tensor dBias, int biasLength) {
    if (dx != null) use.add(dx);
    if (dWeight != null) use.add(dWeight);
    if (dBias != null) use.add(dBias);
    distinct(op, dx, x, weight, dy);
    distinct(op, dWeight, x, weight, dy, dx);
    distinct(op, dBias, dy, dWeight, dx);
    if (dx != null) {
      if (!dx.sameShape(x)) throw new IllegalArgumentException(op + ": dx must have x's shape; x=" + x + ", dx=" + dx);
    }
    if (dWeight != null) {
      if (!dWeight.sameShape(weight)) {
        throw new IllegalArgumentException(op + ": dWeight must have weight's shape; weight=" + weight + ", dWeight="
            + dWeight);
      }
    }
    if (dBias != null) {
      checkBias(use, op, dBias, biasLength, weight);
    }
  }

  private void checkBias(Use use, String op, Tensor bias, int length, Tensor weight) {
    use.add(bias);
    if (bias.rank() != 1 || bias.dim(0) != length) {
      throw new IllegalArgumentException(op + ": bias must be [" + length + "] for weight=" + weight + ", got " + bias);
    }
  }

  /**
   * An output that the kernel writes while it still reads the others must be a different tensor
   * (null entries are skipped: optional arguments).
   */
  private static void distinct(String op, Tensor out, Tensor... others) {
    if (out == null) return;
    for (Tensor t : others) {
      if (t != null && sameMemory(t, out)) {
        throw new IllegalArgumentException(op + ": output " + out + " must not be one of the other arguments"
            + " (aliasing); pass a separate tensor");
      }
    }
  }

  /** Whether two tensors are backed by the same memory (the same tensor, or two over one storage). */
  private static boolean sameMemory(Tensor a, Tensor b) {
    return a == b || a.storage() == b.storage();
  }

  private static void rank4(String op, String what, Tensor t) {
    if (t.rank() != 4) throw new IllegalArgumentException(op + ": " + what + " must be 4-D (NCHW), got " + t);
  }

  // ------------------------------------------------------------------ batch normalization, dropout

  /**
   * PyTorch's batch_norm over x [N, C, *] (BatchNorm2d for [N, C, H, W]), per channel:
   * y = (x - mean) / sqrt(var + eps) * gamma + beta.
   * <ul>
   *   <li>training: mean and biased variance of the batch (N * H * W > 1 values per channel); when
   *       runningMean/runningVar are given they become (1 - momentum) old + momentum (mean,
   *       unbiased variance), as PyTorch does;
   *   <li>evaluation: runningMean and runningVar (required) are the statistics.
   * </ul>
   * gamma and beta [C] are both given or both null (no affine transform). saveMean and saveInvstd
   * [C] (both or neither) receive the mean and 1/sqrt(var + eps) used, for {@link #batchNorm2dBackward}.
   * y may equal x.
   */
  public final void batchNorm2d(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
      boolean training, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvstd) {
    String op = "batchNorm2d";
    try (Use use = use(op, x, y)) {
      sameShape(op, x, y);
      int c = checkChannels(op, x);
      checkPair(use, op, "gamma", gamma, "beta", beta, c, true);
      checkPair(use, op, "runningMean", runningMean, "runningVar", runningVar, c, training);
      checkPair(use, op, "saveMean", saveMean, "saveInvstd", saveInvstd, c, true);
      if (!training && runningMean == null) {
        throw new IllegalArgumentException(op + ": evaluation mode needs runningMean and runningVar");
      }
      // y may be x (each element is read before it is written); the per-channel outputs are written
      // while gamma, beta and the running statistics are still read.
      distinct(op, saveMean, gamma, beta, runningMean, runningVar, saveInvstd);
      distinct(op, saveInvstd, gamma, beta, runningMean, runningVar);
      if (training) {
        distinct(op, runningMean, gamma, beta, runningVar);
        distinct(op, runningVar, gamma, beta);
      }
      if (training && x.numel() / Math.max(1, c) <= 1) {
        throw new IllegalArgumentException(op + ": training needs more than one value per channel, got x=" + x);
      }
      if (!(eps > 0) || !Float.isFinite(eps) || !(momentum >= 0 && momentum <= 1)) {
        throw new IllegalArgumentException(op + ": need eps > 0 and 0 <= momentum <= 1, got eps=" + eps + " momentum="
            + momentum);
      }
      launch(() -> kernels().batchNormKernel(x, gamma, beta, runningMean, runningVar, training, momentum, eps, y, saveMean,
          saveInvstd));
    }
  }

  /**
   * Gradients of {@link #batchNorm2d} from dy (x's shape), using the saved statistics. In training
   * mode the statistics depend on x: dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)); in
   * evaluation mode dx = gamma invstd dy. dGamma = sum dy xhat and dBeta = sum dy per channel, added
   * to their contents when the accumulate flag is set. dx, dGamma, dBeta may each be null (skipped);
   * gamma null means 1.
   */
  public final void batchNorm2dBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvstd,
      boolean training, Tensor dx, Tensor dGamma, boolean accumulateGamma, Tensor dBeta, boolean accumulateBeta) {
    String op = "batchNorm2dBackward";
    try (Use use = use(op, x, dy, saveMean, saveInvstd)) {
      sameShape(op, x, dy);
      int c = checkChannels(op, x);
      checkPair(use, op, "saveMean", saveMean, "saveInvstd", saveInvstd, c, false);
      checkVector(use, op, "gamma", gamma, c);
      checkVector(use, op, "dGamma", dGamma, c);
      checkVector(use, op, "dBeta", dBeta, c);
      if (dx != null) {
        use.add(dx);
        sameShape(op, x, dx);
      }
      // dx may be x or dy (each element is read before it is written, after the channel sums).
      distinct(op, dGamma, gamma, saveMean, saveInvstd, dBeta);
      distinct(op, dBeta, gamma, saveMean, saveInvstd);
      launch(() -> kernels().batchNormBackwardKernel(x, dy, gamma, saveMean, saveInvstd, training, dx, dGamma, accumulateGamma, dBeta,
          accumulateBeta));
    }
  }

  private static int checkChannels(String op, Tensor x) {
    if (x.rank() < 2 || x.dim(1) < 1) throw new IllegalArgumentException(op + ": x must be [N, C, ...] with C >= 1, got " + x);
    return x.dim(1);
  }

  /** Two per-channel vectors [c], given together or (when optional) both null. */
  private void checkPair(Use use, String op, String nameA, Tensor a, String nameB, Tensor b, int c, boolean optional) {
    if (a == null || b == null) {
      if (a != b || !optional) {
        throw new IllegalArgumentException(op + ": " + nameA + " and " + nameB + (optional ? " must both be given or both null"
            : " are required"));
      }
      return;
    }
    checkVector(use, op, nameA, a, c);
    checkVector(use, op, nameB, b, c);
  }

  /** A per-channel vector [c], or null. */
  private void checkVector(Use use, String op, String name, Tensor t, int c) {
    if (t == null) return;
    use.add(t);
    if (t.rank() != 1 || t.dim(0) != c) {
      throw new IllegalArgumentException(op + ": " + name + " must be [" + c + "] (x's channels), got " + t);
    }
  }

  /**
   * Inverted dropout from the counter-based stream: y[i] = x[i] / (1 - p) where uniform(seed, i) >= p,
   * else 0. The same (seed, p) gives the same mask on every backend. y may equal x. 0 &lt;= p &lt;= 1.
   */
  public final void dropout(Tensor x, float p, long seed, Tensor y) {
    try (Use use = use("dropout", x, y)) {
      sameShape("dropout", x, y);
      checkP("dropout", p);
      launch(() -> kernels().dropoutKernel(x, p, seed, y));
    }
  }

  /** dx = dy masked and scaled exactly as {@link #dropout} with the same (p, seed) did. dx may equal dy. */
  public final void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
    try (Use use = use("dropoutBackward", dy, dx)) {
      sameShape("dropoutBackward", dy, dx);
      checkP("dropoutBackward", p);
      launch(() -> kernels().dropoutKernel(dy, p, seed, dx));
    }
  }

  /** Random counters are stored as two floats, high and low 24 bits, so they must stay below 2^48. */
  public static final long COUNTER_LIMIT = 1L << 48;

  /**
   * The two floats that hold a random counter in device memory (write them with
   * {@link #writeScalars}): {@code {counter >> 24, counter & (2^24 - 1)}}, each an exact float.
   */
  public static float[] counterScalars(long counter) {
    if (counter < 0 || counter >= COUNTER_LIMIT) {
      throw new IllegalArgumentException("random counter must lie in [0, 2^48), got " + counter);
    }
    return new float[] {counter >>> 24, counter & 0xFFFFFF};
  }

  /**
   * {@link #dropout} whose seed is drawn on the device: the mask of
   * {@code dropout(x, p, bits(seed, C + offset), y)} with C = counter[0] 2^24 + counter[1] (see
   * {@link #counterScalars}) and bits the counter-based stream of idemnet.h. A step that draws its
   * masks this way can be recorded once and replayed with a new counter written before each
   * replay. y may equal x.
   */
  public final void dropout(Tensor x, float p, long seed, Tensor counter, long offset, Tensor y) {
    try (Use use = use("dropout", x, counter, y)) {
      sameShape("dropout", x, y);
      checkP("dropout", p);
      checkCounter("dropout", counter, offset);
      distinct("dropout", y, counter);
      launch(() -> kernels().dropoutCountedKernel(x, p, seed, counter, offset, y));
    }
  }

  /** The backward of {@link #dropout(Tensor, float, long, Tensor, long, Tensor)}: the same mask on dy. */
  public final void dropoutBackward(Tensor dy, float p, long seed, Tensor counter, long offset, Tensor dx) {
    try (Use use = use("dropoutBackward", dy, counter, dx)) {
      sameShape("dropoutBackward", dy, dx);
      checkP("dropoutBackward", p);
      checkCounter("dropoutBackward", counter, offset);
      distinct("dropoutBackward", dx, counter);
      launch(() -> kernels().dropoutCountedKernel(dy, p, seed, counter, offset, dx));
    }
  }

  private static void checkCounter(String op, Tensor counter, long offset) {
    if (!counter.hasShape(2)) throw new IllegalArgumentException(op + ": the counter must be a [2] tensor, got " + counter);
    if (offset < 0) throw new IllegalArgumentException(op + ": negative counter offset " + offset);
  }

  private static void checkP(String op, float p) {
    if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException(op + ": p must lie in [0, 1], got " + p);
  }

  // ------------------------------------------------------------------ optimizer updates

  /**
   * PyTorch's SGD step in one pass: d = g + wd w; v = momentum v + d; w -= lr (momentum != 0 ? v : d).
   * {@code velocity} may be null when momentum is 0.
   */
  public final void sgdUpdate(Tensor w, Tensor g, Tensor velocity, float lr, float momentum, float weightDecay) {
    try (Use use = use("sgdUpdate", w, g)) {
      sameShape("sgdUpdate", w, g);
      if (momentum != 0f) {
        if (velocity == null) throw new IllegalArgumentException("sgdUpdate: momentum " + momentum + " needs a velocity tensor");
        use.add(velocity);
        sameShape("sgdUpdate", w, velocity);
        distinct("sgdUpdate", velocity, w);
      }
      if (!Float.isFinite(lr) || !Float.isFinite(momentum) || !Float.isFinite(weightDecay)) {
        throw new IllegalArgumentException("sgdUpdate: non-finite hyper-parameter: lr=" + lr + " momentum=" + momentum
            + " weightDecay=" + weightDecay);
      }
      launch(() -> kernels().sgdKernel(w, g, momentum == 0f ? null : velocity, lr, momentum, weightDecay));
    }
  }

  /**
   * PyTorch's Adam step (L2 weight decay) in one pass, for step number {@code step} >= 1; see
   * {@code idemnet_adam_update} in idemnet.h for the formula.
   */
  public final void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
      float weightDecay, long step) {
    try (Use use = use("adamUpdate", w, g, m, v)) {
      sameShape("adamUpdate", w, g);
      sameShape("adamUpdate", w, m);
      sameShape("adamUpdate", w, v);
      // The gradient may be any of them (read before the writes); the three outputs must differ.
      distinct("adamUpdate", w, m, v);
      distinct("adamUpdate", m, v);
      if (step < 1) throw new IllegalArgumentException("adamUpdate: step must be >= 1, got " + step);
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0) || !Float.isFinite(lr)) {
        throw new IllegalArgumentException("adamUpdate: need 0 <= beta < 1, eps > 0, finite lr; got lr=" + lr
            + " beta1=" + beta1 + " beta2=" + beta2 + " eps=" + eps);
      }
      launch(() -> kernels().adamKernel(w, g, m, v, lr, beta1, beta2, eps, weightDecay, step));
    }
  }

  /**
   * {@link #sgdUpdate} with the learning rate read from the one-element tensor {@code lr} (written
   * with {@link #writeScalars} when it changes), so a recorded step follows a schedule.
   */
  public final void sgdUpdate(Tensor w, Tensor g, Tensor velocity, Tensor lr, float momentum, float weightDecay) {
    try (Use use = use("sgdUpdate", w, g, lr)) {
      sameShape("sgdUpdate", w, g);
      scalarTensor("sgdUpdate", "lr", lr);
      if (momentum != 0f) {
        if (velocity == null) throw new IllegalArgumentException("sgdUpdate: momentum " + momentum + " needs a velocity tensor");
        use.add(velocity);
        sameShape("sgdUpdate", w, velocity);
        distinct("sgdUpdate", velocity, w, lr);
      }
      distinct("sgdUpdate", w, lr);
      if (!Float.isFinite(momentum) || !Float.isFinite(weightDecay)) {
        throw new IllegalArgumentException("sgdUpdate: non-finite hyper-parameter: momentum=" + momentum
            + " weightDecay=" + weightDecay);
      }
      Tensor vel = momentum == 0f ? null : velocity;
      launch(() -> kernels().sgdScheduledKernel(w, g, vel, lr, momentum, weightDecay));
    }
  }

  /**
   * {@link #adamUpdate} with the step-dependent scalars read from the [2] tensor
   * {@code coefficients} = {@link #adamCoefficients}(lr, beta1, beta2, step), written with
   * {@link #writeScalars} before each step: the same arithmetic as adamUpdate.
   */
  public final void adamUpdate(Tensor w, Tensor g, Tensor m, Tensor v, Tensor coefficients, float beta1, float beta2,
      float eps, float weightDecay) {
    try (Use use = use("adamUpdate", w, g, m, v, coefficients)) {
      sameShape("adamUpdate", w, g);
      sameShape("adamUpdate", w, m);
      sameShape("adamUpdate", w, v);
      if (!coefficients.hasShape(2)) {
        throw new IllegalArgumentException("adamUpdate: coefficients must be a [2] tensor, got " + coefficients);
      }
      distinct("adamUpdate", w, m, v, coefficients);
      distinct("adamUpdate", m, v, coefficients);
      distinct("adamUpdate", v, coefficients);
      if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0)) {
        throw new IllegalArgumentException("adamUpdate: need 0 <= beta < 1, eps > 0; got beta1=" + beta1 + " beta2="
            + beta2 + " eps=" + eps);
      }
      launch(() -> kernels().adamScheduledKernel(w, g, m, v, coefficients, beta1, beta2, eps, weightDecay));
    }
  }

  /**
   * Adam's step-dependent scalars for step t >= 1, computed in double and rounded to float exactly
   * as idemnet_adam_update does: {lr / (1 - beta1^t), 1 / sqrt(1 - beta2^t)}.
   */
  public static float[] adamCoefficients(float lr, float beta1, float beta2, long step) {
    if (step < 1) throw new IllegalArgumentException("adamCoefficients: step must be >= 1, got " + step);
    if (!Float.isFinite(lr)) throw new IllegalArgumentException("adamCoefficients: non-finite lr " + lr);
    double bc1 = 1.0 - Math.pow(beta1, (double) step);
    double bc2 = 1.0 - Math.pow(beta2, (double) step);
    return new float[] {(float) (lr / bc1), (float) (1.0 / Math.sqrt(bc2))};
  }

  // ------------------------------------------------------------------ recorded steps

  /**
   * What a backend does while a step is {@linkplain #record recorded}. Host backends keep every
   * kernel call as a closure ({@link HostRecording}); the cuda backend captures its stream into a
   * CUDA graph. The base class owns the rules (no host transfers while recording, the recording's
   * private memory); an implementation only stores and replays kernels.
   */
  protected abstract static class Recording {
    /** Called with each kernel call of the step being recorded, in call order. */
    protected abstract void kernel(Runnable call);

    /** The step returned normally: make the recording replayable. */
    protected abstract void finish();

    /** The step (or {@link #finish}) threw: drop what was recorded. Must not throw. */
    protected abstract void abandon();

    /** Runs the recorded kernels once more, in order. */
    protected abstract void replay();

    /** Frees the recording once nothing runs it any more (a device waits for a queued replay). */
    protected abstract void release();
  }

  /** Host backends: the recorded kernel calls, run again in order by a replay. */
  protected static final class HostRecording extends Recording {
    private final List<Runnable> calls = new ArrayList<>();

    @Override
    protected void kernel(Runnable call) {
      calls.add(call);
    }

    @Override
    protected void finish() {}

    @Override
    protected void abandon() {
      calls.clear();
    }

    @Override
    protected void replay() {
      for (Runnable call : calls) call.run();
    }

    @Override
    protected void release() {
      calls.clear();
    }

    int size() {
      return calls.size();
    }
  }

  /** Starts a recording; called by {@link #record} before the step runs (throwing leaves no trace). */
  protected Recording startRecording() {
    return new HostRecording();
  }

  private Recording recording;
  /**
   * The tensors the step being recorded touched or allocated, each held once
   * ({@link Tensor#acquire}) for the recording: closing one defers freeing its memory.
   */
  private Set<Tensor> recordingTensors;

  /**
   * Records the kernels that {@code step} calls on this backend, without running them, as a
   * {@link StepGraph} to replay. The replay contract (docs/architecture.md, "Recorded steps"):
   * <ul>
   *   <li>a replay runs the same kernels on the same tensors with the same host arguments; values
   *       that change from step to step must therefore live in small tensors, written with
   *       {@link #writeScalars} (or computed on the device) before each replay;
   *   <li>while recording, nothing moves data between host and device: uploads, downloads,
   *       declared reads and writes, and the reductions that return a host value throw
   *       {@link IllegalStateException};
   *   <li>every tensor the step touches or allocates is held by the graph: closing such a tensor
   *       while the graph exists frees its memory only when the graph is closed;
   *   <li>run the step once eagerly first, so buffers that the step reuses (a graph workspace)
   *       exist and have their steady-state shapes.
   * </ul>
   * If {@code step} throws, nothing is recorded, the backend leaves the recording state, and the
   * exception propagates.
   */
  public final StepGraph record(Runnable step) {
    java.util.Objects.requireNonNull(step, "record: null step");
    requireOpen("record");
    if (recording != null) throw new IllegalStateException("record: a step is already being recorded on " + this);
    Recording r = startRecording(); // may throw: then no state has changed
    Set<Tensor> held = Collections.newSetFromMap(new IdentityHashMap<>());
    recordingTensors = held;
    recording = r;
    try {
      step.run();
      r.finish();
    } catch (Throwable e) {
      r.abandon();
      recording = null;
      recordingTensors = null;
      for (Tensor t : held) t.release();
      throw e;
    }
    recording = null;
    recordingTensors = null;
    return new StepGraph(this, r, List.copyOf(held));
  }

  /** Whether a step is being recorded on this backend now. */
  public final boolean isRecording() {
    return recording != null;
  }

  final void replayRecording(Recording r) {
    requireOpen("StepGraph.replay");
    if (recording != null) throw new IllegalStateException("StepGraph.replay: " + this + " is recording a step");
    r.replay();
  }

  /** Frees a step's recording, then lets go of its tensors (freeing those closed meanwhile). */
  final void releaseRecording(Recording r, List<Tensor> held) {
    try {
      r.release();
    } finally {
      for (Tensor t : held) t.release();
    }
  }

  /** Holds {@code t} for the recording in progress (once per recording). */
  private void pinWhileRecording(Tensor t) {
    if (recordingTensors != null && recordingTensors.add(t)) t.acquire("record");
  }

  /** Runs a kernel now, or hands it to the recording in progress. */
  private void launch(Runnable kernel) {
    Recording r = recording;
    if (r == null) kernel.run();
    else r.kernel(kernel);
  }

  private void refuseWhileRecording(String op) {
    if (recording != null) {
      throw new IllegalStateException(op + " moves data between host and device, which a recorded step cannot do"
          + " (Backend.record); read or write before or after the step");
    }
  }

  // ------------------------------------------------------------------ validation helpers

  /** Checks the tensors (not null, on this backend, open) and holds them until the returned Use closes. */
  private Use use(String op, Tensor... tensors) {
    requireOpen(op);
    Use use = new Use(op);
    try {
      use.add(tensors);
    } catch (RuntimeException e) {
      use.close();
      throw e;
    }
    return use;
  }

  /**
   * The tensors one operation works on, held ({@link Tensor#acquire}) from the checks until the
   * kernel has returned, so that a close from another thread meanwhile frees them only afterwards.
   */
  private final class Use implements AutoCloseable {
    private final String op;
    private Tensor[] held = new Tensor[8];
    private int count;

    Use(String op) {
      this.op = op;
    }

    void add(Tensor... tensors) {
      for (Tensor t : tensors) {
        if (t == null) throw new NullPointerException(op + ": null tensor");
        if (t.owner() != Backend.this) {
          throw new IllegalArgumentException(op + ": tensor " + t + " belongs to backend " + t.owner().name()
              + ", not " + name() + "; copy it with " + name() + ".copyOf(t)");
        }
        t.acquire(op);
        if (recording != null) pinWhileRecording(t);
        if (count == held.length) held = Arrays.copyOf(held, 2 * count);
        held[count++] = t;
      }
    }

    @Override
    public void close() {
      for (int i = count - 1; i >= 0; i--) held[i].release();
      count = 0;
    }
  }

  private static void sameShape(String op, Tensor a, Tensor b) {
    if (!a.sameShape(b)) {
      throw new IllegalArgumentException(op + ": shapes differ: " + Arrays.toString(a.shape()) + " vs "
          + Arrays.toString(b.shape()));
    }
  }

  @Override
  public String toString() {
    return "Backend(" + name() + ")";
  }
}
