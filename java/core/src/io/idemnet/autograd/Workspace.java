package io.idemnet.autograd;

import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Reusable scratch tensors for a training loop. The i-th {@link #take} after a {@link #rewind()}
 * returns the same buffer as the i-th take of the previous round when the shape matches, so a
 * steady-state step allocates nothing. Contents are whatever was there: callers overwrite them.
 */
public final class Workspace implements AutoCloseable {
  private final Backend backend;
  private final List<Tensor> buffers = new ArrayList<>();
  private int cursor;
  private boolean closed;

  /** An empty workspace on {@code backend}. */
  public Workspace(Backend backend) {
    this.backend = backend;
  }

  /** The next buffer of this step: the same tensor as at this position of the previous step when the shape matches, else a new one. Contents are unspecified. */
  public Tensor take(int... shape) {
    if (closed) throw new IllegalStateException("Workspace.take: the workspace is closed");
    if (cursor < buffers.size()) {
      Tensor t = buffers.get(cursor);
      if (t.hasShape(shape)) {
        cursor++;
        return t;
      }
      t.close();
      Tensor fresh = backend.zeros(shape);
      buffers.set(cursor++, fresh);
      return fresh;
    }
    Tensor fresh = backend.zeros(shape);
    buffers.add(fresh);
    cursor++;
    return fresh;
  }

  /** Makes every buffer available again; tensors taken before are reused by later takes. */
  public void rewind() {
    cursor = 0;
  }

  /** Bytes held by the buffers (float32 elements). */
  public long bytes() {
    long n = 0;
    for (Tensor t : buffers) n += t.numel();
    return n * Float.BYTES;
  }

  /** Number of buffers held (for tests of steady-state allocation). */
  public int size() {
    return buffers.size();
  }

  /** Frees every buffer; later takes are refused. */
  @Override
  public void close() {
    closed = true;
    buffers.forEach(Tensor::close);
    buffers.clear();
    cursor = 0;
  }
}
