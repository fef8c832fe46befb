package io.idemnet.bench;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.fpn.FixedPointNetwork;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.util.Random;
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
 * One FPN training step ({@link FpnExperiment#trainStep}) of the convolutional model of
 * docs/fpn.md (48 feature maps, gamma 0.5, batch 128, tolerance 1e-4, Adam 1e-3) per backward
 * variant, on 28x28 images of N(0, 1) pixels with random labels, pre-generated and cycled (four
 * batches), on the backend named by {@code backend} (see {@link BenchBackend}). Weights change
 * from step to step as in training, so the solver's iteration and product counts drift; their
 * means over the trial's steps (warmup included) are printed at its end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class FpnStepBench {
  @Param({"jfb", "implicit", "implicit-cg"})
  public String variant;

  @Param("5")
  public int anderson;

  @Param("48")
  public int channels;

  @Param({BenchBackend.CPU, BenchBackend.CUDA, BenchBackend.CUDA_GRAPHS})
  public String backend;

  @Param("false")
  public boolean tf32;

  private static final int BATCH = 128;
  private BenchBackend bench;
  private BenchBackend.Step timed;
  private FixedPointNetwork f;
  private Graph graph;
  private Adam adam;
  private final Tensor[] xs = new Tensor[4];
  private final Tensor[] labels = new Tensor[4];
  private long steps, iterations, products;

  @Setup(Level.Trial)
  public void setup() {
    bench = BenchBackend.open(backend, tf32);
    Backend be = bench.backend();
    var config = new FpnExperiment.Config(FpnExperiment.Variant.parse(variant), channels, 0.5f, 1, BATCH, 1e-3f, 1e-4, 50,
        50, 1, 1, false, anderson);
    Random rnd = new Random(7);
    float[] images = new float[BATCH * 28 * 28];
    for (int i = 0; i < images.length; i++) images[i] = (float) rnd.nextGaussian();
    int[] shapeLabels = new int[BATCH];
    Dataset shape = new Dataset(images, shapeLabels, 1, 28, 28);
    f = new FpnExperiment(be, config, FpnExperiment.convQ(), true).build(shape, 10);
    graph = new Graph(be);
    adam = new Adam(f.namedParameters(), 1e-3f);
    for (int b = 0; b < xs.length; b++) {
      xs[b] = be.zeros(BATCH, 1, 28, 28);
      be.randomNormal(xs[b], 100 + b, 0f, 1f);
      float[] l = new float[BATCH];
      for (int i = 0; i < BATCH; i++) l[i] = rnd.nextInt(10);
      labels[b] = be.fromArray(l, BATCH);
    }
    // The labels are device tensors indexed by the step count; the solver's declared reads (its
    // residuals) keep this step from being recorded, so cuda-graphs skips it.
    timed = bench.prepare("the FPN " + variant + " step", in -> {
      FpnExperiment.trainStep(f, graph, adam, in[0], labels[(int) (steps & 3)]);
      FixedPointNetwork.Stats st = f.lastStats();
      iterations += st.iterations();
      products += st.vjpProducts();
    }, xs[0]);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    System.out.printf("%n%s, Anderson %d: %.1f forward iterations and %.1f Jacobian products per step (%d steps)%n", variant,
        anderson, (double) iterations / steps, (double) products / steps, steps);
    for (Tensor t : xs) t.close();
    for (Tensor t : labels) t.close();
    adam.close();
    graph.close();
    f.close();
    bench.close();
  }

  @Benchmark
  public void step() {
    timed.run(xs[(int) (steps & 3)]);
    steps++;
  }
}
