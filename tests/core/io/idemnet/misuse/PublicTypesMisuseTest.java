package io.idemnet.misuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.Kernels;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.io.CheckpointException;
import io.idemnet.io.Checkpoints;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.optim.Optimizer;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.HostStorage;
import io.idemnet.tensor.Storage;
import io.idemnet.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wrong use of the main public types, as a new user would try it: every case must end in one of
 * the library's exceptions with a message that names the problem, and leave no damage behind
 * (nothing half-updated, no file written, nothing leaked). One section per type.
 */
class PublicTypesMisuseTest {
  private static final Backend CPU = new CpuBackend();
  private static final Backend REF = new ReferenceBackend();

  private static <T extends Throwable> T refused(Class<T> type, String inMessage, Executable call) {
    T e = assertThrows(type, call);
    assertTrue(e.getMessage() != null && e.getMessage().contains(inMessage),
        "message '" + e.getMessage() + "' should mention '" + inMessage + "'");
    return e;
  }

  // ------------------------------------------------------------------ Tensor

  @Test
  void tensorUsedAfterCloseIsRefused() {
    Tensor t = CPU.full(1f, 2, 3);
    t.close();
    t.close(); // closing twice is allowed
    assertTrue(t.isClosed());
    refused(IllegalStateException.class, "used after close", t::toArray);
    refused(IllegalStateException.class, "used after close", () -> t.copyFrom(new float[6]));
    refused(IllegalStateException.class, "used after close", () -> t.copyTo(new float[6]));
    refused(IllegalStateException.class, "used after close", () -> CPU.fill(t, 2f));
    refused(IllegalStateException.class, "used after close", () -> CPU.copyOf(t));
    assertTrue(t.toString().contains("closed"));
  }

  @Test
  void tensorWrongLengthsAndDimensionsAreRefused() {
    try (Tensor t = CPU.zeros(2, 3)) {
      refused(IllegalArgumentException.class, "5 values", () -> t.copyFrom(new float[5]));
      float[] into = new float[7];
      refused(IllegalArgumentException.class, "array of 7", () -> t.copyTo(into));
      refused(IndexOutOfBoundsException.class, "dimension 2 of", () -> t.dim(2));
      refused(IndexOutOfBoundsException.class, "dimension -3 of", () -> t.dim(-3));
      assertEquals(3, t.dim(-1));
    }
  }

  /**
   * Closing a tensor in one thread while an operation runs on it in another: the close returns at
   * once and marks the tensor closed, the running operation finishes on live memory, and the
   * memory is freed when it returns (it used to stay allocated for good).
   */
  @Test
  void closingDuringAnOperationInAnotherThreadFreesTheTensorAfterIt() throws Exception {
    CountDownLatch started = new CountDownLatch(1), release = new CountDownLatch(1);
    BlockingBackend be = new BlockingBackend(started, release);
    Tensor t = be.zeros(1000);
    Storage storage = t.storage();
    Thread op = new Thread(() -> be.fill(t, 3f));
    op.start();
    assertTrue(started.await(10, TimeUnit.SECONDS), "the operation started");
    assertDoesNotThrow(t::close);
    assertTrue(t.isClosed(), "closed at once");
    assertTrue(((HostStorage) storage).segment().scope().isAlive(), "not freed under the running operation");
    refused(IllegalStateException.class, "used after close", () -> be.fill(t, 1f));
    release.countDown();
    op.join(10_000);
    assertFalse(op.isAlive());
    assertFalse(((HostStorage) storage).segment().scope().isAlive(), "freed when the operation returned");
    assertTrue(be.completed, "the operation finished normally");
  }

