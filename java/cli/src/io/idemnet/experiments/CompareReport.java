package io.idemnet.experiments;

import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A comparison's folder. {@code runs.csv} (one row per algorithm, learning rate, run and
 * recorded epoch) and {@code final.csv} (one row per run) grow as pairs of runs finish, so an
 * interrupted comparison keeps every completed pair and {@link #open} with {@code resume} picks up
 * from there; {@code settings.txt} holds the settings a resumed comparison must match.
 * {@link #finish} rewrites {@code final.csv} in sorted order with the {@code trivial} column for
 * the current threshold and writes the aggregates: {@code summary.csv} (per algorithm and
 * learning rate), {@code best.csv} (each algorithm's best learning rate), {@code curves.csv} (the
 * mean and median error per recorded epoch) and, with a trajectory, {@code pca.csv},
 * {@code trajectory.csv} and {@code surface.csv}.
 *
 * <p>Aggregation rules. A run is <em>improved</em> when its final error is below its initial
 * error (the paper discards the others, Figure 6), <em>trivial</em> when f is near-constant
 * ({@link RunResult#trivial}), and <em>kept</em> when improved and not trivial. "Paper's rule"
 * statistics are over improved runs (trivial ones included, as the paper's figures are); the
 * MB-vs-OB comparison uses kept runs only.
 */
public final class CompareReport {
  static final String RUNS_HEADER = "algorithm,learning_rate,run,epoch,idempotent_error,grad_norm_mb,grad_norm_ob,"
      + "cos_mb_ob_along,cos_mb_ob_separate";
  static final String FINAL_HEADER = "algorithm,learning_rate,run,initial_error,final_error,discarded,trivial,"
      + "image_jacobian,output_spread,f_identity_row_spread,f_identity_frobenius,f_identity_trace,seconds_per_epoch";

  private final Path dir;
  private final int[] recorded;
  private final List<RunResult> loaded;

  private CompareReport(Path dir, int[] recorded, List<RunResult> loaded) {
    this.dir = dir;
    this.recorded = recorded;
    this.loaded = loaded;
  }

  /**
   * Opens the folder for a comparison with these settings. A folder without {@code final.csv}
   * starts fresh. One with it is continued when {@code resume} is true and its
   * {@code settings.txt} equals {@link CompareConfig#identity()}: complete pairs are loaded, and a
   * pair the last process left half-written (one algorithm's rows, or a cut-off line) is dropped
   * from both files.
   *
   * @throws IllegalStateException if the folder holds a comparison and {@code resume} is false,
   *     or its settings differ (the message lists both)
   */
  public static CompareReport open(Path dir, CompareConfig config, boolean resume) {
    try {
      Files.createDirectories(dir);
      Path fin = dir.resolve("final.csv"), settings = dir.resolve("settings.txt");
      if (!Files.exists(fin)) {
        writeAtomically(settings, config.identity());
        writeAtomically(dir.resolve("runs.csv"), RUNS_HEADER + "\n");
        writeAtomically(fin, FINAL_HEADER + "\n");
        return new CompareReport(dir, config.recordedEpochs(), List.of());
      }
      if (!resume) {
        throw new IllegalStateException(dir + " already holds a comparison (final.csv); pass --resume to continue it, "
            + "or choose another --out");
      }
      String found = Files.exists(settings) ? Files.readString(settings, StandardCharsets.UTF_8) : "(no settings.txt)\n";
      if (!found.equals(config.identity())) {
        throw new IllegalStateException("cannot resume " + dir + ": its settings differ from this command's.\n"
            + "in the folder:\n" + found + "this command:\n" + config.identity());
      }
      List<RunResult> runs = load(dir, config.recordedEpochs());
      CompareReport report = new CompareReport(dir, config.recordedEpochs(), runs);
      report.rewrite(runs, config.trivialThreshold());
      return report;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open results folder " + dir + ": " + e.getMessage(), e);
    }
  }

  public Path dir() {
    return dir;
  }

  /** The complete runs found in the folder when it was opened. */
  public List<RunResult> loaded() {
    return loaded;
  }

  /**
   * Every complete pair of runs now in the folder, read back from its CSVs: the numbers that
   * {@link #finish} aggregates, so that summary.csv follows from final.csv exactly whether a
   * comparison ran in one go or was resumed.
   */
  public List<RunResult> reload() {
    try {
      return load(dir, recorded);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read results from " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Keys ({@link CompareExperiment#key}) of the pairs found complete when the folder was opened. */
  public Set<String> completedPairs() {
    Set<String> keys = new HashSet<>();
    for (RunResult r : loaded) keys.add(CompareExperiment.key(r.learningRate(), r.run()));
    return keys;
  }

  static String num(double v) {
    return Double.isNaN(v) ? "nan" : String.format(Locale.ROOT, "%.6g", v);
  }

  private static double parse(String s) {
    return s.equals("nan") ? Double.NaN : Double.parseDouble(s);
  }

  /** Appends a finished pair of runs to runs.csv and final.csv (one write each). */
  public synchronized void append(RunResult mb, RunResult ob) {
    appendTo("runs.csv", runRows(List.of(mb, ob)));
    appendTo("final.csv", finalRows(List.of(mb, ob), Double.NaN));
  }

  private static String runRows(List<RunResult> results) {
    StringBuilder sb = new StringBuilder();
    for (RunResult r : results) {
      for (int i = 0; i < r.epochs().length; i++) {
        sb.append(String.join(",", r.algorithm(), r.lr(), Integer.toString(r.run()), Integer.toString(r.epochs()[i]),
            num(r.error()[i]), num(r.gradNormMb()[i]), num(r.gradNormOb()[i]), num(r.cosAlong()[i]),
            num(r.cosSeparate()[i]))).append('\n');
      }
    }
    return sb.toString();
  }

  /** final.csv rows; with a NaN threshold the trivial column is left for {@link #finish} to fill ("nan"). */
  private static String finalRows(List<RunResult> results, double threshold) {
    StringBuilder sb = new StringBuilder();
    for (RunResult r : results) {
      sb.append(String.join(",", r.algorithm(), r.lr(), Integer.toString(r.run()), num(r.initialError()),
          num(r.finalError()), Boolean.toString(r.discarded()),
          Double.isNaN(threshold) ? "nan" : Boolean.toString(r.trivial(threshold)), num(r.imageJacobian()),
          num(r.outputSpread()),
          num(r.fIdentityRowSpread()), num(r.fIdentityFrobenius()), num(r.fIdentityTrace()),
          num(r.secondsPerEpoch()))).append('\n');
    }
    return sb.toString();
  }

  private void appendTo(String file, String text) {
    try (Writer w = Files.newBufferedWriter(dir.resolve(file), StandardCharsets.UTF_8, StandardOpenOption.APPEND)) {
      w.write(text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + dir.resolve(file) + ": " + e.getMessage(), e);
    }
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Runs sorted by algorithm, learning rate, run. */
  static List<RunResult> sorted(List<RunResult> runs) {
    List<RunResult> out = new ArrayList<>(runs);
    out.sort(Comparator.comparing(RunResult::algorithm).thenComparing(RunResult::learningRate)
        .thenComparingInt(RunResult::run));
    return out;
  }

  private void rewrite(List<RunResult> runs, double threshold) throws IOException {
    List<RunResult> s = sorted(runs);
    writeAtomically(dir.resolve("runs.csv"), RUNS_HEADER + "\n" + runRows(s));
    writeAtomically(dir.resolve("final.csv"), FINAL_HEADER + "\n" + finalRows(s, threshold));
  }

  /**
   * The complete pairs of runs in a folder's runs.csv and final.csv: a run needs its final.csv
   * row and one runs.csv row for each of {@code recorded} epochs, and a pair both its runs.
   * Lines that do not parse (a write cut off by a crash) are skipped.
   */
  static List<RunResult> load(Path dir, int[] recorded) throws IOException {
    Map<String, String[]> finals = new LinkedHashMap<>();
    List<String> finLines = Files.readAllLines(dir.resolve("final.csv"), StandardCharsets.UTF_8);
    if (finLines.isEmpty() || !finLines.get(0).equals(FINAL_HEADER)) {
      throw new IOException(dir.resolve("final.csv") + " does not have the expected columns " + FINAL_HEADER);
    }
    for (String line : finLines.subList(1, finLines.size())) {
      String[] f = line.split(",", -1);
      if (f.length != 13) continue;
      finals.put(f[0] + "/" + f[1] + "/" + f[2], f);
    }
    Map<String, Map<Integer, String[]>> rows = new HashMap<>();
    List<String> runLines = Files.readAllLines(dir.resolve("runs.csv"), StandardCharsets.UTF_8);
    if (runLines.isEmpty() || !runLines.get(0).equals(RUNS_HEADER)) {
      throw new IOException(dir.resolve("runs.csv") + " does not have the expected columns " + RUNS_HEADER);
    }
    for (String line : runLines.subList(1, runLines.size())) {
      String[] f = line.split(",", -1);
      if (f.length != 9) continue;
      try {
        rows.computeIfAbsent(f[0] + "/" + f[1] + "/" + f[2], k -> new HashMap<>()).put(Integer.parseInt(f[3]), f);
      } catch (NumberFormatException e) {
        // a cut-off line
      }
    }
    Map<String, RunResult> runs = new LinkedHashMap<>();
    for (var e : finals.entrySet()) {
      RunResult r = parseRun(e.getValue(), rows.get(e.getKey()), recorded);
      if (r != null) runs.put(e.getKey(), r);
    }
    List<RunResult> out = new ArrayList<>();
    for (RunResult r : runs.values()) {
      String other = (r.algorithm().equals("MB") ? "OB" : "MB") + "/" + r.lr() + "/" + r.run();
      if (runs.containsKey(other)) out.add(r);
    }
    return out;
  }

  private static RunResult parseRun(String[] f, Map<Integer, String[]> byEpoch, int[] recorded) {
    if (byEpoch == null || !(f[0].equals("MB") || f[0].equals("OB"))) return null;
    int n = recorded.length;
    double[] err = new double[n], nMb = new double[n], nOb = new double[n], along = new double[n], sep = new double[n];
    try {
      for (int i = 0; i < n; i++) {
        String[] row = byEpoch.get(recorded[i]);
        if (row == null) return null;
        err[i] = parse(row[4]);
        nMb[i] = parse(row[5]);
        nOb[i] = parse(row[6]);
        along[i] = parse(row[7]);
        sep[i] = parse(row[8]);
      }
      return new RunResult(f[0], Float.parseFloat(f[1]), Integer.parseInt(f[2]), recorded.clone(), err, nMb, nOb, along,
          sep, parse(f[12]), parse(f[10]), parse(f[11]), parse(f[9]), parse(f[8]), parse(f[7]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Aggregates over the runs of one algorithm at one learning rate (see the class comment for the rules). */
  public record Cell(String algorithm, float learningRate, int runs, double[] improvedErrors, double[] keptErrors,
      int trivial, double secondsPerEpoch, double secondsCi98) {

    public int improved() {
      return improvedErrors.length;
    }

    public int kept() {
      return keptErrors.length;
    }

    public double meanImproved() {
      return mean(improvedErrors);
    }

    public double medianImproved() {
      return median(improvedErrors);
    }

    public double meanKept() {
      return mean(keptErrors);
    }

    public double medianKept() {
      return median(keptErrors);
    }

    public double minKept() {
      return Arrays.stream(keptErrors).min().orElse(Double.NaN);
    }

    public double maxKept() {
      return Arrays.stream(keptErrors).max().orElse(Double.NaN);
    }
  }

  static double mean(double[] v) {
    return v.length == 0 ? Double.NaN : Arrays.stream(v).sum() / v.length;
  }

  static double median(double[] v) {
    if (v.length == 0) return Double.NaN;
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Student's t quantile 0.99 (two-sided 98 %) for 1..30 degrees of freedom; the normal 2.326 beyond. */
  private static final double[] T99 = {31.821, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764, 2.718,
      2.681, 2.650, 2.624, 2.602, 2.583, 2.567, 2.552, 2.539, 2.528, 2.518, 2.508, 2.500, 2.492, 2.485, 2.479, 2.473,
      2.467, 2.462, 2.457};

  /** Half-width of the 98 % confidence interval of the mean (Student's t), NaN below two values. */
  static double ci98(double[] v) {
    if (v.length < 2) return Double.NaN;
    double m = mean(v), ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    double sd = Math.sqrt(ss / (v.length - 1));
    double t = v.length - 1 <= T99.length ? T99[v.length - 2] : 2.326;
    return t * sd / Math.sqrt(v.length);
  }

  /** Aggregates by algorithm then learning rate (both sorted). */
  public static Map<String, Map<Float, Cell>> cells(List<RunResult> runs, double threshold) {
    Map<String, Map<Float, List<RunResult>>> groups = new TreeMap<>();
    for (RunResult r : runs) {
      groups.computeIfAbsent(r.algorithm(), k -> new TreeMap<>()).computeIfAbsent(r.learningRate(), k -> new ArrayList<>())
          .add(r);
    }
    Map<String, Map<Float, Cell>> out = new TreeMap<>();
    groups.forEach((alg, byLr) -> byLr.forEach((lr, list) -> {
      double[] improved = list.stream().filter(r -> !r.discarded()).mapToDouble(RunResult::finalError).toArray();
      double[] kept = list.stream().filter(r -> !r.discarded() && !r.trivial(threshold)).mapToDouble(RunResult::finalError)
          .toArray();
      int trivial = (int) list.stream().filter(r -> r.trivial(threshold)).count();
      double[] secs = list.stream().mapToDouble(RunResult::secondsPerEpoch).toArray();
      out.computeIfAbsent(alg, k -> new TreeMap<>())
          .put(lr, new Cell(alg, lr, list.size(), improved, kept, trivial, mean(secs), ci98(secs)));
    }));
    return out;
  }

  /** How a best learning rate is chosen. */
  public enum Rule {
    /** The lowest mean final error over improved runs, trivial ones included: the paper's Figure 6 minimum. */
    PAPER,
    /** The lowest mean final error over kept runs (improved and not trivial). */
    KEPT;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * Each algorithm's best learning rate by the rule (the paper uses "the value in Figure 6 with
   * the lowest idempotent error" for Figures 3, 5, 12 and 13). Null for an algorithm without a run
   * that the rule counts.
   */
  public static Map<String, Cell> best(Map<String, Map<Float, Cell>> cells, Rule rule) {
    Map<String, Cell> out = new TreeMap<>();
    cells.forEach((alg, byLr) -> out.put(alg, byLr.values().stream()
        .filter(c -> rule == Rule.KEPT ? c.kept() > 0 : c.improved() > 0)
        .min(Comparator.comparingDouble(c -> rule == Rule.KEPT ? c.meanKept() : c.meanImproved())).orElse(null)));
    return out;
  }

  /** The MB-vs-OB table printed at the end (kept runs only). */
  public static String table(List<RunResult> runs, double threshold) {
    Map<String, Map<Float, Cell>> cells = cells(runs, threshold);
    Map<Float, Cell> mb = cells.getOrDefault("MB", Map.of()), ob = cells.getOrDefault("OB", Map.of());
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-10s %12s %12s %12s %12s %9s %14s %14s%n", "lr", "MB mean", "OB mean",
        "MB median", "OB median", "OB/MB", "MB triv/disc", "OB triv/disc"));
    for (Float lr : new java.util.TreeSet<>(mb.keySet())) {
      Cell m = mb.get(lr), o = ob.get(lr);
      if (o == null) continue;
      sb.append(String.format(Locale.ROOT, "%-10s %12s %12s %12s %12s %9s %7s %7s%n", lr, num(m.meanKept()),
          num(o.meanKept()), num(m.medianKept()), num(o.medianKept()), num(o.meanKept() / m.meanKept()),
          m.trivial() + "/" + (m.runs() - m.improved()), o.trivial() + "/" + (o.runs() - o.improved())));
    }
    for (var e : best(cells, Rule.KEPT).entrySet()) {
      Cell c = e.getValue();
      sb.append(e.getKey()).append(" best over kept runs: ").append(c == null ? "no kept run"
          : "lr " + c.learningRate() + ", mean " + num(c.meanKept()) + ", median " + num(c.medianKept()) + " over "
              + c.kept() + " runs").append('\n');
    }
    for (var e : best(cells, Rule.PAPER).entrySet()) {
      Cell c = e.getValue();
      sb.append(e.getKey()).append(" best by the paper's rule: ").append(c == null ? "no improved run"
          : "lr " + c.learningRate() + ", mean " + num(c.meanImproved()) + " over " + c.improved() + " improved runs, "
              + c.trivial() + " of " + c.runs() + " trivial").append('\n');
    }
    sb.append("error: mean((f(f(x)) - f(x))^2) on held-out N(0,1) data after the last epoch, over kept runs (improved "
        + "and not trivial: Jacobian on f's image >= " + num(threshold) + " in Frobenius norm); triv/disc: trivial runs / "
        + "runs that did not improve.\n");
    return sb.toString();
  }

  /** Rewrites final.csv (sorted, with the trivial column) and writes the aggregate CSVs. */
  public void finish(List<RunResult> runs, double threshold, Trajectory trajectory) {
    try {
      rewrite(runs, threshold);
      Map<String, Map<Float, Cell>> cells = cells(runs, threshold);
      StringBuilder summary = new StringBuilder("algorithm,learning_rate,runs,improved,trivial,kept,mean_improved,"
          + "median_improved,mean_kept,median_kept,min_kept,max_kept,seconds_per_epoch,seconds_per_epoch_ci98\n");
      for (Map<Float, Cell> byLr : cells.values()) {
        for (Cell c : byLr.values()) {
          summary.append(String.join(",", c.algorithm(), Float.toString(c.learningRate()), Integer.toString(c.runs()),
              Integer.toString(c.improved()), Integer.toString(c.trivial()), Integer.toString(c.kept()),
              num(c.meanImproved()), num(c.medianImproved()), num(c.meanKept()), num(c.medianKept()), num(c.minKept()),
              num(c.maxKept()), num(c.secondsPerEpoch()), num(c.secondsCi98()))).append('\n');
        }
      }
      writeAtomically(dir.resolve("summary.csv"), summary.toString());
      StringBuilder best = new StringBuilder("algorithm,rule,best_learning_rate,runs_counted,mean,median,runs,trivial\n");
      for (Rule rule : Rule.values()) {
        best(cells, rule).forEach((alg, c) -> {
          if (c == null) return;
          boolean kept = rule == Rule.KEPT;
          best.append(String.join(",", alg, rule.label(), Float.toString(c.learningRate()),
              Integer.toString(kept ? c.kept() : c.improved()), num(kept ? c.meanKept() : c.meanImproved()),
              num(kept ? c.medianKept() : c.medianImproved()), Integer.toString(c.runs()), Integer.toString(c.trivial())))
              .append('\n');
        });
      }
      writeAtomically(dir.resolve("best.csv"), best.toString());
      writeAtomically(dir.resolve("curves.csv"), curves(runs, threshold));
      if (trajectory != null) writeTrajectory(trajectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Per algorithm, learning rate and recorded epoch: mean over improved runs, and mean/median/min/max over kept runs. */
  private static String curves(List<RunResult> runs, double threshold) {
    StringBuilder sb = new StringBuilder("algorithm,learning_rate,epoch,improved,mean_improved,kept,mean_kept,"
        + "median_kept,min_kept,max_kept\n");
    Map<String, Map<Float, List<RunResult>>> groups = new TreeMap<>();
    for (RunResult r : runs) {
      groups.computeIfAbsent(r.algorithm(), k -> new TreeMap<>()).computeIfAbsent(r.learningRate(), k -> new ArrayList<>())
          .add(r);
    }
    groups.forEach((alg, byLr) -> byLr.forEach((lr, list) -> {
      List<RunResult> improved = list.stream().filter(r -> !r.discarded()).toList();
      List<RunResult> kept = improved.stream().filter(r -> !r.trivial(threshold)).toList();
      int[] epochs = list.get(0).epochs();
      for (int i = 0; i < epochs.length; i++) {
        final int at = i;
        double[] imp = improved.stream().mapToDouble(r -> r.error()[at]).toArray();
        double[] k = kept.stream().mapToDouble(r -> r.error()[at]).toArray();
        sb.append(String.join(",", alg, Float.toString(lr), Integer.toString(epochs[i]), Integer.toString(imp.length),
            num(mean(imp)), Integer.toString(k.length), num(mean(k)), num(median(k)),
            num(Arrays.stream(k).min().orElse(Double.NaN)), num(Arrays.stream(k).max().orElse(Double.NaN))))
            .append('\n');
      }
    }));
    return sb.toString();
  }

  private void writeTrajectory(Trajectory t) throws IOException {
    writeAtomically(dir.resolve("pca.csv"), "learning_rate_mb,learning_rate_ob,pc1_variance,pc2_variance,"
        + "explained_fraction,pc1_pc2_abs_cosine\n" + t.learningRateMb() + "," + t.learningRateOb() + ","
        + num(t.componentVariance()[0]) + "," + num(t.componentVariance().length > 1 ? t.componentVariance()[1] : 0)
        + "," + num(t.explainedVariance()) + "," + num(t.directionCosine()) + "\n");
    StringBuilder csv = new StringBuilder("algorithm,learning_rate,epoch,pc1,pc2\n");
    appendPath(csv, "MB", t.learningRateMb(), t.epochs(), t.mb());
    appendPath(csv, "OB", t.learningRateOb(), t.epochs(), t.ob());
    writeAtomically(dir.resolve("trajectory.csv"), csv.toString());
    StringBuilder surf = new StringBuilder("pc1,pc2,idempotent_error\n");
    for (int i = 0; i < t.gridY().length; i++) {
      for (int j = 0; j < t.gridX().length; j++) {
        surf.append(num(t.gridX()[j])).append(',').append(num(t.gridY()[i])).append(',').append(num(t.surface()[i][j]))
            .append('\n');
      }
    }
    writeAtomically(dir.resolve("surface.csv"), surf.toString());
  }

  private static void appendPath(StringBuilder csv, String alg, float lr, int[] epochs, double[][] path) {
    for (int e = 0; e < path.length; e++) {
      csv.append(alg).append(',').append(lr).append(',').append(epochs[e]).append(',').append(num(path[e][0])).append(',')
          .append(num(path[e].length > 1 ? path[e][1] : 0)).append('\n');
    }
  }
}
