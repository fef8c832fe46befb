package io.idemnet.bench;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
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
 * One training step of the paper's networks B1-B4 (Linear + bias + LeakyReLU(0.2) after every
 * layer), batch 1000, N(0,1) inputs, SGD lr 1e-3: MB (Algorithm 1) or OB, on the backend named by
 * {@code backend} (cpu, cuda, cuda-graphs; see {@link BenchBackend}) with TF32 math as {@code tf32}
 * says (cuda only). The same step in PyTorch: bench/pytorch/mb_step.py.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MbStepBench {
  @Param({"B1", "B2", "B3", "B4"})
  public String net;

  @Param({"MB", "OB"})
  public String mode;

  @Param("1000")
  public int batch;

  @Param({BenchBackend.CPU, BenchBackend.CUDA, BenchBackend.CUDA_GRAPHS})
  public String backend;

  @Param("false")
  public boolean tf32;

  private BenchBackend bench;
  private BenchBackend.Step timed;
  private Sequential f;
  private Graph graph;
  private Sgd sgd;
  private final Tensor[] inputs = new Tensor[4];
  private int next;
  private IdempotentLoss.Mode lossMode;

  static int[] dims(String net) {
    return switch (net) {
      case "B1" -> new int[] {5, 5};
      case "B2" -> new int[] {128, 256, 256, 256, 256, 128};
      case "B3" -> new int[] {4096, 1024, 4096};
      case "B4" -> new int[] {784, 1024, 2048, 784};
      default -> throw new IllegalArgumentException(net);
    };
  }

  @Setup(Level.Trial)
  public void setup() {
    bench = BenchBackend.open(backend, tf32);
    Backend be = bench.backend();
    int[] d = dims(net);
    f = Sequential.mlp(be, 42, Activation.leakyRelu(0.2f), d);
    graph = new Graph(be);
    sgd = new Sgd(f.namedParameters(), 1e-3f);
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = be.zeros(batch, d[0]);
      be.randomNormal(inputs[i], 100 + i, 0f, 1f);
    }
    lossMode = mode.equals("MB") ? IdempotentLoss.Mode.MODIFIED : IdempotentLoss.Mode.ORDINARY;
    timed = bench.prepare("the " + mode + " step of " + net, sgd::prepareStep,
        in -> IdempotentLoss.stepKernels(graph, f, sgd, in[0], lossMode),
        inputs[0]);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    graph.close();
    sgd.close();
    f.close();
    for (Tensor t : inputs) t.close();
    bench.close();
  }

  @Benchmark
  public void step() {
    Tensor x = inputs[next];
    next = (next + 1) & 3;
    timed.run(x);
  }
}