  /** The same with the native backend: a large GEMM runs while another thread closes its output. */
  @Test
  void closingDuringANativeOperationNeverFails() throws Exception {
    for (int round = 0; round < 5; round++) {
      Tensor a = CPU.full(1f, 600, 600), c = CPU.zeros(600, 600);
      Storage storage = c.storage();
      Throwable[] failure = new Throwable[1];
      Thread op = new Thread(() -> {
        try {
          CPU.gemm(false, false, 1f, a, a, 0f, c);
        } catch (IllegalStateException closedBeforeStart) {
          // the close came first: refused cleanly
        } catch (Throwable e) {
          failure[0] = e;
        }
      });
      op.start();
      Thread.sleep(round);
      assertDoesNotThrow(c::close);
      op.join(60_000);
      assertEquals(null, failure[0]);
      assertFalse(((HostStorage) storage).segment().scope().isAlive(), "freed once the GEMM returned");
      a.close();
    }
  }

  // ------------------------------------------------------------------ Backend

  @Test
  void backendRefusesImpossibleShapesWithItsOwnMessage() {
    refused(IllegalArgumentException.class, "zeros: shape [2147483647, 2147483647]",
        () -> CPU.zeros(Integer.MAX_VALUE, Integer.MAX_VALUE));
    refused(IllegalArgumentException.class, "zeros:", () -> REF.zeros(Integer.MAX_VALUE, Integer.MAX_VALUE, 4));
    refused(IllegalArgumentException.class, "negative dimension", () -> CPU.zeros(3, -1));
    refused(NullPointerException.class, "zeros", () -> CPU.zeros((int[]) null));
    refused(IllegalArgumentException.class, "do not fill shape", () -> CPU.fromArray(new float[5], 2, 3));
  }

  @Test
  void backendRefusesForeignClosedNullAndMisshapenTensors() {
    try (Tensor r = REF.zeros(2, 2); Tensor c = CPU.zeros(2, 2); Tensor c3 = CPU.zeros(3, 3);
        Tensor batch = CPU.zeros(2, 2, 2)) {
      refused(IllegalArgumentException.class, "copy it with cpu.copyOf", () -> CPU.add(c, r, c));
      refused(NullPointerException.class, "sub: null tensor", () -> CPU.sub(c, null, c));
      refused(IllegalArgumentException.class, "shapes differ", () -> CPU.mul(c, c3, c));
      refused(IllegalArgumentException.class, "inner dimensions differ", () -> CPU.gemm(false, false, 1f, c, c3, 0f, c));
      refused(IllegalArgumentException.class, "expects 2-D tensors", () -> CPU.gemm(false, false, 1f, batch, c, 0f, c));
      refused(IllegalArgumentException.class, "aliasing", () -> CPU.gemm(false, false, 1f, c3, c3, 0f, c3));
      refused(IllegalArgumentException.class, "need finite low <= high", () -> CPU.randomUniform(c, 1, 2f, 1f));
      refused(IllegalArgumentException.class, "std >= 0", () -> CPU.randomNormal(c, 1, 0f, Float.NaN));
      refused(IllegalArgumentException.class, "4-D", () -> CPU.conv2d(c, c, null, ConvSpec.of(1, 0), c));
      refused(IllegalArgumentException.class, "copy it with cpu.copyOf", () -> CPU.allFinite(List.of(c, r)));
      refused(IllegalArgumentException.class, "unknown backend 'gpu'", () -> Backends.named("gpu"));
      refused(IllegalArgumentException.class, "stride >= 1", () -> ConvSpec.of(0, 0));
      try (Tensor empty = CPU.zeros(0)) {
        assertTrue(Double.isNaN(CPU.mean(empty)), "the mean of nothing is NaN, not 0");
      }
    }
  }

  // ------------------------------------------------------------------ Graph

