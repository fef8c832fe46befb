package io.idemnet.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.backend.ConvSpec;
import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.nn.ConvTranspose2d;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad shapes and arguments of the convolution, batch-norm and dropout operations. */
class ConvBadInputTest {
  private static final CpuBackend CPU = new CpuBackend();
  private static final Backend REF = new ReferenceBackend();
  private final List<Tensor> open = new ArrayList<>();

  @AfterEach
  void closeAll() {
    open.forEach(Tensor::close);
    open.clear();
  }

  private Tensor t(Backend be, int... shape) {
    Tensor x = be.zeros(shape);
    open.add(x);
    return x;
  }

  /** Throws IllegalArgumentException whose message names {@code op} and contains every fragment. */
  private static void rejects(Executable call, String op, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(op + ":"), "message should name " + op + ": " + e.getMessage());
    for (String f : fragments) assertTrue(e.getMessage().contains(f), "message should contain " + f + ": " + e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void convolutionShapes(String name) {
    Backend be = name.equals("cpu") ? CPU : REF;
    ConvSpec s1 = ConvSpec.of(1, 1), s2 = ConvSpec.of(2, 1);
    Tensor x = t(be, 2, 3, 7, 7), w = t(be, 4, 3, 3, 3), y = t(be, 2, 4, 7, 7), b = t(be, 4);
    be.conv2d(x, w, b, s1, y); // the good call works

    rejects(() -> be.conv2d(x, t(be, 4, 2, 3, 3), b, s1, y), "conv2d", "[2, 3, 7, 7]", "[4, 2, 3, 3]");
    rejects(() -> be.conv2d(x, w, b, s2, y), "conv2d", "[2, 4, 4, 4]", "[2, 4, 7, 7]");
    rejects(() -> be.conv2d(t(be, 3, 7, 7), w, b, s1, y), "conv2d", "[3, 7, 7]");
    rejects(() -> be.conv2d(x, w, t(be, 3), s1, y), "conv2d", "bias");
    rejects(() -> be.conv2d(x, t(be, 4, 3, 9, 9), null, ConvSpec.of(1, 0), y), "conv2d", "does not fit");
    rejects(() -> be.conv2dBackward(x, w, y, s1, t(be, 2, 3, 7, 6), null, false, null, false), "conv2dBackward", "dx");
    rejects(() -> be.conv2dBackward(x, w, y, s1, null, t(be, 4, 3, 3, 2), false, null, false), "conv2dBackward",
        "dWeight");
    rejects(() -> be.conv2dBackward(x, w, t(be, 2, 4, 6, 7), s1, null, null, false, b, false), "conv2dBackward",
        "[2, 4, 6, 7]");

    // Transposed: x [2, 4, 4, 4], weight [4, 3, 3, 3], stride 2, padding 1: output 7 + output padding (0 or 1).
    Tensor xt = t(be, 2, 4, 4, 4), wt = t(be, 4, 3, 3, 3);
    be.convTranspose2d(xt, wt, t(be, 3), s2, t(be, 2, 3, 7, 7));
    be.convTranspose2d(xt, wt, null, s2, t(be, 2, 3, 8, 8));
    rejects(() -> be.convTranspose2d(xt, wt, null, s2, t(be, 2, 3, 9, 9)), "convTranspose2d", "output padding",
        "[2, 3, 9, 9]");
    rejects(() -> be.convTranspose2d(xt, wt, null, s2, t(be, 2, 3, 6, 7)), "convTranspose2d", "[2, 3, 6, 7]");
    rejects(() -> be.convTranspose2d(t(be, 2, 3, 4, 4), wt, null, s2, t(be, 2, 3, 7, 7)), "convTranspose2d",
        "channels");
    rejects(() -> be.convTranspose2d(xt, wt, t(be, 4), s2, t(be, 2, 3, 7, 7)), "convTranspose2d", "bias");
    rejects(() -> be.convTranspose2dBackward(xt, wt, t(be, 2, 3, 7, 7), s2, t(be, 2, 4, 4, 5), null, false, null,
        false), "convTranspose2dBackward", "dx");

    // Graph ops name themselves before any shape arithmetic.
    try (Graph g = new Graph(be)) {
      rejects(() -> g.conv2d(g.constant(t(be, 3, 7, 7)), g.constant(w), null, s1), "conv2d", "[3, 7, 7]");
      rejects(() -> g.convTranspose2d(g.constant(xt), g.constant(t(be, 4, 3, 3)), null, s2, 0, 0), "convTranspose2d");
      rejects(() -> g.reshape(g.constant(x), 5, -1), "reshape");
    }
    assertThrows(IllegalArgumentException.class, () -> ConvSpec.of(0, 1));
    assertThrows(IllegalArgumentException.class, () -> new ConvTranspose2d(be, 2, 2, 3, 2, 1, 2, true, 1));
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "reference"})
  void batchNormAndDropoutArguments(String name) {
    Backend be = name.equals("cpu") ? CPU : REF;
    Tensor x = t(be, 2, 3, 4, 4), y = t(be, 2, 3, 4, 4), c3 = t(be, 3), c3b = t(be, 3), c2 = t(be, 2);
    be.batchNorm2d(x, c3, c3b, null, null, true, 0.1f, 1e-5f, y, null, null);

    rejects(() -> be.batchNorm2d(x, c2, c3b, null, null, true, 0.1f, 1e-5f, y, null, null), "batchNorm2d", "gamma",
        "[3]");
    rejects(() -> be.batchNorm2d(x, c3, null, null, null, true, 0.1f, 1e-5f, y, null, null), "batchNorm2d", "both");
    rejects(() -> be.batchNorm2d(x, null, null, null, null, false, 0.1f, 1e-5f, y, null, null), "batchNorm2d",
        "running");
    rejects(() -> be.batchNorm2d(x, null, null, c3, c3b, true, 0.1f, 0f, y, null, null), "batchNorm2d", "eps");
    rejects(() -> be.batchNorm2d(x, null, null, c3, c3b, true, 1.5f, 1e-5f, y, null, null), "batchNorm2d", "momentum");
    rejects(() -> be.batchNorm2d(x, null, null, null, null, true, 0.1f, 1e-5f, t(be, 2, 3, 4, 5), null, null),
        "batchNorm2d", "[2, 3, 4, 5]");
    Tensor single = t(be, 1, 3, 1, 1);
    rejects(() -> be.batchNorm2d(single, null, null, null, null, true, 0.1f, 1e-5f, single, null, null), "batchNorm2d",
        "more than one value");
    rejects(() -> be.batchNorm2dBackward(x, y, null, c3, c2, true, x, null, false, null, false), "batchNorm2dBackward",
        "saveInvstd");
    rejects(() -> be.batchNorm2dBackward(x, t(be, 2, 3, 4, 5), null, c3, c3b, true, null, null, false, null, false),
        "batchNorm2dBackward");

    rejects(() -> be.dropout(x, 1.5f, 1, y), "dropout", "1.5");
    rejects(() -> be.dropout(x, 0.5f, 1, t(be, 2, 3)), "dropout", "[2, 3]");
    rejects(() -> be.dropoutBackward(x, Float.NaN, 1, y), "dropoutBackward");
    rejects(() -> be.channelSums(x, c2, false), "channelSums");
  }
}
