package io.idemnet.bench;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.cuda.CudaBackend;
import io.idemnet.ign.IgnNetworks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;

/**
 * What the benchmarks will run on, as {@code key=value} lines for bench/gpu/run-on-device.sh:
 * the Java runtime, whether the cpu and cuda backends work here, the GPU's name, the GEMM engine
 * the cuda backend uses, and which IGN network stands for the paper's Table 2 ({@code ign.table2}).
 *
 * <p>{@code --require-cuda}: exit status 3 unless the cuda backend runs here and multiplies through
 * cuBLAS, so that a GPU run never times (or tests) the builtin GEMM kernel by accident.
 */
public final class DeviceInfo {
  private DeviceInfo() {}

  public static void main(String[] args) {
    boolean requireCuda = false;
    for (String a : args) {
      if (a.equals("--require-cuda")) requireCuda = true;
      else {
        System.err.println("usage: DeviceInfo [--require-cuda]");
        System.exit(2);
      }
    }
    System.out.println("java.version=" + System.getProperty("java.version"));
    System.out.println("java.vm=" + System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    System.out.println("cpu.backend=" + cpuStatus());
    String table2 = tableTwoNetwork();
    System.out.println("ign.table2=" + table2);
    System.out.println("ign.table2.note=" + (table2.equals("paper")
        ? "IgnNetworks.paper: Table 2 layer for layer"
        : "IgnNetworks.mnist: Table 2's channels, but 3x3/2 and 3x3 pad 1 in the middle (IgnNetworks has no 'paper' network)"));

    CudaBackend.Availability a = CudaBackend.availability();
    System.out.println("cuda=" + (a.usable() ? "usable: " : "unavailable: ") + a.reason());
    String failure = a.usable() ? null : "the cuda backend cannot run here: " + a.reason();
    if (a.usable()) {
      try (CudaBackend gpu = new CudaBackend()) {
        System.out.println("cuda.device=" + gpu.deviceName());
        System.out.println("cuda.gemm=" + gpu.gemmEngine());
        System.out.println("cuda.cublas=" + gpu.usesCublas());
        System.out.println("cuda.cublas.path=" + mappedLibraries("libcublas"));
        System.out.println("cuda.conv=" + gpu.convEngine());
        System.out.println("cuda.cudnn=" + gpu.usesCudnn());
        System.out.println("cuda.cudnn.path=" + mappedLibraries("libcudnn"));
        if (!gpu.usesCublas()) failure = "the cuda backend does not use cuBLAS: " + gpu.gemmEngine();
        else if (!gpu.usesCudnn() && !"im2col".equals(System.getProperty("idemnet.cuda.conv"))) {
          failure = "the cuda backend does not use cuDNN (give -Didemnet.cuda.conv=im2col to accept that): "
              + gpu.convEngine();
        }
      } catch (RuntimeException e) {
        failure = "the cuda backend failed to start: " + e.getMessage();
        System.out.println("cuda.error=" + e.getMessage());
      }
    }
    if (requireCuda && failure != null) {
      System.err.println("FATAL: " + failure);
      System.exit(3);
    }
  }

  /** The files of this process's mapped libraries whose name contains {@code needle} (Linux), comma-separated. */
  static String mappedLibraries(String needle) {
    try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
      return lines.map(l -> l.substring(l.lastIndexOf(' ') + 1))
          .filter(f -> f.contains(needle))
          .distinct()
          .collect(Collectors.joining(","));
    } catch (IOException | UncheckedIOException e) {
      return "(unknown: " + e.getMessage() + ")";
    }
  }

  private static String cpuStatus() {
    try {
      new CpuBackend();
      return "ok";
    } catch (RuntimeException | LinkageError e) {
      return "unavailable: " + e.getMessage();
    }
  }

  /**
   * The cliName of the IGN network to benchmark as Table 2's: {@code paper} (Table 2 layer for
   * layer) where IgnNetworks has it, else {@code mnist}, the same channels with other strides.
   */
  static String tableTwoNetwork() {
    try {
      return IgnNetworks.Net.parse("paper").cliName();
    } catch (IllegalArgumentException noPaperNetwork) {
      return IgnNetworks.Net.MNIST.cliName();
    }
  }
}
