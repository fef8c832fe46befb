package io.idemnet.bench;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Tensor;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The foundation's three figures: GEMM through idemnet against the same OpenBLAS call made
 * directly, the fixed cost of a tiny op through FFM, and the fused corrector's bandwidth.
 */
public class FoundationBench {

  /** B3's first layer at batch 1000: [1000 x 4096] x [4096 x 1024] (B given as [1024 x 4096], transposed). */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MILLISECONDS)
  @Warmup(iterations = 3, time = 2)
  @Measurement(iterations = 8, time = 2)
  @Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public static class Gemm {
    static final int M = 1000, K = 4096, N = 1024;
    CpuBackend cpu;
    Tensor a, b, c;
    MethodHandle cblasSgemm;

    @Setup(Level.Trial)
    public void setup() {
      cpu = new CpuBackend(); // loads JavaCPP's libopenblas as well
      a = cpu.zeros(M, K);
      b = cpu.zeros(N, K);
      c = cpu.zeros(M, N);
      cpu.randomNormal(a, 1, 0f, 1f);
      cpu.randomNormal(b, 2, 0f, 1f);
      // The same library's cblas_sgemm, found by its soname among the loaded libraries.
      MemorySegment sym = SymbolLookup.libraryLookup("libopenblas.so.0", java.lang.foreign.Arena.global())
          .find("cblas_sgemm").orElseThrow();
      ValueLayout I = ValueLayout.JAVA_INT, F = ValueLayout.JAVA_FLOAT, P = ValueLayout.ADDRESS;
      cblasSgemm = Linker.nativeLinker().downcallHandle(sym,
          FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, P, I, P, I, F, P, I));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      a.close();
      b.close();
      c.close();
    }

    @Benchmark
    public void idemnetGemm() {
      cpu.gemm(false, true, 1f, a, b, 0f, c);
    }

    @Benchmark
    public void openblasDirect() throws Throwable {
      // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112
      cblasSgemm.invokeExact(101, 111, 112, M, N, K, 1f, seg(a), K, seg(b), K, 0f, seg(c), N);
    }
  }

  /** Fixed cost of one small op (5x5 add) through the public API: validation plus one downcall. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 5, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public static class TinyOp {
    CpuBackend cpu;
    Tensor x, y, out;

    @Setup(Level.Trial)
    public void setup() {
      cpu = new CpuBackend();
      x = cpu.full(1f, 5, 5);
      y = cpu.full(2f, 5, 5);
      out = cpu.zeros(5, 5);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      x.close();
      y.close();
      out.close();
    }

    @Benchmark
    public void add5x5() {
      cpu.add(x, y, out);
    }

    @Benchmark
    public double sum5x5() {
      return cpu.sum(x);
    }
  }

  /** The fused corrector on 1000 x 4096 floats (3 reads + 1 write), next to a copy and an axpy. */
  @State(Scope.Benchmark)
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  @Warmup(iterations = 3, time = 1)
  @Measurement(iterations = 8, time = 1)
  @Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
  public static class Corrector {
    CpuBackend cpu;
    Tensor a, b, c, out;

    @Setup(Level.Trial)
    public void setup() {
      cpu = new CpuBackend();
      a = cpu.zeros(1000, 4096);
      b = cpu.zeros(1000, 4096);
      c = cpu.zeros(1000, 4096);
      out = cpu.zeros(1000, 4096);
      cpu.randomNormal(a, 1, 0f, 1f);
      cpu.randomNormal(b, 2, 0f, 1f);
      cpu.randomNormal(c, 3, 0f, 1f);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      a.close();
      b.close();
      c.close();
      out.close();
    }

    @Benchmark
    public double correctorWithLoss() {
      return cpu.corrector(-1e-3f, a, b, c, out, true);
    }

    @Benchmark
    public double correctorNoLoss() {
      return cpu.corrector(-1e-3f, a, b, c, out, false);
    }

    @Benchmark
    public void copy() {
      cpu.copy(a, out);
    }

    /** out += s a: 2 reads + 1 write, OpenMP-parallel like the corrector; the bandwidth yardstick. */
    @Benchmark
    public void axpy() {
      cpu.axpy(-1e-3f, a, out);
    }
  }

  static MemorySegment seg(Tensor t) {
    return ((HostStorage) t.storage()).segment();
  }
}
