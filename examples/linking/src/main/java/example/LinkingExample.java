package example;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.io.Checkpoints;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Links idemnet as a library: trains the paper's B1 network toward idempotency with Modified
 * Backpropagation, saves it as safetensors (PyTorch parameter names), loads it into a network with
 * other initial weights and checks that both compute the same function. Exits non-zero when a
 * check fails. The README's "Using it from Java" snippet is the part between the snippet markers
 * (a test compares them).
 */
public final class LinkingExample {
  private LinkingExample() {}

  public static void main(String[] args) throws IOException {
    Path file = Path.of(args.length > 0 ? args[0] : "b1.safetensors");
    // --- snippet ---
    double before, after, reloaded;
    Backend be = Backends.get();   // cuda when a GPU is usable, else cpu; -Didemnet.backend=... to choose
    try (Sequential f = Sequential.mlp(be, 42, Activation.leakyRelu(0.2f), 5, 5);   // the paper's B1
         Sequential g = Sequential.mlp(be, 7, Activation.leakyRelu(0.2f), 5, 5);    // other initial weights
         Graph graph = new Graph(be);
         Sgd sgd = new Sgd(f.namedParameters(), 0.05f);
         Tensor x = be.zeros(1000, 5)) {
      be.randomNormal(x, 0, 0f, 1f);
      before = IdempotentLoss.error(graph, f, x);   // mean((f(f(x)) - f(x))^2)
      for (int step = 1; step <= 300; step++) {
        be.randomNormal(x, step, 0f, 1f);          // a fresh N(0, 1) batch each step
        IdempotentLoss.trainStep(graph, f, sgd, x, IdempotentLoss.Mode.MODIFIED);   // or ORDINARY
      }
      be.randomNormal(x, 0, 0f, 1f);
      after = IdempotentLoss.error(graph, f, x);
      Checkpoints.saveModel(file, f);              // safetensors: "0.weight", "0.bias", as in PyTorch
      Checkpoints.loadModel(file, g);              // a missing name or wrong shape: CheckpointException
      reloaded = IdempotentLoss.error(graph, g, x);   // g now computes f: the same error
    }
    // --- end snippet ---
    System.out.printf("backend %s: idempotency error %.3e before, %.3e after 300 MB steps; reloaded %.3e%n",
        be.name(), before, after, reloaded);
    if (!(after < before / 10)) fail("300 MB steps did not lower the idempotency error tenfold");
    if (reloaded != after) fail("the reloaded network computes another function");
    System.out.println("saved and reloaded " + file + ": OK");
  }

  private static void fail(String why) {
    System.err.println("FAILED: " + why);
    System.exit(1);
  }
}
