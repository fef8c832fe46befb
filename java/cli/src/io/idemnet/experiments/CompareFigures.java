package io.idemnet.experiments;

import io.idemnet.experiments.CompareReport.Cell;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import io.idemnet.plot.Panel;
import io.idemnet.plot.Plots;
import io.idemnet.plot.Series;
import io.idemnet.plot.Style;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The comparison's PNG figures, named after the paper's figures they reproduce. Every curve is
 * drawn from the same runs and rules as the CSVs of {@link CompareReport}: means and medians over
 * improved runs (the paper's rule) and over kept runs (trivial ones excluded).
 */
public final class CompareFigures {
  /** At most this many learning rates get a line (Figure 7) or a panel (Figures 4-5). */
  static final int MAX_SHOWN_RATES = 6;

  /** Errors of exactly 0 (a constant map whose constant is a fixed point) are drawn at this value. */
  static final double ERROR_FLOOR = 1e-25;

  /** Jacobians of exactly 0 are drawn at this value. */
  static final double JACOBIAN_FLOOR = 1e-12;

  private CompareFigures() {}

  /** log10 of v, with v below the floor (0 included) drawn at the floor; NaN stays NaN. */
  static double log10(double v, double floor) {
    return Double.isNaN(v) ? v : Math.log10(Math.max(v, floor));
  }

  /** Writes every figure the runs have data for; returns their paths. */
  public static List<Path> write(Path dir, String net, List<RunResult> runs, double threshold, Trajectory trajectory) {
    List<Path> written = new ArrayList<>();
    if (runs.isEmpty()) return written;
    Map<String, Map<Float, Cell>> cells = CompareReport.cells(runs, threshold);
    Map<String, Cell> best = CompareReport.best(cells, CompareReport.Rule.PAPER);

    // Figure 6: final error against learning rate, by the paper's rule and without trivial runs.
    List<Series> paper = new ArrayList<>(), kept = new ArrayList<>();
    cells.forEach((alg, m) -> {
      double[] x = m.keySet().stream().mapToDouble(Float::doubleValue).toArray();
      paper.add(new Series(alg + " mean", x, m.values().stream().mapToDouble(Cell::meanImproved).toArray(), Style.MARKERS));
      paper.add(new Series(alg + " median", x, m.values().stream().mapToDouble(Cell::medianImproved).toArray(), Style.DASHED));
      kept.add(new Series(alg + " mean", x, m.values().stream().mapToDouble(Cell::meanKept).toArray(), Style.MARKERS));
      kept.add(new Series(alg + " median", x, m.values().stream().mapToDouble(Cell::medianKept).toArray(), Style.DASHED));
    });
    written.add(save(dir, "fig6_error_vs_lr.png", p -> Plots.grid(p, net + ": idempotent error after training", 2,
        List.of(new Panel("improved runs (the paper's rule)", "learning rate", "idempotent error", true, paper),
            new Panel("improved, trivial runs excluded", "learning rate", "idempotent error", true, kept)))));

    List<Float> shown = shownRates(cells, best);

    // Figure 7: mean error over improved runs (the paper's rule) against epoch, one panel per
    // algorithm, one line per learning rate.
    List<Panel> curvePanels = new ArrayList<>();
    for (String alg : List.of("MB", "OB")) {
      List<Series> lines = new ArrayList<>();
      for (float lr : shown) {
        List<RunResult> group = select(runs, r -> r.algorithm().equals(alg) && r.learningRate() == lr && !r.discarded());
        if (!group.isEmpty()) lines.add(meanSeries("lr " + lr, group, RunResult::error, Style.SOLID));
      }
      if (!lines.isEmpty()) curvePanels.add(new Panel(alg, "epoch", "idempotent error", true, lines));
    }
    if (!curvePanels.isEmpty()) {
      written.add(save(dir, "fig7_error_vs_epoch.png",
          p -> Plots.grid(p, net + ": error, mean over improved runs", 2, curvePanels)));
    }

    // Figures 4-5: run 0's gradient analysis, one panel per shown learning rate.
    List<Panel> cosPanels = new ArrayList<>(), normPanels = new ArrayList<>();
    for (float lr : shown) {
      RunResult mb = find(runs, "MB", lr, 0), ob = find(runs, "OB", lr, 0);
      if (mb == null || ob == null || !hasValues(mb.cosAlong())) continue;
      cosPanels.add(new Panel("lr " + lr, "epoch", "|cos(MB, OB)|", false,
          List.of(series("along MB", mb.epochs(), mb.cosAlong(), Style.SOLID),
              series("along OB", ob.epochs(), ob.cosAlong(), Style.DASHED),
              series("separate", mb.epochs(), mb.cosSeparate(), Style.MARKERS))));
      normPanels.add(new Panel("lr " + lr, "epoch", "gradient norm", true,
          List.of(series("MB", mb.epochs(), mb.gradNormMb(), Style.SOLID),
              series("OB", ob.epochs(), ob.gradNormOb(), Style.DASHED))));
    }
    int columns = Math.min(3, Math.max(1, cosPanels.size()));
    if (!cosPanels.isEmpty()) {
      written.add(save(dir, "fig4_gradient_cosine.png",
          p -> Plots.grid(p, net + ": |cos(MB, OB gradient)|, run 0", columns, cosPanels)));
      written.add(save(dir, "fig5_gradient_norm.png",
          p -> Plots.grid(p, net + ": gradient norms, run 0", columns, normPanels)));
    }

    // Figure 3: PCA trajectories over the loss surface.
    if (trajectory != null) {
      Trajectory t = trajectory;
      List<Series> paths = List.of(path("MB (lr " + t.learningRateMb() + ")", t.mb(), Style.SOLID),
          path("OB (lr " + t.learningRateOb() + ")", t.ob(), Style.DASHED));
      written.add(save(dir, "fig3_pca.png", p -> Plots.surfaceWithPaths(p, String.format(Locale.ROOT,
          "%s: run 0 on PC1-PC2 (%.1f %% of the variance), error surface", net, 100 * t.explainedVariance()),
          "PC1", "PC2", t.gridX(), t.gridY(), t.surface(), true, paths)));
    }

    // Figures 12-13 at each algorithm's best learning rate by the paper's rule; trivial runs as their own groups.
    Map<String, double[]> errors = new LinkedHashMap<>(), norms = new LinkedHashMap<>();
    for (String alg : List.of("MB", "OB")) {
      Cell c = best.get(alg);
      if (c == null) continue;
      float lr = c.learningRate();
      List<RunResult> atBest = select(runs, r -> r.algorithm().equals(alg) && r.learningRate() == lr);
      List<RunResult> nontrivial = select(atBest, r -> !r.trivial(threshold)), trivial = select(atBest, r -> r.trivial(threshold));
      String label = alg + " (lr " + lr + ")";
      errors.put(label, nontrivial.stream().mapToDouble(r -> log10(r.finalError(), ERROR_FLOOR)).toArray());
      norms.put(label, nontrivial.stream().mapToDouble(RunResult::fIdentityFrobenius).toArray());
      if (!trivial.isEmpty()) {
        errors.put("trivial " + alg, trivial.stream().mapToDouble(r -> log10(r.finalError(), ERROR_FLOOR)).toArray());
        norms.put("trivial " + alg, trivial.stream().mapToDouble(RunResult::fIdentityFrobenius).toArray());
      }
    }
    int perGroup = errors.values().stream().mapToInt(v -> v.length).max().orElse(0);
    int bins = Math.max(5, Math.min(40, perGroup / 3));
    if (!errors.isEmpty()) {
      written.add(save(dir, "fig12_error_distribution.png", p -> Plots.histogram(p,
          net + ": final error, every run at the best rate",
          "log10 idempotent error (0 drawn at " + (int) Math.log10(ERROR_FLOOR) + ")",
          bins, errors)));
      written.add(save(dir, "fig13_f_identity_norm.png", p -> Plots.histogram(p,
          net + ": ||f(I)||_F, every run at the best rate", "||f(I)||_F", bins, norms)));
    }
    Map<String, double[]> jacobian = new LinkedHashMap<>();
    for (String alg : List.of("MB", "OB")) {
      jacobian.put(alg, select(runs, r -> r.algorithm().equals(alg)).stream()
          .mapToDouble(r -> log10(r.imageJacobian(), JACOBIAN_FLOOR)).toArray());
    }
    written.add(save(dir, "fig13_trivial_criterion.png", p -> Plots.histogram(p, String.format(Locale.ROOT,
        "%s: ||J_f||_F on f's image (trivial below %s)", net, Double.toString(threshold)),
        "log10 ||J_f(f(x))||_F (0 drawn at " + (int) Math.log10(JACOBIAN_FLOOR) + ")",
        Math.max(5, Math.min(40, runs.size() / 6)), jacobian)));

    // Figure 14: seconds per epoch per run.
    Map<String, double[]> secs = new LinkedHashMap<>();
    for (String alg : List.of("MB", "OB")) {
      secs.put(alg, select(runs, r -> r.algorithm().equals(alg)).stream().mapToDouble(RunResult::secondsPerEpoch).toArray());
    }
    written.add(save(dir, "fig14_time_per_epoch.png",
        p -> Plots.bars(p, net + ": seconds per epoch (mean, min-max)", "seconds", secs)));
    return written;
  }

  /**
   * Up to {@link #MAX_SHOWN_RATES} learning rates: both algorithms' best, then evenly spaced ones
   * from the whole grid, sorted.
   */
  static List<Float> shownRates(Map<String, Map<Float, Cell>> cells, Map<String, Cell> best) {
    TreeSet<Float> all = new TreeSet<>();
    cells.values().forEach(m -> all.addAll(m.keySet()));
    TreeSet<Float> shown = new TreeSet<>();
    best.values().forEach(c -> {
      if (c != null) shown.add(c.learningRate());
    });
    List<Float> grid = new ArrayList<>(all);
    int slots = MAX_SHOWN_RATES - shown.size();
    if (grid.size() <= MAX_SHOWN_RATES) {
      shown.addAll(grid);
    } else {
      for (int i = 0; i < slots; i++) shown.add(grid.get(Math.round((float) i * (grid.size() - 1) / Math.max(1, slots - 1))));
    }
    return new ArrayList<>(shown);
  }

  private interface Render {
    void to(Path png) throws Exception;
  }

  private static Path save(Path dir, String name, Render render) {
    Path png = dir.resolve(name);
    try {
      render.to(png);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new java.io.UncheckedIOException(new java.io.IOException("cannot write " + png + ": " + e.getMessage(), e));
    }
    return png;
  }

  private static List<RunResult> select(List<RunResult> runs, Predicate<RunResult> keep) {
    return runs.stream().filter(keep).toList();
  }

  private static RunResult find(List<RunResult> runs, String alg, float lr, int run) {
    for (RunResult r : runs) {
      if (r.algorithm().equals(alg) && r.learningRate() == lr && r.run() == run) return r;
    }
    return null;
  }

  private static boolean hasValues(double[] v) {
    for (double x : v) if (!Double.isNaN(x)) return true;
    return false;
  }

  /** Per recorded epoch, the mean over runs of one per-epoch metric. */
  private static Series meanSeries(String name, List<RunResult> runs, Function<RunResult, double[]> metric, Style style) {
    int[] epochs = runs.get(0).epochs();
    double[] x = new double[epochs.length], y = new double[epochs.length];
    for (int e = 0; e < epochs.length; e++) {
      final int at = e;
      x[e] = epochs[e];
      y[e] = CompareReport.mean(runs.stream().mapToDouble(r -> metric.apply(r)[at]).toArray());
    }
    return new Series(name, x, y, style);
  }

  /** One run's metric at its recorded epochs where it was recorded. */
  private static Series series(String name, int[] epochs, double[] v, Style style) {
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < epochs.length; i++) if (!Double.isNaN(v[i])) pts.add(new double[] {epochs[i], v[i]});
    return new Series(name, pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray(),
        style);
  }

  private static Series path(String name, double[][] xy, Style style) {
    double[] x = new double[xy.length], y = new double[xy.length];
    for (int i = 0; i < xy.length; i++) {
      x[i] = xy[i][0];
      y[i] = xy[i].length > 1 ? xy[i][1] : 0;
    }
    return new Series(name, x, y, style);
  }
}