  @Test
  void aClosedGraphRefusesEveryUse() {
    try (Tensor x = CPU.zeros(2, 3); Linear lin = new Linear(CPU, 3, 3, true, 1)) {
      Graph g = new Graph(CPU);
      Var v = g.constant(x);
      g.close();
      g.close();
      assertTrue(g.isClosed());
      refused(IllegalStateException.class, "graph is closed", g::reset);
      refused(IllegalStateException.class, "graph is closed", () -> g.constant(x));
      refused(IllegalStateException.class, "graph is closed", () -> lin.forward(g, v));
      refused(IllegalStateException.class, "graph is closed", () -> g.activation(Activation.RELU, v));
      refused(IllegalStateException.class, "graph is closed", () -> g.backward(v));
      refused(IllegalStateException.class, "graph is closed", g::workspace);
      refused(IllegalStateException.class, "graph is closed", g::noGrad);
    }
  }

  @Test
  void graphRefusesWrongShapesAndBackends() {
    try (Graph g = new Graph(CPU); Tensor x = CPU.zeros(2, 4); Tensor r = REF.zeros(2, 4); Linear lin = new Linear(CPU, 3, 3, true, 1)) {
      refused(IllegalArgumentException.class, "not on this graph's backend", () -> g.constant(r));
      refused(IllegalArgumentException.class, "linear: need x [N, in]", () -> lin.forward(g, g.constant(x)));
      Var y = g.activation(Activation.RELU, g.leaf(x));
      refused(IllegalArgumentException.class, "one-element output", () -> g.backward(y));
      refused(IllegalArgumentException.class, "cannot become", () -> g.reshape(g.constant(x), 3, 3));
      Var c = g.constant(x);
      try (Tensor seed = CPU.zeros(2, 4)) {
        refused(IllegalArgumentException.class, "does not require a gradient", () -> g.backward(c, seed));
      }
    }
  }

  // ------------------------------------------------------------------ optimizers

  @Test
  void optimizersRefuseBadHyperParametersAndClosedState() {
    try (Parameter p = new Parameter(CPU.fromArray(new float[] {1f, 2f}, 2))) {
      Map<String, Parameter> params = Map.of("w", p);
      refused(IllegalArgumentException.class, "learning rate", () -> new Sgd(params, -0.1f));
      refused(IllegalArgumentException.class, "learning rate", () -> new Sgd(params, Float.NaN));
      refused(IllegalArgumentException.class, "momentum", () -> new Sgd(params, 0.1f, 1f, 0f));
      refused(IllegalArgumentException.class, "betas", () -> new Adam(params, 0.1f, 1f, 0.999f, 1e-8f, 0f));
      refused(IllegalArgumentException.class, "eps", () -> new Adam(params, 0.1f, 0.9f, 0.999f, 0f, 0f));
      Adam adam = new Adam(params, 0.1f);
      refused(IllegalArgumentException.class, "learning rate", () -> adam.setLearningRate(Float.POSITIVE_INFINITY));
      refused(IllegalArgumentException.class, "negative step count", () -> adam.setSteps(-1));
      refused(NullPointerException.class, "policy", () -> adam.nonFinitePolicy(null));
      adam.close();
      float[] before = p.value().toArray();
      refused(IllegalStateException.class, "used after close", adam::step);
      assertArrayEquals(before, p.value().toArray(), "a refused step changes no weight");
    }
  }

  @Test
  void aTrainingStepOnAnEmptyBatchIsRefused() {
    try (Sequential f = Sequential.mlp(CPU, 1, Activation.RELU, 3, 3); Graph g = new Graph(CPU);
        Sgd sgd = new Sgd(f.namedParameters(), 0.1f); Tensor empty = CPU.zeros(0, 3)) {
      float[] before = f.parameters().get(0).value().toArray();
      refused(IllegalArgumentException.class, "is empty", () -> IdempotentLoss.trainStep(g, f, sgd, empty,
          IdempotentLoss.Mode.MODIFIED));
      refused(IllegalArgumentException.class, "is empty", () -> IdempotentLoss.trainStep(g, f, sgd, empty,
          IdempotentLoss.Mode.ORDINARY));
      assertArrayEquals(before, f.parameters().get(0).value().toArray());
      assertEquals(0, sgd.steps());
    }
  }

