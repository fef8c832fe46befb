package io.idemnet.cli;

import io.idemnet.experiments.CompareConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The settings of an MB-vs-OB comparison as options (a picocli mixin): one definition for
 * {@code idemnet compare} and {@code idemnet sweep}. The grid axes (networks, data, seeds, epochs,
 * steps) take several values; {@code sweep} runs one comparison per combination, {@code compare}
 * takes one value of each ({@link #one}).
 */
public final class CompareOptions {
  @Option(names = "--net", split = ",", paramLabel = "NET",
      description = "networks: B1, B2, B3 or B4 (default: B2 unless --dims is given)")
  List<String> nets;

  @Option(names = "--dims", paramLabel = "SIZES",
      description = "a custom network's layer sizes, e.g. 16,64,16; repeat for several")
  List<String> dims;

  @Option(names = "--lr", split = ",", paramLabel = "LR", description = "learning rates (default: ${DEFAULT-VALUE})",
      defaultValue = "0.001,0.01,0.1")
  List<Float> learningRates;

  @Option(names = "--runs", description = "runs per learning rate (default: ${DEFAULT-VALUE})", defaultValue = "3")
  int runs;

  @Option(names = "--epochs", split = ",", description = "epochs per run (default: ${DEFAULT-VALUE})", defaultValue = "10")
  List<Integer> epochs;

  @Option(names = "--steps", split = ",", description = "SGD steps per epoch, each on a fresh batch "
      + "(default: ${DEFAULT-VALUE})", defaultValue = "1")
  List<Integer> steps;

  @Option(names = "--eval-every", description = "record the error (and run 0's gradients and parameters) every N epochs, "
      + "and at the last (default: ${DEFAULT-VALUE})", defaultValue = "1")
  int evalEvery;

  @Option(names = "--trivial-threshold", description = "a trained f whose Jacobian at the points of its own image has "
      + "an RMS Frobenius norm below this is reported as trivial (near-constant); below 0.5 it is closer to 0 than to any "
      + "non-zero idempotent (default: ${DEFAULT-VALUE})", defaultValue = "0.5")
  double trivialThreshold;

  @Option(names = "--batch", description = "batch size (default: ${DEFAULT-VALUE})", defaultValue = "1000")
  int batch;

  @Option(names = "--data", split = ",", description = "normal (fresh N(0,1) each epoch), uniform:K (U(-K,K)), fixed:ROWS "
      + "(one N(0,1) dataset per run) (default: ${DEFAULT-VALUE})", defaultValue = "normal")
  List<String> data;

  @Option(names = "--seed", split = ",", description = "master seeds (default: ${DEFAULT-VALUE})", defaultValue = "1")
  List<Long> seeds;

  @Option(names = "--slope", description = "LeakyReLU slope (default: ${DEFAULT-VALUE})", defaultValue = "0.2")
  float slope;

  @Option(names = "--probe", description = "rows of the held-out batch for the error (default: ${DEFAULT-VALUE})",
      defaultValue = "1000")
  int probe;

  @Option(names = "--no-gradients", negatable = false, description = "skip the MB/OB gradient analysis (run 0)")
  boolean noGradients;

  @Option(names = "--pca", description = "keep run 0's parameter paths for the PCA trajectory figure: auto (networks up "
      + "to 1M parameters), on, off (default: ${DEFAULT-VALUE})", defaultValue = "auto")
  String pca;

  @Option(names = "--pca-grid", description = "loss-surface grid points per side (default: ${DEFAULT-VALUE})",
      defaultValue = "15")
  int pcaGrid;

  /**
   * The networks asked for, in order: B1..B4 by their names, then each {@code --dims} under its
   * sizes joined by 'x'; B2 when neither option is given. Bad values are usage errors of {@code cl}.
   */
  public Map<String, int[]> networks(CommandLine cl) {
    Map<String, int[]> networks = new LinkedHashMap<>();
    List<String> names = nets == null && dims == null ? List.of("B2") : nets;
    try {
      if (names != null) {
        for (String n : names) networks.put(n.trim().toUpperCase(Locale.ROOT), CompareConfig.networkDims(n.trim()));
      }
      if (dims != null) {
        for (String d : dims) {
          String[] parts = d.split(",");
          int[] sizes = new int[parts.length];
          for (int i = 0; i < parts.length; i++) sizes[i] = Integer.parseInt(parts[i].trim());
          StringBuilder label = new StringBuilder();
          for (int size : sizes) label.append(label.isEmpty() ? "" : "x").append(size);
          networks.put(label.toString(), sizes);
        }
      }
    } catch (NumberFormatException e) {
      throw new ParameterException(cl, "--dims must be comma-separated integers: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, e.getMessage());
    }
    return networks;
  }

  /** The network's name in a comparison's settings: B1..B4, else "custom". */
  public static String networkName(String key) {
    return key.matches("B[1-4]") ? key : "custom";
  }

  /** Whether run 0's parameter paths are kept for a network of these sizes ({@code --pca}). */
  public boolean pca(CommandLine cl, int[] sizes) {
    return switch (pca.toLowerCase(Locale.ROOT)) {
      case "on" -> true;
      case "off" -> false;
      case "auto" -> CompareConfig.pcaByDefault(sizes);
      default -> throw new ParameterException(cl, "--pca must be auto, on or off, got '" + pca + "'");
    };
  }

  /**
   * The one value of a grid axis, for a command that runs one comparison.
   *
   * @throws ParameterException when the option has several values
   */
  public static <T> T one(CommandLine cl, String option, List<T> values) {
    if (values.size() != 1) {
      throw new ParameterException(cl, option + " takes one value here, got " + values.size()
          + " (idemnet sweep runs grids of comparisons)");
    }
    return values.get(0);
  }

  /** {@code --lr}. */
  public List<Float> learningRates() {
    return learningRates;
  }

  /** {@code --runs}. */
  public int runs() {
    return runs;
  }

  /** {@code --epochs}: one comparison per value. */
  public List<Integer> epochs() {
    return epochs;
  }

  /** {@code --steps}: one comparison per value. */
  public List<Integer> steps() {
    return steps;
  }

  /** {@code --eval-every}. */
  public int evalEvery() {
    return evalEvery;
  }

  /** {@code --trivial-threshold}. */
  public double trivialThreshold() {
    return trivialThreshold;
  }

  /** {@code --batch}. */
  public int batch() {
    return batch;
  }

  /** {@code --data}, unparsed ({@link CompareConfig.DataSpec#parse}): one comparison per value. */
  public List<String> data() {
    return data;
  }

  /** {@code --seed}: one comparison per value. */
  public List<Long> seeds() {
    return seeds;
  }

  /** {@code --slope}. */
  public float slope() {
    return slope;
  }

  /** {@code --probe}. */
  public int probe() {
    return probe;
  }

  /** Not {@code --no-gradients}. */
  public boolean gradients() {
    return !noGradients;
  }

  /** {@code --pca-grid}. */
  public int pcaGrid() {
    return pcaGrid;
  }
}
