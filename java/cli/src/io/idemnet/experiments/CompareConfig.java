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
 * @param evalEvery the error (and, for run 0, the gradient analysis and the parameter path) is
 *     recorded at epoch 0, every {@code evalEvery} epochs, and at the last epoch
 * @param gradients for run 0 at every learning rate, record MB/OB gradient cosine similarities
 *     and norms at each recorded epoch (4 extra backward passes each time)
 * @param pca keep run 0's parameter paths (MB and OB) at each recorded epoch, for the PCA
 *     trajectory figure
 * @param pcaGrid grid points per side of the loss surface
 * @param trivialThreshold a trained f whose Jacobian on its own image is below this in Frobenius
 *     norm is reported as trivial (near-constant); see {@link CompareResult.RunResult#imageJacobian}
 */
public record CompareConfig(String network, int[] dims, float slope, List<Float> learningRates, int runs, int epochs,
    int stepsPerEpoch, int batch, DataSpec data, long seed, int probeRows, int evalEvery, boolean gradients, boolean pca,
    int pcaGrid, double trivialThreshold, Path outputDir) {

  /**
   * The default threshold of {@link #trivialThreshold}: below 0.5 the Jacobian is closer to 0 than
   * to any non-zero idempotent matrix (||P||_F >= 1 for those), see docs/results/idempotent.md.
   */
  public static final double DEFAULT_TRIVIAL_THRESHOLD = 0.5;

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
    if (runs < 1 || epochs < 1 || stepsPerEpoch < 1 || batch < 1 || probeRows < 2 || evalEvery < 1) {
      throw new IllegalArgumentException("runs, epochs, steps per epoch, batch and the evaluation interval must be >= 1, "
          + "probe rows >= 2");
    }
    if (!(trivialThreshold >= 0) || !Double.isFinite(trivialThreshold)) {
      throw new IllegalArgumentException("the trivial-solution threshold must be finite and >= 0, got " + trivialThreshold);
    }
    learningRates = List.copyOf(learningRates);
    if (new java.util.HashSet<>(learningRates).size() != learningRates.size()) {
      throw new IllegalArgumentException("learning rates must be distinct, got " + learningRates);
    }
    if (pca && pcaGrid < 2) throw new IllegalArgumentException("the PCA grid needs at least 2 points per side");
  }

  /** The epochs at which the error is recorded: 0, evalEvery, 2 evalEvery, ..., and the last. */
  public int[] recordedEpochs() {
    int n = epochs / evalEvery + 1 + (epochs % evalEvery == 0 ? 0 : 1);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) out[i] = Math.min(i * evalEvery, epochs);
    return out;
  }

  /**
   * The settings that determine a run's numbers (everything but the learning-rate list, the run
   * count and the reporting options), as "name=value" lines: a resumed comparison must match them.
   */
  public String identity() {
    return String.join("\n", "network=" + network, "dims=" + java.util.Arrays.toString(dims), "slope=" + slope,
        "epochs=" + epochs, "steps_per_epoch=" + stepsPerEpoch, "batch=" + batch, "data=" + data, "seed=" + seed,
        "probe_rows=" + probeRows, "eval_every=" + evalEvery, "gradients=" + gradients, "pca=" + pca) + "\n";
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
