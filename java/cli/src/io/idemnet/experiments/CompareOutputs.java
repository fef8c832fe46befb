package io.idemnet.experiments;

import io.idemnet.backend.Backend;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The end of a comparison, shared by {@code compare} and {@code idemnet sweep}: from the pairs of
 * runs in a comparison's folder, the trajectory (when asked for and every pair is there), the
 * aggregate CSVs and the figures. {@link #writeAll} also writes the folder's runs.csv and
 * final.csv from a set of pairs computed elsewhere (a sweep's tasks), through the same
 * {@link CompareReport} that {@code compare} appends to as pairs finish: given the same pairs, the
 * files are {@code compare}'s, line for line.
 */
public final class CompareOutputs {
  private CompareOutputs() {}

  /** What {@link #finish} wrote: every run aggregated, the trajectory (or null), the figures, the printed table. */
  public record Written(List<RunResult> runs, Trajectory trajectory, List<Path> figures, String table) {}

  /** Where run 0's parameter paths are kept until the PCA figure is drawn. */
  public static Path pathsDir(CompareConfig config) {
    return config.outputDir().resolve("paths");
  }

  /**
   * Aggregates every complete pair in the report's folder (read back from its CSVs, so that the
   * summaries follow from final.csv exactly), computes the trajectory unless {@code incomplete} or
   * PCA is off, and writes the aggregate CSVs and the figures.
   */
  public static Written finish(Backend backend, CompareConfig config, CompareReport report, boolean incomplete) {
    double threshold = config.trivialThreshold();
    List<RunResult> all = report.reload();
    Trajectory trajectory = null;
    if (!incomplete && config.pca()) {
      var best = CompareReport.best(CompareReport.cells(all, threshold), CompareReport.Rule.PAPER);
      if (best.get("MB") != null && best.get("OB") != null) {
        trajectory = CompareTrajectory.compute(backend, config, pathsDir(config), best.get("MB").learningRate(),
            best.get("OB").learningRate());
      }
    }
    report.finish(all, threshold, trajectory);
    List<Path> figures = CompareFigures.write(config.outputDir(), config.network(), all, threshold, trajectory);
    return new Written(all, trajectory, figures, CompareReport.table(all, threshold));
  }

  /**
   * Writes the comparison's folder anew from these pairs (each {MB, OB}, in {@code compare}'s
   * order: by learning rate, then run), replacing the runs.csv, final.csv and settings.txt of an
   * earlier write, then {@link #finish}es it. Run 0's parameter paths must already be under
   * {@link #pathsDir} for the trajectory. {@code incomplete}: some of the configuration's pairs
   * are missing (then no trajectory, as after an interrupted {@code compare}).
   */
  public static Written writeAll(Backend backend, CompareConfig config, List<RunResult[]> pairs, boolean incomplete) {
    try {
      for (String f : List.of("final.csv", "runs.csv", "settings.txt")) Files.deleteIfExists(config.outputDir().resolve(f));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot replace the results in " + config.outputDir() + ": " + e.getMessage(), e);
    }
    CompareReport report = CompareReport.open(config.outputDir(), config, false);
    for (RunResult[] p : pairs) report.append(p[0], p[1]);
    return finish(backend, config, report, incomplete);
  }
}
