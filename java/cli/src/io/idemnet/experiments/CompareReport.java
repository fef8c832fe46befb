package io.idemnet.experiments;

import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a comparison's numbers: {@code runs.csv} (one row per algorithm, learning rate, run and
 * epoch) and {@code final.csv} (one row per run) grow as runs finish, so an interrupted
 * comparison keeps every completed run; {@code summary.json}, the trajectory files and the table
 * are written at the end from whatever completed.
 */
public final class CompareReport {
  private final Path dir;

  public CompareReport(Path dir) {
    this.dir = dir;
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("runs.csv"), "algorithm,learning_rate,run,epoch,idempotent_error,seconds,"
          + "grad_norm_mb,grad_norm_ob,cos_mb_ob_along,cos_mb_ob_separate\n", StandardCharsets.UTF_8);
      Files.writeString(dir.resolve("final.csv"), "algorithm,learning_rate,run,initial_error,final_error,discarded,"
          + "f_identity_frobenius,f_identity_trace,mean_seconds_per_epoch\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir + ": " + e.getMessage(), e);
    }
  }

  public Path dir() {
    return dir;
  }

  static String num(double v) {
    return Double.isNaN(v) ? "nan" : String.format(Locale.ROOT, "%.6g", v);
  }

  private static double at(double[] a, int i) {
    return i < a.length ? a[i] : Double.NaN;
  }

  /** Appends a finished pair of runs to runs.csv and final.csv (one write each). */
  public synchronized void append(RunResult... results) {
    StringBuilder runs = new StringBuilder(), fin = new StringBuilder();
    for (RunResult r : results) {
      for (int e = 0; e < r.errorPerEpoch().length; e++) {
        runs.append(String.join(",", r.algorithm(), Float.toString(r.learningRate()), Integer.toString(r.run()), Integer.toString(e),
            num(r.errorPerEpoch()[e]), num(r.secondsPerEpoch()[e]), num(at(r.gradNormMb(), e)), num(at(r.gradNormOb(), e)),
            num(at(r.cosAlong(), e)), num(at(r.cosSeparate(), e)))).append('\n');
      }
      fin.append(String.join(",", r.algorithm(), Float.toString(r.learningRate()), Integer.toString(r.run()), num(r.initialError()),
          num(r.finalError()), Boolean.toString(r.discarded()), num(r.fIdentityFrobenius()), num(r.fIdentityTrace()),
          num(r.meanSecondsPerEpoch()))).append('\n');
    }
    appendTo("runs.csv", runs.toString());
    appendTo("final.csv", fin.toString());
  }

  private void appendTo(String file, String text) {
    try (Writer w = Files.newBufferedWriter(dir.resolve(file), StandardCharsets.UTF_8, StandardOpenOption.APPEND)) {
      w.write(text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to " + dir.resolve(file) + ": " + e.getMessage(), e);
    }
  }

  /** Per (algorithm, learning rate): the kept runs' final errors and the discarded count. */
  public record Cell(String algorithm, float learningRate, double[] finalErrors, int discarded, double secondsPerEpoch) {
    public double median() {
      return CompareReport.median(finalErrors);
    }

    public double min() {
      return Arrays.stream(finalErrors).min().orElse(Double.NaN);
    }

    public double max() {
      return Arrays.stream(finalErrors).max().orElse(Double.NaN);
    }
  }

  static double median(double[] v) {
    if (v.length == 0) return Double.NaN;
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Aggregates by algorithm then learning rate (both sorted). */
  public static Map<String, Map<Float, Cell>> cells(List<RunResult> runs) {
    Map<String, Map<Float, List<RunResult>>> groups = new TreeMap<>();
    for (RunResult r : runs) {
      groups.computeIfAbsent(r.algorithm(), k -> new TreeMap<>()).computeIfAbsent(r.learningRate(), k -> new ArrayList<>()).add(r);
    }
    Map<String, Map<Float, Cell>> out = new TreeMap<>();
    groups.forEach((alg, byLr) -> byLr.forEach((lr, list) -> {
      double[] kept = list.stream().filter(r -> !r.discarded()).mapToDouble(RunResult::finalError).toArray();
      int discarded = (int) list.stream().filter(RunResult::discarded).count();
      double secs = list.stream().mapToDouble(RunResult::meanSecondsPerEpoch).average().orElse(Double.NaN);
      out.computeIfAbsent(alg, k -> new TreeMap<>()).put(lr, new Cell(alg, lr, kept, discarded, secs));
    }));
    return out;
  }

  /** The MB-vs-OB table printed at the end. */
  public static String table(List<RunResult> runs) {
    Map<String, Map<Float, Cell>> cells = cells(runs);
    Map<Float, Cell> mb = cells.getOrDefault("MB", Map.of()), ob = cells.getOrDefault("OB", Map.of());
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-10s %14s %14s %9s %9s %9s %9s%n", "lr", "MB error", "OB error", "OB/MB",
        "MB s/ep", "OB s/ep", "discarded"));
    for (Float lr : new java.util.TreeSet<>(mb.keySet())) {
      Cell m = mb.get(lr), o = ob.get(lr);
      double ratio = o == null ? Double.NaN : o.median() / m.median();
      sb.append(String.format(Locale.ROOT, "%-10s %14s %14s %9s %9s %9s %4d/%-4d%n", lr, num(m.median()),
          o == null ? "-" : num(o.median()), num(ratio), num(m.secondsPerEpoch()), o == null ? "-" : num(o.secondsPerEpoch()),
          m.discarded(), o == null ? 0 : o.discarded()));
    }
    sb.append("error: median over kept runs of mean((f(f(x)) - f(x))^2) on held-out N(0,1) data after the last epoch;\n"
        + "discarded (MB/OB): runs that ended no better than they started.\n");
    return sb.toString();
  }

  /** summary.json, trajectory and surface CSVs. */
  public void finish(CompareResult result) {
    StringBuilder json = new StringBuilder("{\n");
    CompareConfig c = result.config();
    json.append("  \"network\": \"").append(c.network()).append("\",\n");
    json.append("  \"dims\": ").append(Arrays.toString(c.dims())).append(",\n");
    json.append("  \"leaky_relu_slope\": ").append(num(c.slope())).append(",\n");
    json.append("  \"runs\": ").append(c.runs()).append(", \"epochs\": ").append(c.epochs())
        .append(", \"steps_per_epoch\": ").append(c.stepsPerEpoch()).append(", \"batch\": ").append(c.batch()).append(",\n");
    json.append("  \"data\": \"").append(c.data()).append("\", \"seed\": ").append(c.seed()).append(",\n");
    json.append("  \"interrupted\": ").append(result.interrupted()).append(",\n  \"results\": [");
    boolean first = true;
    for (Map<Float, Cell> byLr : cells(result.runs()).values()) {
      for (Cell cell : byLr.values()) {
        json.append(first ? "\n" : ",\n");
        first = false;
        json.append(String.format(Locale.ROOT,
            "    {\"algorithm\": \"%s\", \"learning_rate\": %s, \"kept_runs\": %d, \"discarded_runs\": %d, "
                + "\"median_final_error\": %s, \"min_final_error\": %s, \"max_final_error\": %s, \"mean_seconds_per_epoch\": %s}",
            cell.algorithm(), Float.toString(cell.learningRate()), cell.finalErrors().length, cell.discarded(), jsonNum(cell.median()),
            jsonNum(cell.min()), jsonNum(cell.max()), jsonNum(cell.secondsPerEpoch())));
      }
    }
    json.append("\n  ]\n}\n");
    try {
      Files.writeString(dir.resolve("summary.json"), json.toString(), StandardCharsets.UTF_8);
      for (Trajectory t : result.trajectories()) {
        StringBuilder csv = new StringBuilder("algorithm,epoch,pc1,pc2\n");
        appendPath(csv, "MB", t.mb());
        appendPath(csv, "OB", t.ob());
        Files.writeString(dir.resolve("trajectory_lr" + Float.toString(t.learningRate()) + ".csv"), csv.toString());
        StringBuilder surf = new StringBuilder("pc1,pc2,idempotent_error\n");
        for (int i = 0; i < t.gridY().length; i++) {
          for (int j = 0; j < t.gridX().length; j++) {
            surf.append(num(t.gridX()[j])).append(',').append(num(t.gridY()[i])).append(',').append(num(t.surface()[i][j])).append('\n');
          }
        }
        Files.writeString(dir.resolve("surface_lr" + Float.toString(t.learningRate()) + ".csv"), surf.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + dir + ": " + e.getMessage(), e);
    }
  }

  private static String jsonNum(double v) {
    return Double.isFinite(v) ? num(v) : "null";
  }

  private static void appendPath(StringBuilder csv, String alg, double[][] path) {
    for (int e = 0; e < path.length; e++) {
      csv.append(alg).append(',').append(e).append(',').append(num(path[e][0])).append(',')
          .append(num(path[e].length > 1 ? path[e][1] : 0)).append('\n');
    }
  }
}
