package io.idemnet.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareExperiment.Paired;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces a sweep uses: one pair on its own, and compare's files from a merged set of pairs. */
class CompareOutputsTest {
  private static final CpuBackend CPU = new CpuBackend();

  private static CompareConfig config(Path dir) {
    return new CompareConfig("custom", new int[] {4, 6, 4}, 0.2f, List.of(0.05f, 0.5f), 2, 3, 2, 32,
        new CompareConfig.DataSpec.Normal(), 7, 64, true, true, 3, dir);
  }

  @Test
  void pairsRunAloneEqualTheComparisonAndMergeIntoItsFiles(@TempDir Path dir) throws Exception {
    // compare as the command runs it: files streamed as runs finish, summary and figures at the end.
    CompareConfig streamed = config(dir.resolve("compare"));
    CompareReport report = new CompareReport(streamed.outputDir());
    CompareResult full = new CompareExperiment(CPU, streamed).run(new CompareExperiment.Listener() {
      @Override
      public void runFinished(RunResult mb, RunResult ob) {
        report.append(mb, ob);
      }

      @Override
      public void progress(int lrIndex, int run, int epoch) {}
    }, () -> false);
    report.finish(full);
    CompareFigures.write(streamed.outputDir(), full);

    // Each pair on its own, in compare's order, then merged.
    CompareConfig merged = config(dir.resolve("merged"));
    List<Paired> pairs = new ArrayList<>();
    CompareExperiment alone = new CompareExperiment(CPU, merged);
    for (int l = 0; l < 2; l++) for (int r = 0; r < 2; r++) pairs.add(alone.runPair(l, r));
    CompareResult result = CompareOutputs.merge(merged, pairs, false);
    CompareOutputs.write(result);

    // The same numbers bit for bit (one thread count in this JVM); only the timings differ.
    assertEquals(full.runs().size(), result.runs().size());
    for (int i = 0; i < full.runs().size(); i++) assertSameNumbers(full.runs().get(i), result.runs().get(i));
    assertEquals(2, result.trajectories().size(), "run 0 of each learning rate");
    for (int i = 0; i < 2; i++) assertSameTrajectory(full.trajectories().get(i), result.trajectories().get(i));

    // The same files, equal line for line once the seconds columns are set aside.
    assertEquals(fileNames(streamed.outputDir()), fileNames(merged.outputDir()));
    assertEquals(withoutColumn(streamed.outputDir().resolve("runs.csv"), "seconds"),
        withoutColumn(merged.outputDir().resolve("runs.csv"), "seconds"));
    assertEquals(withoutColumn(streamed.outputDir().resolve("final.csv"), "mean_seconds_per_epoch"),
        withoutColumn(merged.outputDir().resolve("final.csv"), "mean_seconds_per_epoch"));
    assertEquals(withoutSeconds(streamed.outputDir().resolve("summary.json")), withoutSeconds(merged.outputDir().resolve("summary.json")));
    for (String csv : List.of("trajectory_lr0.05.csv", "surface_lr0.05.csv", "trajectory_lr0.5.csv", "surface_lr0.5.csv")) {
      assertEquals(Files.readString(streamed.outputDir().resolve(csv)), Files.readString(merged.outputDir().resolve(csv)), csv);
    }
    assertFalse(Files.readString(merged.outputDir().resolve("summary.json")).contains("\"interrupted\": true"));

    // A merge with pairs missing says so, as an interrupted compare does.
    CompareOutputs.write(CompareOutputs.merge(merged, pairs.subList(0, 3), true));
    assertEquals(1 + 2 * 3, Files.readAllLines(merged.outputDir().resolve("final.csv")).size());
    assertNotEquals(-1, Files.readString(merged.outputDir().resolve("summary.json")).indexOf("\"interrupted\": true"));
  }

  static void assertSameNumbers(RunResult a, RunResult b) {
    String what = a.algorithm() + " lr " + a.learningRate() + " run " + a.run();
    assertEquals(a.algorithm(), b.algorithm());
    assertEquals(a.learningRate(), b.learningRate());
    assertEquals(a.run(), b.run());
    assertArrayEquals(a.errorPerEpoch(), b.errorPerEpoch(), what); // exact: assertArrayEquals on doubles has no tolerance
    assertArrayEquals(a.gradNormMb(), b.gradNormMb(), what);
    assertArrayEquals(a.gradNormOb(), b.gradNormOb(), what);
    assertArrayEquals(a.cosAlong(), b.cosAlong(), what);
    assertArrayEquals(a.cosSeparate(), b.cosSeparate(), what);
    assertEquals(a.fIdentityFrobenius(), b.fIdentityFrobenius(), what);
    assertEquals(a.fIdentityTrace(), b.fIdentityTrace(), what);
  }

  private static void assertSameTrajectory(Trajectory a, Trajectory b) {
    assertEquals(a.learningRate(), b.learningRate());
    assertArrayEquals(a.mb(), b.mb());
    assertArrayEquals(a.ob(), b.ob());
    assertArrayEquals(a.surface(), b.surface());
    assertArrayEquals(a.explainedVariance(), b.explainedVariance());
  }

  private static List<String> fileNames(Path dir) throws Exception {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** The CSV's lines without the named column (timings, which differ from run to run). */
  static List<String> withoutColumn(Path csv, String name) throws Exception {
    List<String> lines = Files.readAllLines(csv);
    int column = List.of(lines.get(0).split(",")).indexOf(name);
    assertNotEquals(-1, column, name + " in " + csv);
    return lines.stream().map(line -> {
      List<String> cells = new ArrayList<>(List.of(line.split(",", -1)));
      cells.remove(column);
      return String.join(",", cells);
    }).toList();
  }

  private static String withoutSeconds(Path json) throws Exception {
    return Files.readString(json).replaceAll("\"mean_seconds_per_epoch\": [^}]*", "");
  }
}
