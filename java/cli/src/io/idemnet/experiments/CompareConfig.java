package io.idemnet.experiments;

import java.nio.file.Path;
import java.util.List;

/**
 * Settings of an MB-vs-OB comparison (Section 3 of Jensen & Vicary): one network, both
 * algorithms, each learning rate, {@code runs} runs with paired initialisations.
 *
 * @param network name shown in outputs (B1..B4 or "custom")
 * @param dims layer sizes; Linear + bias + LeakyReLU(slope) after every layer
 * @param epochs epochs per run; an epoch is {@code stepsPerEpoch} SGD steps
 * @param data where batches come from
 * @param probeRows rows of the held-out N(0,1) batch on which the idempotent error is measured
 * @param gradients record MB/OB gradient cosine similarities and norms every epoch (costs 4 extra backward passes)
 * @param pca record parameter trajectories of run 0 and draw them with the loss surface
 * @param pcaGrid grid points per side of the loss surface
 */
public record CompareConfig(String network, int[] dims, float slope, List<Float> learningRates, int runs, int epochs,
    int stepsPerEpoch, int batch, DataSpec data, long seed, int probeRows, boolean gradients, boolean pca, int pcaGrid,
    Path outputDir) {

  public CompareConfig {
    if (dims.length < 2 || dims[0] != dims[dims.length - 1]) {
      throw new IllegalArgumentException("an idempotent network maps R^n to R^n: first and last sizes must agree, got "
          + java.util.Arrays.toString(dims));
    }
    for (int d : dims) if (d <= 0) throw new IllegalArgumentException("layer sizes must be positive");
    if (learningRates.isEmpty()) throw new IllegalArgumentException("need at least one learning rate");
    for (float lr : learningRates) {
      if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("learning rates must be positive, got " + lr);
    }
    if (runs < 1 || epochs < 1 || stepsPerEpoch < 1 || batch < 1 || probeRows < 1) {
      throw new IllegalArgumentException("runs, epochs, steps per epoch, batch and probe rows must be >= 1");
    }
    if (pca && pcaGrid < 2) throw new IllegalArgumentException("the PCA grid needs at least 2 points per side");
  }

  /** The paper's networks. */
  public static int[] networkDims(String name) {
    return switch (name.toUpperCase(java.util.Locale.ROOT)) {
      case "B1" -> new int[] {5, 5};
      case "B2" -> new int[] {128, 256, 256, 256, 256, 128};
      case "B3" -> new int[] {4096, 1024, 4096};
      case "B4" -> new int[] {784, 1024, 2048, 784};
      default -> throw new IllegalArgumentException("unknown network '" + name + "'; expected B1, B2, B3 or B4 (or --dims)");
    };
  }

  /** Whether {@code --pca auto} draws the PCA figure: for networks up to 1M parameters (weights and biases). */
  public static boolean pcaByDefault(int[] dims) {
    long params = 0;
    for (int i = 0; i + 1 < dims.length; i++) params += (long) dims[i] * dims[i + 1] + dims[i + 1];
    return params <= 1_000_000;
  }

  /** Where training batches come from. */
  public sealed interface DataSpec {
    /**
     * Parses the command-line form: {@code normal}, {@code uniform:K} or {@code fixed:ROWS}.
     *
     * @throws IllegalArgumentException for anything else
     */
    static DataSpec parse(String spec) {
      String s = spec.trim().toLowerCase(java.util.Locale.ROOT);
      try {
        if (s.equals("normal")) return new Normal();
        if (s.startsWith("uniform:")) return new Uniform(Float.parseFloat(s.substring(8)));
        if (s.startsWith("fixed:")) return new Fixed(Integer.parseInt(s.substring(6)));
      } catch (NumberFormatException e) {
        // fall through to the usage error
      }
      throw new IllegalArgumentException("data must be normal, uniform:K or fixed:ROWS, got '" + spec + "'");
    }

    /** N(0,1), drawn afresh every epoch (the paper's default). */
    record Normal() implements DataSpec {}

    /** U(-k, k), drawn afresh every epoch. */
    record Uniform(float k) implements DataSpec {
      public Uniform {
        if (!(k > 0)) throw new IllegalArgumentException("uniform data needs k > 0");
      }
    }

    /** One N(0,1) dataset of {@code rows} rows drawn once per run and reused every epoch. */
    record Fixed(int rows) implements DataSpec {
      public Fixed {
        if (rows < 1) throw new IllegalArgumentException("a fixed dataset needs at least one row");
      }
    }
  }
}
