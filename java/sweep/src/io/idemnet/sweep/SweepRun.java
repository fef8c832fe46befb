package io.idemnet.sweep;

import io.idemnet.experiments.CompareConfig;
import io.idemnet.experiments.CompareConfig.DataSpec;
import io.idemnet.experiments.CompareExperiment;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * One task of a sweep: the paired MB/OB run at learning-rate index {@code lrIndex}, run
 * {@code run} of a group, computed by {@link CompareExperiment#runPair}.
 */
public record SweepRun(SweepGroup group, int lrIndex, int run) implements Serializable {
  private static final long serialVersionUID = 1L;

  public SweepRun {
    java.util.Objects.checkIndex(lrIndex, group.learningRates().length);
    java.util.Objects.checkIndex(run, group.runs());
  }

  public float learningRate() {
    return group.learningRates()[lrIndex];
  }

  /**
   * Everything that determines the run's numbers, in a fixed order and spelling: two runs with the
   * same string compute the same result, so a result file is reused only when its string matches.
   * A pair's seeds follow from the master seed and the run index alone (seed + 1000 run, see
   * {@link CompareExperiment}), so neither the learning-rate list nor the run count is part of
   * it; nor are the output folder, the group's name or the trivial-run threshold (applied when
   * the files are written).
   */
  public String canonical() {
    CompareConfig c = group.config();
    StringBuilder dims = new StringBuilder();
    for (int d : c.dims()) dims.append(dims.isEmpty() ? "" : "x").append(d);
    boolean analysis = run == 0 && c.gradients(), paths = run == 0 && c.pca();
    return "idemnet compare pair v2: backend=" + group.backend().trim().toLowerCase(java.util.Locale.ROOT)
        + " dims=" + dims + " slope=" + Float.toString(c.slope()) + " lr=" + Float.toString(learningRate()) + " run=" + run
        + " seed=" + c.seed() + " epochs=" + c.epochs() + " steps=" + c.stepsPerEpoch() + " batch=" + c.batch()
        + " data=" + canonicalData(c.data()) + " probe_rows=" + c.probeRows() + " eval_every=" + c.evalEvery()
        + " gradient_analysis=" + analysis + " parameter_paths=" + paths;
  }

  private static String canonicalData(DataSpec d) {
    return switch (d) {
      case DataSpec.Normal n -> "normal";
      case DataSpec.Uniform u -> "uniform:" + Float.toString(u.k());
      case DataSpec.Fixed f -> "fixed:" + f.rows();
    };
  }

  /**
   * The result file's name: a readable prefix and the first 16 hex digits (64 bits) of the
   * SHA-256 of {@link #canonical()}, e.g. {@code B1-lr0.01-run3-1f2e...}.pair.
   */
  public String fileName() {
    return group.networkLabel() + "-lr" + Float.toString(learningRate()) + "-run" + run + "-"
        + sha256(canonical()).substring(0, 16) + ".pair";
  }

  /** For progress lines and failure reports. */
  public String label() {
    return group.name() + " lr " + Float.toString(learningRate()) + " run " + run;
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
