package io.idemnet.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pieces a sweep uses: one pair on its own, and compare's files written from a set of pairs. */
class CompareOutputsTest {
  private static final CpuBackend CPU = new CpuBackend();

  private static CompareConfig config(Path dir) {
    return new CompareConfig("custom", new int[] {4, 6, 4}, 0.2f, List.of(0.05f, 0.5f), 2, 4, 2, 32,
        new CompareConfig.DataSpec.Normal(), 7, 64, 1, true, true, 3, CompareConfig.DEFAULT_TRIVIAL_THRESHOLD, dir);
  }

  @Test
  void pairsRunAloneEqualTheComparisonAndWriteItsFiles(@TempDir Path dir) throws Exception {
    // compare as the command runs it: pairs appended as they finish, then finished.
    CompareConfig streamed = config(dir.resolve("compare"));
    CompareReport report = CompareReport.open(streamed.outputDir(), streamed, false);
    CompareResult full = new CompareExperiment(CPU, streamed).run(new CompareExperiment.Listener() {
      @Override
      public void runFinished(RunResult mb, RunResult ob) {
        report.append(mb, ob);
      }

      @Override
      public void progress(int lrIndex, int run, int epoch) {}
    }, () -> false, java.util.Set.of(), CompareOutputs.pathsDir(streamed));
    CompareOutputs.Written a = CompareOutputs.finish(CPU, streamed, report, false);
    assertNotNull(a.trajectory(), "run 0's paths give the PCA figure");

    // Each pair on its own, in compare's order, then written at once.
    CompareConfig merged = config(dir.resolve("merged"));
    CompareExperiment alone = new CompareExperiment(CPU, merged);
    List<RunResult[]> pairs = new ArrayList<>();
    for (int l = 0; l < 2; l++) for (int r = 0; r < 2; r++) pairs.add(alone.runPair(l, r, CompareOutputs.pathsDir(merged)));
    CompareOutputs.Written b = CompareOutputs.writeAll(CPU, merged, pairs, false);

    // The same numbers bit for bit (one thread count in this JVM); only the timings differ.
    for (int i = 0; i < full.runs().size(); i++) assertSameNumbers(full.runs().get(i), pairs.get(i / 2)[i % 2]);
    // The same files, equal line for line once the timing columns are set aside.
    assertEquals(files(streamed.outputDir()), files(merged.outputDir()));
    for (String same : List.of("runs.csv", "best.csv", "curves.csv", "settings.txt", "pca.csv", "trajectory.csv",
        "surface.csv", "paths/MB_lr0.05_run0.f32", "paths/OB_lr0.5_run0.f32")) {
      assertArrayEquals(Files.readAllBytes(streamed.outputDir().resolve(same)), Files.readAllBytes(merged.outputDir().resolve(same)),
          same);
    }
    assertEquals(withoutColumns(streamed.outputDir().resolve("final.csv"), "seconds_per_epoch"),
        withoutColumns(merged.outputDir().resolve("final.csv"), "seconds_per_epoch"));
    assertEquals(withoutColumns(streamed.outputDir().resolve("summary.csv"), "seconds_per_epoch", "seconds_per_epoch_ci98"),
        withoutColumns(merged.outputDir().resolve("summary.csv"), "seconds_per_epoch", "seconds_per_epoch_ci98"));
    assertEquals(a.table().replaceAll("\\s+", " "), b.table().replaceAll("\\s+", " "));

    // Written again from fewer pairs: the folder holds those only, and no trajectory is drawn.
    CompareOutputs.Written c = CompareOutputs.writeAll(CPU, merged, pairs.subList(0, 3), true);
    assertEquals(1 + 2 * 3, Files.readAllLines(merged.outputDir().resolve("final.csv")).size());
    assertEquals(null, c.trajectory());
  }

  static void assertSameNumbers(RunResult a, RunResult b) {
    String what = a.algorithm() + " lr " + a.learningRate() + " run " + a.run();
    assertEquals(a.algorithm(), b.algorithm());
    assertEquals(a.learningRate(), b.learningRate());
    assertEquals(a.run(), b.run());
    assertArrayEquals(a.epochs(), b.epochs(), what);
    assertArrayEquals(a.error(), b.error(), what); // exact: assertArrayEquals on doubles has no tolerance
    assertArrayEquals(a.gradNormMb(), b.gradNormMb(), what);
    assertArrayEquals(a.gradNormOb(), b.gradNormOb(), what);
    assertArrayEquals(a.cosAlong(), b.cosAlong(), what);
    assertArrayEquals(a.cosSeparate(), b.cosSeparate(), what);
    assertEquals(a.fIdentityFrobenius(), b.fIdentityFrobenius(), what);
    assertEquals(a.fIdentityTrace(), b.fIdentityTrace(), what);
    assertEquals(a.fIdentityRowSpread(), b.fIdentityRowSpread(), what);
    assertEquals(a.outputSpread(), b.outputSpread(), what);
    assertEquals(a.imageJacobian(), b.imageJacobian(), what);
  }

  private static List<String> files(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    }
  }

  /** The CSV's lines without the named columns (timings, which differ from run to run). */
  static List<String> withoutColumns(Path csv, String... names) throws Exception {
    List<String> lines = Files.readAllLines(csv);
    List<String> header = List.of(lines.get(0).split(","));
    List<Integer> drop = new ArrayList<>();
    for (String n : names) {
      assertNotEquals(-1, header.indexOf(n), n + " in " + csv);
      drop.add(header.indexOf(n));
    }
    return lines.stream().map(line -> {
      String[] cells = line.split(",", -1);
      List<String> kept = new ArrayList<>();
      for (int i = 0; i < cells.length; i++) if (!drop.contains(i)) kept.add(cells[i]);
      return String.join(",", kept);
    }).toList();
  }
}
