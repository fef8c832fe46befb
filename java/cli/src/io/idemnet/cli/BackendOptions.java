package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.cpu.CpuBackend;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The backend options of every command that computes (a picocli mixin): one definition, so that
 * every command reads {@code --backend}, {@code -Didemnet.backend} / {@code IDEMNET_BACKEND} and
 * {@code --threads} the same way.
 */
final class BackendOptions {
  @Option(names = "--backend", paramLabel = "NAME",
      description = "auto, cuda, cpu or reference (default: -Didemnet.backend, else IDEMNET_BACKEND, else auto:"
          + " cuda when a GPU is usable, else cpu)")
  String name;

  @Option(names = "--threads", defaultValue = "0", paramLabel = "N",
      description = "CPU threads for the native kernels and OpenBLAS (0, the default: all cores)")
  int threads;

  /** A new backend as the options say; the caller closes it. Bad values are usage errors of {@code cl}. */
  Backend open(CommandLine cl) {
    if (threads < 0) throw new ParameterException(cl, "--threads must be >= 0, got " + threads);
    Backend backend;
    try {
      backend = Backends.named(name != null ? name : Backends.configuredName());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--backend: " + e.getMessage());
    }
    if (threads > 0 && backend instanceof CpuBackend cpu) cpu.setNumThreads(threads);
    return backend;
  }

  /** The thread count in use, for run summaries (0 for backends without CPU threads). */
  static int threadsOf(Backend backend) {
    return backend instanceof CpuBackend cpu ? cpu.numThreads() : 0;
  }
}
