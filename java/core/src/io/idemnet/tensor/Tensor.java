package io.idemnet.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A dense, contiguous, row-major float32 array on one backend.
 *
 * <p>Memory lives off-heap and is freed by {@link #close()} (use try-with-resources, or close the
 * tensors a module owns when the module is closed). Using a closed tensor in any operation throws
 * {@link IllegalStateException}. Tensors are created by a backend ({@code zeros},
 * {@code fromArray}, ...), their {@link #owner()}; {@code Backend.of(tensor)} returns it as a backend.
 *
 * <p>Closing from another thread while an operation runs on the tensor is safe: the tensor counts
 * as closed at once (later operations are refused), and its memory is freed when the running
 * operation returns.
 */
public final class Tensor implements AutoCloseable {
  private final TensorOwner owner;
  private final int[] shape;
  private final long numel;
  private final Storage storage;
  private volatile boolean closed;
  /** Operations running on this tensor now (see {@link #acquire}); the storage is freed when the last ends. */
  private final AtomicInteger users = new AtomicInteger();
  private final AtomicBoolean freed = new AtomicBoolean();

  /** Used by backends; callers use a backend's {@code zeros(int...)} and friends. */
  public Tensor(TensorOwner owner, int[] shape, Storage storage) {
    this.owner = java.util.Objects.requireNonNull(owner, "Tensor: null owner");
    this.shape = shape.clone();
    this.numel = Shape.numel(shape);
    this.storage = storage;
  }

  /** The backend that created this tensor and owns its storage ({@code Backend.of(tensor)} returns it as a backend). */
  public TensorOwner owner() {
    return owner;
  }

  /** The shape (a copy). */
  public int[] shape() {
    return shape.clone();
  }

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** Size of dimension {@code i}; negative {@code i} counts from the end. */
  public int dim(int i) {
    int k = i < 0 ? shape.length + i : i;
    if (k < 0 || k >= shape.length) {
      throw new IndexOutOfBoundsException("dimension " + i + " of a rank-" + shape.length + " tensor " + this);
    }
    return shape[k];
  }

  /** The number of elements. */
  public long numel() {
    return numel;
  }

  /** Whether {@code other} has this tensor's shape. */
  public boolean sameShape(Tensor other) {
    return java.util.Arrays.equals(shape, other.shape);
  }

  /** Whether the shape equals {@code expected}. */
  public boolean hasShape(int... expected) {
    return java.util.Arrays.equals(shape, expected);
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /**
   * The backend's storage, for a backend's kernels while they hold the tensor ({@link #acquire}).
   * Throws once the memory has been freed.
   */
  public Storage storage() {
    if (freed.get()) throw new IllegalStateException("tensor " + this + " used after close");
    return storage;
  }

  /**
   * Marks the start of an operation that uses this tensor (called by its backend before a
   * kernel runs): until the matching {@link #release()} a concurrent {@link #close()} defers freeing
   * the memory. Calls nest.
   *
   * @throws IllegalStateException if the tensor is closed
   */
  public void acquire(String op) {
    users.incrementAndGet();
    // close() sets closed before it reads users; this reads closed after raising users: one of the
    // two sees the other, so memory is never freed under a running operation.
    if (closed) {
      release();
      throw new IllegalStateException(op + ": tensor " + this + " used after close");
    }
  }

  /** Marks the end of an operation started with {@link #acquire}; frees the memory if a close came meanwhile. */
  public void release() {
    if (users.decrementAndGet() == 0 && closed) free();
  }

  /** Copies the contents to a new Java array. */
  public float[] toArray() {
    return owner.download(this);
  }

  /** Copies the contents into a Java array of exactly {@link #numel()} elements. */
  public void copyTo(float[] data) {
    owner.download(this, data);
  }

  /** Overwrites the contents from a Java array of exactly {@link #numel()} elements. */
  public void copyFrom(float[] data) {
    owner.upload(data, this);
  }

  /**
   * Frees the memory, or, while an operation runs on the tensor in another thread, marks the tensor
   * closed and leaves the freeing to the end of that operation. Idempotent.
   */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    if (users.get() == 0) free();
  }

  private void free() {
    if (freed.compareAndSet(false, true)) storage.close();
  }

  @Override
  public String toString() {
    return "Tensor" + Shape.toString(shape) + "@" + owner.name() + (closed ? " (closed)" : "");
  }
}
