package io.idemnet.sweep;

import io.idemnet.experiments.CompareConfig;
import io.idemnet.experiments.CompareConfig.DataSpec;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One comparison of a sweep: what one {@code idemnet compare} command runs (a network, its data,
 * seed, epochs and steps, every learning rate, every run), with the folder its files go to.
 * Serializable, because Spark sends it to the executors inside each {@link SweepRun}; the
 * executor rebuilds the {@link CompareConfig} from it.
 *
 * @param name the group's name in progress lines and, when a sweep has several groups, its folder
 * @param network B1..B4, or "custom" for explicit dims
 * @param data the command-line form, {@link DataSpec#parse}
 * @param backend auto, cpu, reference or cuda, resolved on the executor
 */
public record SweepGroup(String name, String network, int[] dims, float slope, float[] learningRates, int runs,
    int epochs, int steps, int batch, String data, long seed, int probeRows, int evalEvery, boolean gradients, boolean pca,
    int pcaGrid, double trivialThreshold, String backend, String outputDir) implements Serializable {
  private static final long serialVersionUID = 1L;

  public SweepGroup {
    dims = dims.clone();
    learningRates = learningRates.clone();
  }

  /**
   * The comparison's configuration, as {@code compare} would build it.
   *
   * @throws IllegalArgumentException for settings {@code compare} would refuse
   */
  public CompareConfig config() {
    List<Float> lrs = new ArrayList<>();
    for (float lr : learningRates) lrs.add(lr);
    return new CompareConfig(network, dims, slope, lrs, runs, epochs, steps, batch, DataSpec.parse(data), seed, probeRows,
        evalEvery, gradients, pca, pcaGrid, trivialThreshold, Path.of(outputDir));
  }

  /** Its paired runs, in {@code compare}'s order: by learning rate, then run. */
  public List<SweepRun> pairs() {
    List<SweepRun> out = new ArrayList<>();
    for (int l = 0; l < learningRates.length; l++) {
      for (int r = 0; r < runs; r++) out.add(new SweepRun(this, l, r));
    }
    return out;
  }

  /** The network in file names: B1..B4, or the dims joined by 'x' (e.g. 16x64x16). */
  String networkLabel() {
    if (!network.equals("custom")) return network;
    StringBuilder sb = new StringBuilder();
    for (int d : dims) sb.append(sb.isEmpty() ? "" : "x").append(d);
    return sb.toString();
  }
}
