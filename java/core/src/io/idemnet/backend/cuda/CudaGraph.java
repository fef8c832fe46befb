package io.idemnet.backend.cuda;

import java.util.List;

/**
 * A captured sequence of kernels (a CUDA graph) that {@link #replay()} runs again on the backend's
 * stream with the same device buffers and the same scalar arguments. Obtain one from
 * {@link CudaBackend#capture(Runnable)}. Close it to free the graph and the device blocks that
 * were released during the capture (they stay reserved while the graph may use them).
 */
public final class CudaGraph implements AutoCloseable {
  private final CudaBackend backend;
  private final List<Long> deferredFrees;
  private long exec;

  CudaGraph(CudaBackend backend, long exec, List<Long> deferredFrees) {
    this.backend = backend;
    this.exec = exec;
    this.deferredFrees = deferredFrees;
  }

  /** Queues one replay of the graph (asynchronous; read a result, or call synchronize, to wait). */
  public void replay() {
    if (exec == 0) throw new IllegalStateException("CudaGraph used after close");
    backend.launchGraph(exec);
  }

  /** Replays the graph {@code times} times. */
  public void replay(int times) {
    for (int i = 0; i < times; i++) replay();
  }

  @Override
  public void close() {
    if (exec == 0) return;
    backend.destroyGraph(exec, deferredFrees);
    exec = 0;
  }
}
