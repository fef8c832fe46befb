package io.idemnet.bench;

import io.idemnet.backend.Backend;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One IGN training step (IgnTrainer.step) on 1x28x28 inputs with the 28x28 network named by
 * {@code net} ({@link IgnNetworks.Net#parse}: {@code mnist}, or {@code paper} where IgnNetworks has
 * Table 2 layer for layer), lambdas 20 / 0.1 / 0.1, Adam(1e-4, 0.5, 0.999), on the backend named by
 * {@code backend} (see {@link BenchBackend}). x and z are N(0,1) batches (x clamped to [-1, 1]),
 * pre-generated and cycled. The same step in PyTorch: bench/pytorch/ign_step.py (same --net).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class IgnStepBench {
  @Param({"MODIFIED", "ORIGINAL"})
  public String mode;

  @Param("64")
  public int batch;

  @Param("1.0")
  public float width;

  @Param("mnist")
  public String net;

  @Param({BenchBackend.CPU, BenchBackend.CUDA, BenchBackend.CUDA_GRAPHS})
  public String backend;

  @Param("false")
  public boolean tf32;

  private BenchBackend bench;
  private BenchBackend.Step timed;
  private Sequential f;
  private Adam adam;
  private IgnTrainer trainer;
  private final Tensor[] xs = new Tensor[2];
  private final Tensor[] zs = new Tensor[2];
  private long step;

  @Setup(Level.Trial)
  public void setup() {
    IgnNetworks.Net network = IgnNetworks.Net.parse(net);
    network.checkImages(1, 28, 28);
    bench = BenchBackend.open(backend, tf32);
    Backend be = bench.backend();
    f = network.build(be, 1, width, 42);
    adam = new Adam(f.namedParameters(), 1e-4f, 0.5f, 0.999f, 1e-8f, 0f);
    trainer = new IgnTrainer(be, f, adam, IgnTrainer.Mode.valueOf(mode), new IgnTrainer.Lambdas(20f, 0.1f, 0.1f));
    for (int i = 0; i < 2; i++) {
      xs[i] = be.zeros(batch, 1, 28, 28);
      be.randomNormal(xs[i], 10 + i, 0f, 1f);
      float[] v = xs[i].toArray();
      for (int j = 0; j < v.length; j++) v[j] = Math.max(-1f, Math.min(1f, v[j]));
      xs[i].copyFrom(v);
      zs[i] = be.zeros(batch, 1, 28, 28);
      be.randomNormal(zs[i], 20 + i, 0f, 1f);
    }
    timed = bench.prepare("the IGN " + mode + " step", () -> trainer.prepare(step++),
        in -> trainer.stepKernels(in[0], in[1]), xs[0], zs[0]);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    trainer.close();
    adam.close();
    f.close();
    for (Tensor t : xs) t.close();
    for (Tensor t : zs) t.close();
    bench.close();
  }

  @Benchmark
  public void step() {
    int i = (int) (step & 1);
    timed.run(xs[i], zs[i]);
  }
}
