package io.idemnet.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.experiments.CompareResult.RunResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sweeps in Spark's local mode: the same numbers and files as compare, failures, resuming. */
@Tag("spark")
class LocalSweepTest {
  private record Outcome(int code, String out, String err) {}

  private static Outcome sweep(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = SweepMain.execute(args);
      return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  /** The grid of SweepTestSupport.group(out, {0.05, 0.5}, runs, epochs, steps) on the command line. */
  private static List<String> gridArgs(int runs, int epochs, int steps, String lrs) {
    return List.of("--dims", "4,6,4", "--lr", lrs, "--runs", Integer.toString(runs), "--epochs", Integer.toString(epochs),
        "--steps", Integer.toString(steps), "--batch", "64", "--probe", "64", "--seed", "3", "--pca-grid", "3",
        "--backend", "cpu");
  }

  private static String[] args(List<String> grid, String... more) {
    List<String> all = new ArrayList<>(grid);
    all.addAll(List.of(more));
    return all.toArray(String[]::new);
  }

  @Test
  void sweepWritesCompareFilesWithCompareNumbersBitForBit(@TempDir Path dir) throws Exception {
    List<String> grid = gridArgs(2, 3, 2, "0.05,0.5");
    Path compareDir = dir.resolve("compare"), sweepDir = dir.resolve("sweep");
    List<String> compare = new ArrayList<>(List.of("compare"));
    compare.addAll(grid);
    assertEquals(0, io.idemnet.cli.Main.execute(args(compare, "--threads", "1", "--out", compareDir.toString())));
    Outcome s = sweep(args(grid, "--master", "local[2]", "--out", sweepDir.toString()));
    assertEquals(0, s.code(), s.out() + s.err());
    assertTrue(s.err().contains("sweep: 4/4 runs done"), s.err());
    assertTrue(s.out().contains("4 computed now, 0 resumed, 0 failed"), s.out());

    // compare's files (paths/ included), and the sweep's results/ besides.
    List<String> compareFiles = tree(compareDir), sweepFiles = new ArrayList<>(tree(sweepDir));
    assertTrue(sweepFiles.removeIf(f -> f.startsWith("results/")));
    assertEquals(compareFiles, sweepFiles);
    assertTrue(compareFiles.containsAll(List.of("runs.csv", "final.csv", "summary.csv", "best.csv", "curves.csv",
        "pca.csv", "trajectory.csv", "surface.csv", "settings.txt", "paths/MB_lr0.05_run0.f32")), compareFiles.toString());
    for (String f : compareFiles) {
      if (f.endsWith(".png") || f.equals("final.csv") || f.equals("summary.csv")) continue;
      assertTrue(java.util.Arrays.equals(Files.readAllBytes(compareDir.resolve(f)), Files.readAllBytes(sweepDir.resolve(f))),
          f + " the same");
    }
    assertEquals(SweepTestSupport.withoutColumns(compareDir.resolve("final.csv"), "seconds_per_epoch"),
        SweepTestSupport.withoutColumns(sweepDir.resolve("final.csv"), "seconds_per_epoch"));
    assertEquals(SweepTestSupport.withoutColumns(compareDir.resolve("summary.csv"), "seconds_per_epoch", "seconds_per_epoch_ci98"),
        SweepTestSupport.withoutColumns(sweepDir.resolve("summary.csv"), "seconds_per_epoch", "seconds_per_epoch_ci98"));

    // The CSVs round to 6 digits; the saved results are the doubles themselves: equal to compare's loop bit for bit.
    SweepGroup g = SweepTestSupport.group(sweepDir, new float[] {0.05f, 0.5f}, 2, 3, 2);
    List<RunResult[]> reference = SweepTestSupport.compareReference(g, dir.resolve("reference-paths"));
    List<SweepPair> saved = SweepTestSupport.savedPairs(sweepDir.resolve("results"), g);
    for (int i = 0; i < reference.size(); i++) SweepTestSupport.assertSamePair(reference.get(i), saved.get(i), g.pairs().get(i).label());
  }

  /**
   * Injected failures: lr 0.05 run 1 fails on its first attempt only (Spark's retry succeeds);
   * lr 0.5 run 1 fails on both attempts of local[2,2] (reported; the others finish). Then the same
   * sweep resumes: the three saved runs are left alone and only the failed one is computed.
   */
  @Test
  void aFailedRunIsRetriedThenReportedWhileTheOthersFinish(@TempDir Path dir) throws Exception {
    SweepGroup g = SweepTestSupport.group(dir, new float[] {0.05f, 0.5f}, 2, 2, 2);
    Path results = dir.resolve("results");
    List<String> log = Collections.synchronizedList(new ArrayList<>());
    SparkSweep.Outcome first, second;
    Map<String, byte[]> before = new HashMap<>();
    Map<String, FileTime> times = new HashMap<>();
    try (JavaSparkContext sc = new JavaSparkContext(SweepTestSupport.localConf("local[2,2]"))) {
      first = SparkSweep.run(sc, g.pairs(), results, log::add, flakyRunner());
      for (Path p : list(results)) {
        before.put(p.getFileName().toString(), Files.readAllBytes(p));
        times.put(p.getFileName().toString(), Files.getLastModifiedTime(p));
      }
      second = SparkSweep.run(sc, g.pairs(), results, log::add, PairRunner.COMPARE);
    }
    assertEquals(4, first.total());
    assertEquals(3, first.computed(), log.toString());
    assertEquals(1, first.failures().size(), log.toString());
    SparkSweep.Failure f = first.failures().get(0);
    assertEquals("4x6x4 lr 0.5 run 1", f.run().label());
    assertEquals(2, f.attempts());
    assertTrue(f.error().contains("injected failure of lr 0.5 run 1"), f.error());
    assertTrue(log.stream().anyMatch(l -> l.contains("FAILED after 2 attempt(s)")), log.toString());
    assertEquals(3, before.size(), "no file for the failed run: " + before.keySet());
    assertFalse(before.containsKey(g.pairs().get(3).fileName()));

    assertEquals(3, second.resumed());
    assertEquals(1, second.computed());
    assertTrue(second.failures().isEmpty());
    for (Map.Entry<String, byte[]> e : before.entrySet()) {
      Path p = results.resolve(e.getKey());
      assertTrue(java.util.Arrays.equals(e.getValue(), Files.readAllBytes(p)), e.getKey() + " untouched");
      assertEquals(times.get(e.getKey()), Files.getLastModifiedTime(p), e.getKey() + " not rewritten");
    }
    List<RunResult[]> reference = SweepTestSupport.compareReference(g, dir.resolve("reference-paths"));
    List<SweepPair> saved = SweepTestSupport.savedPairs(results, g);
    for (int i = 0; i < reference.size(); i++) SweepTestSupport.assertSamePair(reference.get(i), saved.get(i), g.pairs().get(i).label());
  }

  /** Static, so that the serialized closure holds no test instance. */
  private static PairRunner flakyRunner() {
    return (run, cpus) -> {
      if (run.lrIndex() == 0 && run.run() == 1 && TaskContext.get().attemptNumber() == 0) {
        throw new IllegalStateException("injected first-attempt failure");
      }
      if (run.lrIndex() == 1 && run.run() == 1) throw new IllegalStateException("injected failure of lr 0.5 run 1");
      return PairRunner.COMPARE.run(run, cpus);
    };
  }

  /**
   * A driver (its own JVM, local[1]) killed with SIGKILL after two runs were saved; the same
   * command again computes only the runs that were missing and leaves the saved files as they were.
   */
  @Test
  void resumeAfterAKilledDriverSkipsTheFinishedRuns(@TempDir Path dir) throws Exception {
    List<String> grid = new ArrayList<>(gridArgs(8, 60, 20, "0.05"));
    grid.addAll(List.of("--pca", "off"));
    Path out = dir.resolve("sweep"), results = out.resolve("results");
    List<String> command = SweepTestSupport.javaCommand("io.idemnet.sweep.SweepMain", "-Xmx768m",
        args(grid, "--master", "local[1]", "--out", out.toString()));
    long t0 = System.nanoTime();
    Process driver = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("driver.log").toFile())
        .start();
    Map<String, byte[]> before = new HashMap<>();
    Map<String, FileTime> times = new HashMap<>();
    try {
      boolean two = SweepTestSupport.await(Duration.ofMinutes(4), () -> countPairs(results) >= 2 || !driver.isAlive());
      assertTrue(two && driver.isAlive(), "the driver saved 2 runs and was still running; its log:\n" + log(dir));
    } finally {
      SweepTestSupport.killTree(driver);
    }
    for (Path p : list(results)) {
      if (!p.getFileName().toString().endsWith(".pair")) continue;
      before.put(p.getFileName().toString(), Files.readAllBytes(p));
      times.put(p.getFileName().toString(), Files.getLastModifiedTime(p));
    }
    int saved = before.size();
    phase(t0, "driver killed with " + saved + " runs saved");
    assertTrue(saved >= 2 && saved < 8, saved + " runs saved when the driver was killed; the test needs some left over");

    Outcome o = sweep(args(grid, "--master", "local[2]", "--out", out.toString()));
    assertEquals(0, o.code(), o.out() + o.err());
    phase(t0, "second session finished");
    assertTrue(o.out().contains("8 runs: " + (8 - saved) + " computed now, " + saved + " resumed, 0 failed"), o.out());
    for (Map.Entry<String, byte[]> e : before.entrySet()) {
      Path p = results.resolve(e.getKey());
      assertTrue(java.util.Arrays.equals(e.getValue(), Files.readAllBytes(p)), e.getKey() + " untouched");
      assertEquals(times.get(e.getKey()), Files.getLastModifiedTime(p), e.getKey() + " not rewritten");
    }
    assertEquals(8, countPairs(results));
    assertEquals(8, list(results).size(), "no temporary files left: " + list(results));
    Map<String, Integer> rows = SweepTestSupport.finalRowCounts(out.resolve("final.csv"));
    assertEquals(16, rows.size());
    assertTrue(rows.values().stream().allMatch(c -> c == 1), rows.toString());
    SweepGroup g = SweepTestSupport.group(out, new float[] {0.05f}, 8, 60, 20, false);
    List<RunResult[]> reference = SweepTestSupport.compareReference(g, null);
    List<SweepPair> all = SweepTestSupport.savedPairs(results, g);
    for (int i = 0; i < reference.size(); i++) SweepTestSupport.assertSamePair(reference.get(i), all.get(i), g.pairs().get(i).label());
  }

  /** Where the test's time goes (on stderr): starting JVMs and Spark dominates on a loaded machine. */
  private static void phase(long t0, String what) {
    System.err.printf(java.util.Locale.ROOT, "resume test: %s after %.1f s%n", what, (System.nanoTime() - t0) / 1e9);
  }

  private static String log(Path dir) {
    try {
      return Files.readString(dir.resolve("driver.log"));
    } catch (java.io.IOException e) {
      return "(no log: " + e + ")";
    }
  }

  private static int countPairs(Path results) {
    try {
      return (int) list(results).stream().filter(p -> p.getFileName().toString().endsWith(".pair")).count();
    } catch (java.io.UncheckedIOException e) {
      return 0;
    }
  }

  private static List<Path> list(Path dir) {
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> files = Files.list(dir)) {
      return files.sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Every file under dir, as relative paths, sorted. */
  private static List<String> tree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
