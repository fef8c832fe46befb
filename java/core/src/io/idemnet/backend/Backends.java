package io.idemnet.backend;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.cuda.CudaBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import java.util.Locale;

/**
 * Chooses a backend. {@link #get()} honours the system property {@code idemnet.backend} or the
 * environment variable {@code IDEMNET_BACKEND} ({@code auto}, {@code cpu}, {@code reference},
 * {@code cuda}); {@code auto} (the default) takes the cuda backend when the CUDA library loads
 * and a GPU is present, logging one line that names the device, the GEMM (cuBLAS and its
 * version) and the convolution path (cuDNN and its version, or im2col + GEMM); else the native CPU
 * backend with one logged line saying why there is no GPU; when the CPU library cannot be loaded either, the plain-Java reference backend, with one
 * more line. An explicit request that cannot be met is an error, never a silent fallback.
 */
public final class Backends {
  private static final System.Logger LOG = System.getLogger("io.idemnet");
  private static Backend chosen;

  private Backends() {}

  /** The process-wide default backend (created on first use, and again after it was closed). */
  public static synchronized Backend get() {
    if (chosen == null || chosen.isClosed()) chosen = named(configuredName());
    return chosen;
  }

  /**
   * The backend name this process is configured for: the system property {@code idemnet.backend},
   * else the environment variable {@code IDEMNET_BACKEND}, else {@code auto}.
   */
  public static String configuredName() {
    String name = System.getProperty("idemnet.backend", System.getenv("IDEMNET_BACKEND"));
    return name == null || name.isBlank() ? "auto" : name;
  }

  /**
   * A new backend by name; the caller owns it and closes it ({@link Backend#close()}).
   *
   * @throws IllegalArgumentException for an unknown name
   * @throws io.idemnet.nativelib.NativeLibraryException if {@code cpu} was asked for and cannot load
   * @throws io.idemnet.backend.cuda.CudaUnavailableException if {@code cuda} was asked for and
   *     cannot run here (the message names the reason: no library, no driver, no device)
   */
  public static Backend named(String name) {
    return switch (name.trim().toLowerCase(Locale.ROOT)) {
      case "reference" -> new ReferenceBackend();
      case "cpu" -> new CpuBackend();
      case "cuda" -> new CudaBackend();
      case "auto" -> auto();
      default -> throw new IllegalArgumentException(
          "unknown backend '" + name + "'; expected auto, cpu, reference or cuda");
    };
  }

  private static Backend auto() {
    CudaBackend.Availability gpu = CudaBackend.availability();
    String noGpu = gpu.reason();
    if (gpu.usable()) {
      try {
        CudaBackend cuda = new CudaBackend();
        LOG.log(System.Logger.Level.INFO, "idemnet: using the cuda backend on " + cuda.deviceName() + "; GEMM: "
            + cuda.gemmEngine() + "; convolutions: " + cuda.convEngine());
        return cuda;
      } catch (RuntimeException | LinkageError e) {
        noGpu = e.getMessage();
      }
    }
    // A GPU that is there but cannot be used is a misconfiguration worth a warning.
    LOG.log(gpu.usable() ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
        "idemnet: using the cpu backend; no GPU backend: " + noGpu);
    return cpuOrReference();
  }

  private static Backend cpuOrReference() {
    try {
      return new CpuBackend();
    } catch (RuntimeException | LinkageError e) {
      LOG.log(System.Logger.Level.WARNING, "idemnet: native CPU backend unavailable, using the plain-Java"
          + " reference backend (slow): " + e.getMessage());
      return new ReferenceBackend();
    }
  }
}
