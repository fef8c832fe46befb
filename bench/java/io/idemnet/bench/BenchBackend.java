package io.idemnet.bench;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.cuda.CudaBackend;
import io.idemnet.backend.StepGraph;
import io.idemnet.tensor.Tensor;

/**
 * The backend a step benchmark runs on, chosen by its {@code backend} parameter:
 * <ul>
 *   <li>{@code cpu}: the native CPU backend;
 *   <li>{@code cuda}: the cuda backend, each step run eagerly and waited for;
 *   <li>{@code cuda-graphs}: the cuda backend, the step's device half recorded once as a CUDA graph
 *       and replayed after its host half (inputs copied into the captured tensors first), then
 *       waited for.
 * </ul>
 * Every timed call on cuda ends with {@link CudaBackend#synchronize()}, so the time covers the GPU
 * work and not only its queueing (the PyTorch scripts call torch.cuda.synchronize likewise). A
 * parameter set that cannot run here ends in {@link BenchmarkSkipped} with the reason: no usable
 * GPU, {@code tf32=true} on the cpu backend, a step that reads host memory and so cannot be
 * captured. A cuda backend that would multiply with the builtin GEMM kernel instead of cuBLAS is
 * an error, not a skip (its times would be compared with cuBLAS-backed PyTorch), unless that
 * kernel was asked for with {@code -Didemnet.cuda.gemm=builtin}.
 */
final class BenchBackend implements AutoCloseable {
  static final String CPU = "cpu";
  static final String CUDA = "cuda";
  static final String CUDA_GRAPHS = "cuda-graphs";

  /** One training step on the given inputs (tensors of this backend). */
  @FunctionalInterface
  interface Step {
    void run(Tensor... inputs);
  }

  private final String name;
  private final Backend backend;
  private final CudaBackend cuda;
  private StepGraph graph;
  private Tensor[] staged = new Tensor[0];

  private BenchBackend(String name, Backend backend, CudaBackend cuda) {
    this.name = name;
    this.backend = backend;
    this.cuda = cuda;
  }

  /**
   * Opens the named backend with TF32 math on or off.
   *
   * @throws BenchmarkSkipped when it cannot run here
   * @throws IllegalArgumentException for a name other than cpu, cuda, cuda-graphs
   * @throws IllegalStateException when cuda would use the builtin GEMM without being asked to
   */
  static BenchBackend open(String name, boolean tf32) {
    switch (name) {
      case CPU -> {
        if (tf32) throw new BenchmarkSkipped("tf32=true applies to the cuda backend; the cpu backend computes in float32");
        return new BenchBackend(name, new CpuBackend(), null);
      }
      case CUDA, CUDA_GRAPHS -> {
        CudaBackend.Availability a = CudaBackend.availability();
        if (!a.usable()) throw new BenchmarkSkipped("backend=" + name + ": the cuda backend cannot run here: " + a.reason());
        CudaBackend gpu = new CudaBackend();
        if (!gpu.usesCublas() && !"builtin".equals(System.getProperty("idemnet.cuda.gemm"))) {
          String engine = gpu.gemmEngine();
          gpu.close();
          throw new IllegalStateException("backend=" + name + " would not use cuBLAS (" + engine + "); put libcublas on"
              + " LD_LIBRARY_PATH or set -Didemnet.cublas.library (or -Didemnet.cuda.gemm=builtin to time the builtin kernel)");
        }
        gpu.setTf32(tf32);
        System.out.println("[bench] backend " + name + ": " + gpu.deviceName() + "; GEMM: " + gpu.gemmEngine()
            + "; convolutions: " + gpu.convEngine() + "; TF32 "
            + (tf32 ? "on" : "off"));
        return new BenchBackend(name, gpu, gpu);
      }
      default -> throw new IllegalArgumentException("unknown backend '" + name + "'; expected cpu, cuda or cuda-graphs");
    }
  }

  Backend backend() {
    return backend;
  }

  /**
   * The timed call for {@code step}. On cpu, the step itself; on cuda, the step and a
   * synchronisation. On cuda-graphs the step runs once eagerly on copies of {@code firstInputs}
   * (so buffers that steps reuse exist before the capture), is captured on those copies, and the
   * returned call copies its inputs into them, replays the graph and synchronises.
   *
   * @param what names the step in the skip message, e.g. "the MB step of B3"
   * @throws BenchmarkSkipped (after closing this backend) when the step cannot be captured
   */
  Step prepare(String what, Step step, Tensor... firstInputs) {
    return prepare(what, () -> {}, step, firstInputs);
  }

  /**
   * {@link #prepare(String, Step, Tensor...)} for a step split into a host half (the declared
   * writes of its per-step scalars, e.g. {@code Optimizer.prepareStep}) and a device half; on
   * cuda-graphs only the device half is recorded, and every timed call runs the host half before
   * the replay.
   */
  Step prepare(String what, Runnable host, Step device, Tensor... firstInputs) {
    if (cuda == null) {
      return inputs -> {
        host.run();
        device.run(inputs);
      };
    }
    if (!name.equals(CUDA_GRAPHS)) {
      return inputs -> {
        host.run();
        device.run(inputs);
        cuda.synchronize();
      };
    }
    staged = new Tensor[firstInputs.length];
    for (int i = 0; i < firstInputs.length; i++) staged[i] = cuda.copyOf(firstInputs[i]);
    Tensor[] fixed = staged;
    host.run();
    device.run(fixed);
    cuda.synchronize();
    try {
      graph = cuda.record(() -> device.run(fixed));
    } catch (IllegalStateException e) {
      close();
      throw new BenchmarkSkipped("backend=cuda-graphs: " + what + " cannot be captured as a CUDA graph: " + e.getMessage());
    }
    StepGraph g = graph;
    return inputs -> {
      for (int i = 0; i < inputs.length; i++) cuda.copy(inputs[i], fixed[i]);
      host.run();
      g.replay();
      cuda.synchronize();
    };
  }

  /** Frees the graph, the captured input copies and, on cuda, the context with every tensor still on it. */
  @Override
  public void close() {
    if (graph != null) graph.close();
    graph = null;
    for (Tensor t : staged) t.close();
    staged = new Tensor[0];
    if (cuda != null) cuda.close();
  }
}
