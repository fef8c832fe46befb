package io.idemnet.nn;

import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Copies of a module's buffers (BatchNorm's running statistics), taken before a training step and
 * put back when the step is skipped: a batch with NaN in it updates the running statistics during
 * the forward pass, before anyone can tell that its loss is NaN. Holds nothing for a module
 * without buffers.
 */
public final class BufferSnapshot implements AutoCloseable {
  private final List<Tensor> buffers;
  private final List<Tensor> copies = new ArrayList<>();

  /** Allocates one copy per buffer of {@code module}; {@link #save()} fills them. */
  public BufferSnapshot(Module module) {
    this.buffers = List.copyOf(module.namedBuffers().values());
    try {
      for (Tensor b : buffers) copies.add(Backend.of(b).zeros(b.shape()));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Copies the buffers' current values. */
  public void save() {
    for (int i = 0; i < buffers.size(); i++) Backend.of(buffers.get(i)).copy(buffers.get(i), copies.get(i));
  }

  /** Puts back the values of the last {@link #save()}. */
  public void restore() {
    for (int i = 0; i < buffers.size(); i++) Backend.of(buffers.get(i)).copy(copies.get(i), buffers.get(i));
  }

  @Override
  public void close() {
    copies.forEach(Tensor::close);
    copies.clear();
  }
}
