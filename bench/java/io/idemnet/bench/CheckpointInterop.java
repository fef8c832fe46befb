package io.idemnet.bench;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.io.Checkpoints;
import io.idemnet.io.SafeTensors;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Java half of the PyTorch checkpoint interop check (bench/pytorch/interop_check.sh).
 * {@code export DIR}: writes an MLP (6-16-6, LeakyReLU 0.2 after each Linear) to
 * DIR/idemnet_model.safetensors and an input with idemnet's output to DIR/idemnet_io.safetensors.
 * {@code verify DIR}: loads DIR/torch_model.safetensors (written by PyTorch) into the same
 * architecture and compares its output on DIR/torch_io.safetensors' x with PyTorch's y.
 */
public final class CheckpointInterop {
  private static final int[] DIMS = {6, 16, 6};

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: CheckpointInterop export|verify DIR");
      System.exit(2);
    }
    Backend be = Backends.get();
    Path dir = Path.of(args[1]);
    Files.createDirectories(dir);
    try (Sequential f = Sequential.mlp(be, 123, Activation.leakyRelu(0.2f), DIMS); Graph g = new Graph(be)) {
      if (args[0].equals("export")) {
        try (Tensor x = be.zeros(8, DIMS[0])) {
          be.randomNormal(x, 5, 0f, 1f);
          Tensor y = f.forward(g, g.constant(x)).value();
          Checkpoints.saveModel(dir.resolve("idemnet_model.safetensors"), f);
          SafeTensors.write(dir.resolve("idemnet_io.safetensors"), Map.of("x", x, "y", y), null);
        }
        System.out.println("exported to " + dir);
      } else {
        Checkpoints.loadModel(dir.resolve("torch_model.safetensors"), f);
        var io = SafeTensors.read(dir.resolve("torch_io.safetensors"));
        try (Tensor x = be.fromArray(io.get("x").data(), io.get("x").shape())) {
          float[] got = f.forward(g, g.constant(x)).value().toArray(), want = io.get("y").data();
          double maxDiff = 0;
          for (int i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
          System.out.println("idemnet vs PyTorch on PyTorch's checkpoint: max |diff| = " + maxDiff);
          System.exit(maxDiff <= 1e-5 ? 0 : 1);
        }
      }
    }
  }
}
