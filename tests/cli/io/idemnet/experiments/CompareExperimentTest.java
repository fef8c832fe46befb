package io.idemnet.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareExperimentTest {
  private static final Backend CPU = new CpuBackend();

  private static CompareConfig config(Path dir, CompareConfig.DataSpec data, int evalEvery) {
    return new CompareConfig("custom", new int[] {4, 4}, 0.2f, List.of(0.05f, 0.5f), 2, 5, 2, 32, data, 7, 64, evalEvery,
        true, true, 3, CompareConfig.DEFAULT_TRIVIAL_THRESHOLD, dir);
  }

  private static CompareExperiment.Listener appendingTo(CompareReport report, AtomicInteger finished) {
    return new CompareExperiment.Listener() {
      @Override
      public void runFinished(RunResult mb, RunResult ob) {
        report.append(mb, ob);
        finished.incrementAndGet();
      }

      @Override
      public void progress(int lrIndex, int run, int epoch) {}
    };
  }

  /**
   * A sweep stopped after its first pair and resumed in the same folder ends with exactly the
   * numbers of an uninterrupted sweep: the stop loses only the pair in progress, and a pair's
   * numbers do not depend on what ran before it.
   */
  @Test
  void aResumedSweepEqualsAnUninterruptedOne(@TempDir Path dir) throws Exception {
    CompareConfig cfg = config(dir.resolve("resumed"), new CompareConfig.DataSpec.Normal(), 2);
    CompareReport first = CompareReport.open(cfg.outputDir(), cfg, false);
    AtomicInteger finished = new AtomicInteger();
    CompareResult partial = new CompareExperiment(CPU, cfg).run(appendingTo(first, finished), () -> finished.get() >= 1,
        first.completedPairs(), cfg.outputDir().resolve("paths"));
    assertTrue(partial.interrupted());
    assertEquals(2, partial.runs().size(), "one MB and one OB run");
    // recorded epochs 0, 2, 4, 5: four rows per run
    assertEquals(1 + 2 * 4, Files.readAllLines(cfg.outputDir().resolve("runs.csv")).size());

    assertThrows(IllegalStateException.class, () -> CompareReport.open(cfg.outputDir(), cfg, false),
        "an existing comparison is not overwritten without --resume");
    CompareReport second = CompareReport.open(cfg.outputDir(), cfg, true);
    assertEquals(Set.of(CompareExperiment.key(0.05f, 0)), second.completedPairs());
    CompareResult rest = new CompareExperiment(CPU, cfg).run(appendingTo(second, finished), () -> false,
        second.completedPairs(), cfg.outputDir().resolve("paths"));
    assertEquals(6, rest.runs().size(), "the three remaining pairs");
    second.finish(second.reload(), cfg.trivialThreshold(), null);

    CompareConfig once = config(dir.resolve("once"), new CompareConfig.DataSpec.Normal(), 2);
    CompareReport whole = CompareReport.open(once.outputDir(), once, false);
    CompareResult uninterrupted = new CompareExperiment(CPU, once).run(appendingTo(whole, new AtomicInteger()), () -> false,
        Set.of(), null);
    assertEquals(8, uninterrupted.runs().size());
    whole.finish(whole.reload(), once.trivialThreshold(), null);
    for (String file : List.of("runs.csv", "final.csv", "summary.csv", "curves.csv")) {
      assertEquals(withoutSeconds(Files.readAllLines(once.outputDir().resolve(file))),
          withoutSeconds(Files.readAllLines(cfg.outputDir().resolve(file))), file);
    }
  }

  /** Wall-clock columns differ between runs; everything else must match. */
  private static List<String> withoutSeconds(List<String> lines) {
    List<String> header = List.of(lines.get(0).split(","));
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(",", -1);
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < f.length; i++) if (!header.get(i).startsWith("seconds")) sb.append(f[i]).append(',');
      out.add(sb.toString());
    }
    return out;
  }

  @Test
  void resumingWithOtherSettingsOrAHalfWrittenPairIsHandled(@TempDir Path dir) throws Exception {
    CompareConfig cfg = config(dir, new CompareConfig.DataSpec.Normal(), 5);
    CompareReport report = CompareReport.open(dir, cfg, false);
    AtomicInteger finished = new AtomicInteger();
    new CompareExperiment(CPU, cfg).run(appendingTo(report, finished), () -> finished.get() >= 1, Set.of(), null);
    // A crash while appending the next pair: its MB rows made it, its OB rows did not, the last line is cut off.
    String mbOnly = "MB,0.5,0,0,0.1,nan,nan,nan,nan\nMB,0.5,0,5,0.05,nan,nan,nan,nan\n";
    Files.writeString(dir.resolve("runs.csv"), mbOnly, StandardOpenOption.APPEND);
    Files.writeString(dir.resolve("final.csv"), "MB,0.5,0,0.1,0.05,false,nan,1.2,0.3,0.2,1,1,0.001\nOB,0.5,0,0.1",
        StandardOpenOption.APPEND);
    CompareReport resumed = CompareReport.open(dir, cfg, true);
    assertEquals(Set.of(CompareExperiment.key(0.05f, 0)), resumed.completedPairs());
    assertEquals(2, resumed.loaded().size());
    assertEquals(1 + 2, Files.readAllLines(dir.resolve("final.csv")).size(), "the half-written pair is dropped");
    assertEquals(1 + 2 * 2, Files.readAllLines(dir.resolve("runs.csv")).size());

    CompareConfig other = new CompareConfig("custom", new int[] {4, 4}, 0.2f, List.of(0.05f), 2, 6, 2, 32,
        new CompareConfig.DataSpec.Normal(), 7, 64, 5, true, true, 3, 1e-3, dir);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> CompareReport.open(dir, other, true));
    assertTrue(e.getMessage().contains("epochs=5") && e.getMessage().contains("epochs=6"), e.getMessage());
  }

  /** The same seed gives the same numbers; MB and OB of a pair start from the same parameters. */
  @Test
  void runsAreReproducibleAndPaired() {
    for (CompareConfig.DataSpec data : List.of(new CompareConfig.DataSpec.Normal(), new CompareConfig.DataSpec.Uniform(2f),
        new CompareConfig.DataSpec.Fixed(100))) {
      CompareResult a = new CompareExperiment(CPU, config(null, data, 1)).run(CompareExperiment.quiet(), () -> false);
      CompareResult b = new CompareExperiment(CPU, config(null, data, 1)).run(CompareExperiment.quiet(), () -> false);
      assertFalse(a.interrupted());
      assertEquals(8, a.runs().size());
      for (int i = 0; i < a.runs().size(); i++) {
        assertArrayEquals(a.runs().get(i).error(), b.runs().get(i).error(), data + " run " + i);
      }
      RunResult mb = a.runs().get(0), ob = a.runs().get(1);
      assertEquals(mb.initialError(), ob.initialError(), "paired runs share their initialisation");
      assertEquals(a.runs().get(0).initialError(), a.runs().get(4).initialError(),
          "run 0 starts from the same parameters at every learning rate");
      for (RunResult r : a.runs()) {
        for (double c : r.cosAlong()) {
          if (r.run() == 0) assertTrue(c >= 0 && c <= 1 + 1e-9, "cosine in [0, 1]: " + c);
          else assertTrue(Double.isNaN(c), "the gradient analysis covers run 0 only");
        }
      }
    }
  }

  /**
   * The trivial-solution measures. A constant map (all weights 0): output spread and image
   * Jacobian exactly 0. A map keeping one coordinate, f(x) = LeakyReLU(x_1 e_1): the spread is
   * the RMS spread of LeakyReLU(z), z ~ N(0, 1) (variance (1 + 0.04) / 2 - (0.8 / sqrt(2 pi))^2
   * = 0.418), over sqrt(4): 0.32; its Jacobian at image points is e_1 e_1^T times 1 (y_1 > 0)
   * or 0.2, RMS sqrt((1 + 0.04) / 2) = 0.721. The identity-weighted layer LeakyReLU(x): Jacobian
   * diag(1 or 0.2) on each coordinate, RMS sqrt(4 * 0.52) = 1.442. Tolerances: 2000 rows and
   * 4 directions give Hutchinson's estimate a relative spread of about 1 / sqrt(8000 / 2) (the
   * estimate of a rank-1 J is a chi-square with one degree of freedom per sample), so 5 %.
   */
  @Test
  void trivialMeasuresSeparateConstantMapsFromProjections() {
    try (Graph graph = new Graph(CPU); Tensor x = CPU.zeros(2000, 4);
        Sequential f = Sequential.mlp(CPU, 3, Activation.leakyRelu(0.2f), 4, 4)) {
      CPU.randomNormal(x, 11, 0f, 1f);
      Parameter w = f.parameters().get(0), b = f.parameters().get(1);
      w.value().copyFrom(new float[16]);
      b.value().copyFrom(new float[] {0.5f, -1f, 2f, 0f});
      assertEquals(0.0, CompareExperiment.outputSpread(graph, f, x), 0.0);
      assertEquals(0.0, CompareExperiment.imageJacobian(graph, f, x, 5), 0.0);
      b.value().copyFrom(new float[4]);
      float[] keepFirst = new float[16];
      keepFirst[0] = 1f;
      w.value().copyFrom(keepFirst);
      assertEquals(Math.sqrt(0.418) / 2, CompareExperiment.outputSpread(graph, f, x), 0.05 * 0.32);
      assertEquals(0.721, CompareExperiment.imageJacobian(graph, f, x, 5), 0.05 * 0.721);
      float[] eye = new float[16];
      for (int i = 0; i < 4; i++) eye[i * 5] = 1f;
      w.value().copyFrom(eye);
      assertEquals(1.442, CompareExperiment.imageJacobian(graph, f, x, 5), 0.05 * 1.442);
    }
  }

  /** summary.csv and best.csv: trivial runs are counted, kept out of the kept statistics, and in the paper's rule's. */
  @Test
  void summariesExcludeTrivialRunsFromTheComparison(@TempDir Path dir) throws Exception {
    CompareConfig cfg = config(dir, new CompareConfig.DataSpec.Normal(), 5);
    CompareReport report = CompareReport.open(dir, cfg, false);
    List<RunResult> runs = List.of(run("MB", 0.5f, 0, 1e-10, 1e-3), run("MB", 0.5f, 1, 1e-3, 1.3), run("MB", 0.5f, 2, 3e-3, 1.3),
        run("MB", 0.05f, 0, 2e-4, 1.3), run("OB", 0.5f, 0, 5e-4, 1.3), run("OB", 0.5f, 1, 2, 1.3),
        run("OB", 0.5f, 2, 7e-4, 1.3), run("OB", 0.05f, 0, 4e-4, 1.3));
    report.finish(runs, 0.5, null);
    List<String> summary = Files.readAllLines(dir.resolve("summary.csv"), StandardCharsets.UTF_8);
    assertEquals("algorithm,learning_rate,runs,improved,trivial,kept,mean_improved,median_improved,mean_kept,median_kept,"
        + "min_kept,max_kept,seconds_per_epoch,seconds_per_epoch_ci98", summary.get(0));
    // MB at 0.5: 3 runs, all improved (initial 1), one trivial; kept mean (1e-3 + 3e-3) / 2.
    assertTrue(summary.contains("MB,0.5,3,3,1,2,0.00133333,0.00100000,0.00200000,0.00200000,0.00100000,0.00300000,"
        + "0.00100000,0.00000"), String.join("\n", summary));
    // OB at 0.5: the run ending at 2 > 1 did not improve.
    assertTrue(summary.stream().anyMatch(l -> l.startsWith("OB,0.5,3,2,0,2,0.000600000,")), String.join("\n", summary));
    List<String> best = Files.readAllLines(dir.resolve("best.csv"));
    assertEquals(List.of("algorithm,rule,best_learning_rate,runs_counted,mean,median,runs,trivial",
        "MB,paper,0.05,1,0.000200000,0.000200000,1,0", "OB,paper,0.05,1,0.000400000,0.000400000,1,0",
        "MB,kept,0.05,1,0.000200000,0.000200000,1,0", "OB,kept,0.05,1,0.000400000,0.000400000,1,0"), best,
        "MB's trivial 1e-10 does not make 0.5 its best rate, not even by the paper's rule (a mean over 3 runs)");
    List<String> fin = Files.readAllLines(dir.resolve("final.csv"));
    assertTrue(fin.contains("MB,0.5,0,1.00000,1.00000e-10,false,true,0.00100000,0.250000,0.500000,1.00000,0.500000,"
        + "0.00100000"), String.join("\n", fin));
    assertTrue(fin.contains("MB,0.5,1,1.00000,0.00100000,false,false,1.30000,0.250000,0.500000,1.00000,0.500000,0.00100000"),
        String.join("\n", fin));
  }

  private static RunResult run(String alg, float lr, int run, double finalError, double jacobian) {
    double[] nan = {Double.NaN, Double.NaN};
    return new RunResult(alg, lr, run, new int[] {0, 5}, new double[] {1, finalError}, nan, nan, nan, nan, 1e-3, 1, 0.5,
        0.5, 0.25, jacobian);
  }

  @Test
  void confidenceIntervalUsesStudentsT() {
    // mean 2, sample sd sqrt(2/3) over 4 values: half-width t(0.99, 3) sd / sqrt(4).
    assertEquals(4.541 * Math.sqrt(2.0 / 3) / 2, CompareReport.ci98(new double[] {1, 2, 2, 3}), 1e-12);
    assertTrue(Double.isNaN(CompareReport.ci98(new double[] {1})));
  }
}
