package io.idemnet.backend;

import io.idemnet.tensor.Tensor;
import java.util.List;

/**
 * A training step recorded by {@link Backend#record(Runnable)}: {@link #replay()} runs its kernels
 * again, on the same tensors with the same host arguments (a CUDA graph on the cuda backend, the
 * list of kernel calls on the host backends). The graph owns the memory of every tensor the step
 * touched or allocated: closing one of those tensors while the graph exists frees nothing until
 * the graph is closed.
 */
public final class StepGraph implements AutoCloseable {
  private final Backend backend;
  private final List<Tensor> memory;
  private Backend.Recording recording;

  StepGraph(Backend backend, Backend.Recording recording, List<Tensor> memory) {
    this.backend = backend;
    this.recording = recording;
    this.memory = memory;
  }

  /** The backend the step was recorded on. */
  public Backend backend() {
    return backend;
  }

  /** Runs the recorded step once (on a device: queues it; a later read waits for it). */
  public void replay() {
    if (recording == null) throw new IllegalStateException("StepGraph used after close");
    backend.replayRecording(recording);
  }

  /** Kernel calls recorded, where the backend keeps them one by one (host backends); -1 otherwise. */
  public int kernelCalls() {
    if (recording == null) throw new IllegalStateException("StepGraph used after close");
    return recording instanceof Backend.HostRecording h ? h.size() : -1;
  }

  /** Frees the recording, then the memory of tensors closed while it existed. Idempotent. */
  @Override
  public void close() {
    if (recording == null) return;
    Backend.Recording r = recording;
    recording = null;
    backend.releaseRecording(r, memory);
  }
}
