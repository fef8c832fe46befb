package io.idemnet.experiments;

import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import io.idemnet.plot.ErrorSeries;
import io.idemnet.plot.Panel;
import io.idemnet.plot.Plots;
import io.idemnet.plot.Series;
import io.idemnet.plot.Style;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/** The comparison's PNG figures, named after the paper's figures they reproduce. */
public final class CompareFigures {
  private CompareFigures() {}

  /** Writes every figure the result has data for; returns their paths. */
  public static List<Path> write(Path dir, CompareResult result) {
    List<Path> written = new ArrayList<>();
    List<RunResult> runs = result.runs();
    if (runs.isEmpty()) return written;
    String net = result.config().network();
    Map<String, Map<Float, CompareReport.Cell>> cells = CompareReport.cells(runs);

    // Figure 6: final error against learning rate (median of kept runs, band min..max).
    List<ErrorSeries> byLr = new ArrayList<>();
    cells.forEach((alg, m) -> {
      double[] x = m.keySet().stream().mapToDouble(Float::doubleValue).toArray();
      double[] y = m.values().stream().mapToDouble(CompareReport.Cell::median).toArray();
      double[] lo = m.values().stream().mapToDouble(CompareReport.Cell::min).toArray();
      double[] hi = m.values().stream().mapToDouble(CompareReport.Cell::max).toArray();
      byLr.add(new ErrorSeries(alg, x, y, lo, hi, Style.MARKERS));
    });
    written.add(save(dir, "fig6_error_vs_lr.png", p -> Plots.linesWithBands(p, net + ": idempotent error after training",
        "learning rate", "idempotent error", true, true, byLr, "shaded: min to max over the kept runs")));

    Map<Float, List<RunResult>> perLr = new TreeMap<>();
    for (RunResult r : runs) perLr.computeIfAbsent(r.learningRate(), k -> new ArrayList<>()).add(r);
    int columns = Math.min(3, perLr.size());

    // Figure 7: error against epoch, one panel per learning rate: the median over runs, shaded from
    // the smallest to the largest run.
    List<Panel> errorPanels = new ArrayList<>();
    perLr.forEach((lr, list) -> errorPanels.add(new Panel("lr " + lr, "epoch", "idempotent error", true,
        List.of(medianSeries("MB", only("MB", list), RunResult::errorPerEpoch, Style.SOLID),
            medianSeries("OB", only("OB", list), RunResult::errorPerEpoch, Style.DASHED)),
        List.of(rangeBand("MB", only("MB", list), RunResult::errorPerEpoch),
            rangeBand("OB", only("OB", list), RunResult::errorPerEpoch)))));
    written.add(save(dir, "fig7_error_vs_epoch.png",
        p -> Plots.grid(p, net + ": idempotent error during training (median over runs)", columns, errorPanels,
            "shaded: min to max over runs")));

    if (result.config().gradients()) {
      // Figures 4-5: |cos| between the MB and OB gradients, and their norms.
      List<Panel> cosPanels = new ArrayList<>(), normPanels = new ArrayList<>();
      perLr.forEach((lr, list) -> {
        List<RunResult> mb = only("MB", list), ob = only("OB", list);
        cosPanels.add(new Panel("lr " + lr, "epoch", "|cos(MB, OB)|", false,
            List.of(medianSeries("along MB", mb, RunResult::cosAlong, Style.SOLID),
                medianSeries("along OB", ob, RunResult::cosAlong, Style.DASHED),
                medianSeries("separate", mb, RunResult::cosSeparate, Style.MARKERS))));
        normPanels.add(new Panel("lr " + lr, "epoch", "gradient norm", true,
            List.of(medianSeries("MB", mb, RunResult::gradNormMb, Style.SOLID),
                medianSeries("OB", ob, RunResult::gradNormOb, Style.DASHED))));
      });
      written.add(save(dir, "fig4_gradient_cosine.png",
          p -> Plots.grid(p, net + ": |cosine| between MB and OB gradients (median over runs)", columns, cosPanels)));
      written.add(save(dir, "fig5_gradient_norm.png",
          p -> Plots.grid(p, net + ": gradient norm, each algorithm on its own trajectory", columns, normPanels)));
    }

    // Figure 3: PCA trajectories over the loss surface.
    for (Trajectory t : result.trajectories()) {
      List<Series> paths = List.of(path("MB", t.mb(), Style.SOLID), path("OB", t.ob(), Style.DASHED));
      String name = "fig3_pca_lr" + Float.toString(t.learningRate()) + ".png";
      written.add(save(dir, name, p -> Plots.surfaceWithPaths(p, String.format(java.util.Locale.ROOT,
          "%s, lr %s: trajectories on PC1-PC2 over the idempotent error", net,
          Float.toString(t.learningRate())), "PC1", "PC2", t.gridX(), t.gridY(), t.surface(), true, paths)));
    }

    // Figure 13: distributions of ||f(I)||_F and trace f(I) over runs.
    Map<String, double[]> norms = new LinkedHashMap<>(), traces = new LinkedHashMap<>();
    for (String alg : List.of("MB", "OB")) {
      norms.put(alg, only(alg, runs).stream().mapToDouble(RunResult::fIdentityFrobenius).toArray());
      traces.put(alg, only(alg, runs).stream().mapToDouble(RunResult::fIdentityTrace).toArray());
    }
    int bins = Math.max(5, Math.min(30, runs.size() / 2));
    written.add(save(dir, "fig13_f_identity_norm.png", p -> Plots.histogram(p, net + ": ||f(I)||_F after training (all runs)",
        "||f(I)||_F", bins, norms)));
    written.add(save(dir, "fig13_f_identity_trace.png", p -> Plots.histogram(p, net + ": trace f(I) after training (all runs)",
        "trace f(I)", bins, traces)));

    // Figure 14: seconds per epoch.
    Map<String, double[]> secs = new LinkedHashMap<>();
    for (String alg : List.of("MB", "OB")) {
      secs.put(alg, only(alg, runs).stream()
          .flatMapToDouble(r -> Arrays.stream(r.secondsPerEpoch(), 1, r.secondsPerEpoch().length)).toArray());
    }
    written.add(save(dir, "fig14_time_per_epoch.png", p -> Plots.bars(p, net + ": training time per epoch", "seconds", secs)));
    return written;
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

  private static List<RunResult> only(String algorithm, List<RunResult> runs) {
    return runs.stream().filter(r -> r.algorithm().equals(algorithm)).toList();
  }

  /** Per-epoch median over runs of one per-epoch metric. */
  private static Series medianSeries(String name, List<RunResult> runs, Function<RunResult, double[]> metric, Style style) {
    int epochs = runs.stream().mapToInt(r -> metric.apply(r).length).max().orElse(0);
    double[] x = new double[epochs], y = new double[epochs];
    for (int e = 0; e < epochs; e++) {
      final int ep = e;
      x[e] = e;
      y[e] = CompareReport.median(runs.stream().map(metric).filter(v -> v.length > ep).mapToDouble(v -> v[ep]).toArray());
    }
    return new Series(name, x, y, style);
  }

  /** Per-epoch minimum and maximum over runs of one metric (NaN where no run has a finite value). */
  private static ErrorSeries rangeBand(String name, List<RunResult> runs, Function<RunResult, double[]> metric) {
    Series median = medianSeries(name, runs, metric, Style.SOLID);
    int epochs = median.x().length;
    double[] lo = new double[epochs], hi = new double[epochs];
    for (int e = 0; e < epochs; e++) {
      final int ep = e;
      double[] v = runs.stream().map(metric).filter(a -> a.length > ep).mapToDouble(a -> a[ep]).filter(Double::isFinite)
          .toArray();
      lo[e] = v.length == 0 ? Double.NaN : Arrays.stream(v).min().getAsDouble();
      hi[e] = v.length == 0 ? Double.NaN : Arrays.stream(v).max().getAsDouble();
    }
    return new ErrorSeries(name, median.x(), median.y(), lo, hi, Style.SOLID);
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
