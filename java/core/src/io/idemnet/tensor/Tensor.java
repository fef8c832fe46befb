package io.idemnet.tensor;

import io.idemnet.backend.Backend;

/**
 * A dense, contiguous, row-major float32 array on one backend.
 *
 * <p>Memory lives off-heap and is freed by {@link #close()} (use try-with-resources, or close the
 * tensors a module owns when the module is closed). Using a closed tensor in any operation throws
 * {@link IllegalStateException}. Tensors are created by a {@link Backend}: {@code zeros},
 * {@code fromArray}, ...
 */
public final class Tensor implements AutoCloseable {
  private final Backend backend;
  private final int[] shape;
  private final long numel;
  private final Storage storage;
  private volatile boolean closed;

  /** Used by backends; callers use {@link Backend#zeros(int...)} and friends. */
  public Tensor(Backend backend, int[] shape, Storage storage) {
    this.backend = backend;
    this.shape = shape.clone();
    this.numel = Shape.numel(shape);
    this.storage = storage;
  }

  /** The backend that owns this tensor. */
  public Backend backend() {
    return backend;
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
    return shape[i < 0 ? shape.length + i : i];
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
   * The backend's storage, for kernels. Throws once the memory is freed; a closed tensor whose
   * memory a recorded step still holds (see {@link Backend#record}) keeps it for that step's
   * replays, while {@link Backend} refuses it to every new operation.
   */
  public Storage storage() {
    if (!storage.isOpen()) throw new IllegalStateException("tensor " + this + " used after close");
    return storage;
  }

  /** Copies the contents to a new Java array. */
  public float[] toArray() {
    return backend.download(this);
  }

  /** Copies the contents into a Java array of exactly {@link #numel()} elements. */
  public void copyTo(float[] data) {
    backend.download(this, data);
  }

  /** Overwrites the contents from a Java array of exactly {@link #numel()} elements. */
  public void copyFrom(float[] data) {
    backend.upload(data, this);
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    backend.releaseStorage(storage);
  }

  @Override
  public String toString() {
    return "Tensor" + Shape.toString(shape) + "@" + backend.name() + (closed ? " (closed)" : "");
  }
}
