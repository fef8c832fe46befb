package io.idemnet.experiments;

import io.idemnet.experiments.CompareExperiment.Paired;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Compare's output files written at once from a set of finished pairs, for runs that were
 * computed elsewhere (a sweep's tasks) rather than streamed in by {@link CompareExperiment#run}.
 * Given the pairs in {@code compare}'s order (learning-rate index, then run), the files are those
 * {@code compare} writes, line for line.
 */
public final class CompareOutputs {
  private CompareOutputs() {}

  /**
   * The result of a comparison made of these pairs, in the order given (for {@code compare}'s order:
   * by learning-rate index, then run). {@code incomplete}: some of the configuration's runs are
   * missing; summary.json says {@code "interrupted": true}, as after an interrupted {@code compare}.
   */
  public static CompareResult merge(CompareConfig config, List<Paired> pairs, boolean incomplete) {
    List<RunResult> runs = new ArrayList<>();
    List<Trajectory> trajectories = new ArrayList<>();
    for (Paired p : pairs) {
      runs.add(p.mb());
      runs.add(p.ob());
      if (p.trajectory() != null) trajectories.add(p.trajectory());
    }
    return new CompareResult(config, runs, trajectories, incomplete);
  }

  /**
   * Writes runs.csv, final.csv, summary.json, the trajectory and surface CSVs and the figures into
   * the configuration's output folder (replacing earlier ones); returns the figures' paths.
   */
  public static List<Path> write(CompareResult result) {
    CompareReport report = new CompareReport(result.config().outputDir());
    report.append(result.runs().toArray(RunResult[]::new));
    report.finish(result);
    return CompareFigures.write(result.config().outputDir(), result);
  }
}