  // ------------------------------------------------------------------ modules

  @Test
  void modulesRefuseBadSizesAndUseAfterClose() {
    refused(IllegalArgumentException.class, "sizes must be positive", () -> new Linear(CPU, 0, 3, true, 1));
    refused(IllegalArgumentException.class, "at least two sizes", () -> Sequential.mlp(CPU, 1, Activation.RELU, 3));
    try (Graph g = new Graph(CPU); Tensor img = CPU.zeros(1, 2, 5, 5)) {
      Conv2d conv = new Conv2d(CPU, 3, 4, 3, 1, 1, true, 1);
      refused(IllegalArgumentException.class, "channels", () -> conv.forward(g, g.constant(img)));
      conv.close();
      try (Tensor ok = CPU.zeros(1, 3, 5, 5)) {
        refused(IllegalStateException.class, "used after close", () -> conv.forward(g, g.constant(ok)));
      }
    }
  }

  // ------------------------------------------------------------------ Checkpoints

  @Test
  void checkpointsRefuseMismatchedMissingAndClosedModels(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("model.safetensors");
    try (Sequential small = Sequential.mlp(CPU, 1, Activation.RELU, 3, 3);
        Sequential other = Sequential.mlp(CPU, 2, Activation.RELU, 3, 4, 3)) {
      Checkpoints.saveModel(file, small);
      float[] before = other.parameters().get(0).value().toArray();
      refused(CheckpointException.class, "", () -> Checkpoints.loadModel(file, other));
      assertArrayEquals(before, other.parameters().get(0).value().toArray(), "a refused load changes nothing");
      assertThrows(NoSuchFileException.class, () -> Checkpoints.loadModel(dir.resolve("missing.safetensors"), small));
      try (Adam adam = new Adam(small.namedParameters(), 0.1f)) {
        refused(CheckpointException.class, "not a training checkpoint", () -> Checkpoints.loadTraining(file, small, adam));
      }
    }
    Sequential closed = Sequential.mlp(CPU, 1, Activation.RELU, 3, 3);
    closed.close();
    Path never = dir.resolve("closed.safetensors");
    refused(IllegalStateException.class, "closed", () -> Checkpoints.saveModel(never, closed));
    assertFalse(Files.exists(never), "no file from a refused save");
    try (var files = Files.list(dir)) {
      assertEquals(List.of("model.safetensors"), files.map(p -> p.getFileName().toString()).sorted().toList(),
          "and no temporary file either");
    }
  }

  /**
   * A host backend whose fill blocks until released (so that a test can close a tensor during an
   * operation). Its kernels are a proxy: allocate and fill are implemented, every other kernel throws.
   */
  private static final class BlockingBackend extends Backend {
    private final CountDownLatch started, release;
    private final Kernels kernels;
    volatile boolean completed;

    BlockingBackend(CountDownLatch started, CountDownLatch release) {
      this.started = started;
      this.release = release;
      this.kernels = (Kernels) java.lang.reflect.Proxy.newProxyInstance(Kernels.class.getClassLoader(),
          new Class<?>[] {Kernels.class}, (proxy, method, args) -> switch (method.getName()) {
            case "allocate" -> new HostStorage((Long) args[0]);
            case "fillKernel" -> {
              blockingFill((Tensor) args[0], (Float) args[1]);
              yield null;
            }
            default -> throw new UnsupportedOperationException(method.getName() + " is not used by this test");
          });
    }

    @Override
    public String name() {
      return "blocking";
    }

    @Override
    protected Kernels kernels() {
      return kernels;
    }

    private void blockingFill(Tensor x, float value) {
      started.countDown();
      try {
        assertTrue(release.await(10, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
      HostStorage s = (HostStorage) x.storage(); // still valid: the tensor is held by this operation
      for (long i = 0; i < x.numel(); i++) s.set(i, value);
      completed = true;
    }
  }
}
