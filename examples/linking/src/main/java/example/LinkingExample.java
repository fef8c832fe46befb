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
import java.util.Arrays;

/**
 * Links idemnet as a library: trains the paper's B1 network toward idempotency with Modified
 * Backpropagation, saves it as safetensors (PyTorch parameter names), loads it into a fresh
 * network and checks that both compute the same function. Exits non-zero when a check fails.
 * The README's "Using it from Java" snippets are taken from this file.
 */
public final class LinkingExample {
  private LinkingExample() {}

  public static void main(String[] args) throws IOException {
    Path file = Path.of(args.length > 0 ? args[0] : "b1.safetensors");

    // --- snippet: train ---
    Backend be = Backends.get();   // cuda when a GPU is usable, else cpu; -Didemnet.backend=... to choose
    double before, after;
    try (Sequential f = Sequential.mlp(be, 42, Activation.leakyRelu(0.2f), 5, 5);   // the paper's B1
         Graph graph = new Graph(be);
         Sgd sgd = new Sgd(f.namedParameters(), 0.05f);
         Tensor x = be.zeros(1000, 5)) {
      be.randomNormal(x, 0, 0f, 1f);
      before = IdempotentLoss.error(graph, f, x);   // mean((f(f(x)) - f(x))^2)
      for (int step = 0; step < 300; step++) {
        be.randomNormal(x, step, 0f, 1f);          // a fresh N(0, 1) batch each step
        IdempotentLoss.trainStep(graph, f, sgd, x, IdempotentLoss.Mode.MODIFIED);   // or ORDINARY
      }
      be.randomNormal(x, 0, 0f, 1f);
      after = IdempotentLoss.error(graph, f, x);
      Checkpoints.saveModel(file, f);              // safetensors: "0.weight", "0.bias", as in PyTorch
      // --- end snippet ---
      System.out.printf("backend %s: idempotency error %.3e before, %.3e after 300 MB steps%n", be.name(), before, after);
      if (!(after < before)) fail("training did not lower the idempotency error");

      // --- snippet: load ---
      try (Sequential g = Sequential.mlp(be, 7, Activation.leakyRelu(0.2f), 5, 5)) {   // other initial weights
        Checkpoints.loadModel(file, g);            // fails with a clear message on a missing or misshaped tensor
        // --- end snippet ---
        float[] fx = outputs(graph, f, x), gx = outputs(graph, g, x);
        if (!Arrays.equals(fx, gx)) fail("the reloaded network computes another function");
        System.out.println("saved " + file + " and reloaded it: outputs equal on " + x.shape()[0] + " inputs");
      }
    }
  }

  @SuppressWarnings("try") // the scope is used only for its close()
  private static float[] outputs(Graph graph, Sequential f, Tensor x) {
    graph.reset();
    try (var scope = graph.noGrad()) {
      return f.forward(graph, graph.constant(x)).value().toArray();
    }
  }

  private static void fail(String why) {
    System.err.println("FAILED: " + why);
    System.exit(1);
  }
}
