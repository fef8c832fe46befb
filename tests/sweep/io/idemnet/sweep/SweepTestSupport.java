package io.idemnet.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareExperiment;
import io.idemnet.experiments.CompareResult;
import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.apache.spark.SparkConf;

/** Shared by the sweep tests: small groups, compare's reference numbers, exact comparisons, bounded waits. */
final class SweepTestSupport {
  private SweepTestSupport() {}

  /** A small custom network's comparison: a few seconds of training per pair on a cold JVM at most. */
  static SweepGroup group(Path out, float[] lrs, int runs, int epochs, int steps) {
    return group(out, lrs, runs, epochs, steps, true);
  }

  static SweepGroup group(Path out, float[] lrs, int runs, int epochs, int steps, boolean pca) {
    return new SweepGroup("4x6x4", "custom", new int[] {4, 6, 4}, 0.2f, lrs, runs, epochs, steps, 64, "normal", 3, 64, 1,
        true, pca, 3, 0.5, "cpu", out.toString());
  }

  /** Local mode on loopback, without the web UI. */
  static SparkConf localConf(String master) {
    return new SparkConf().setMaster(master).setAppName("idemnet sweep test").set("spark.ui.enabled", "false")
        .set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1");
  }

  /**
   * compare's own loop ({@link CompareExperiment#run}) over the group, on one native thread as the
   * sweep's tasks run with spark.task.cpus = 1: the reference that sweep results must equal bit
   * for bit. As {MB, OB} pairs in compare's order; run 0's parameter paths go to {@code pathsDir}.
   */
  static List<RunResult[]> compareReference(SweepGroup g, Path pathsDir) {
    CpuBackend cpu = new CpuBackend();
    cpu.setNumThreads(1);
    CompareResult r = new CompareExperiment(cpu, g.config()).run(CompareExperiment.quiet(), () -> false, Set.of(), pathsDir);
    List<RunResult[]> out = new ArrayList<>();
    for (int i = 0; i < r.runs().size(); i += 2) out.add(new RunResult[] {r.runs().get(i), r.runs().get(i + 1)});
    return out;
  }

  /** Every number of a pair except the timings, exactly (assertArrayEquals on doubles compares bits, no tolerance). */
  static void assertSamePair(RunResult[] expected, SweepPair actual, String what) {
    assertSameRun(expected[0], actual.mb(), what + " MB");
    assertSameRun(expected[1], actual.ob(), what + " OB");
  }

  private static void assertSameRun(RunResult a, RunResult b, String what) {
    assertEquals(a.algorithm(), b.algorithm(), what);
    assertEquals(a.learningRate(), b.learningRate(), what);
    assertEquals(a.run(), b.run(), what);
    assertArrayEquals(a.epochs(), b.epochs(), what);
    assertArrayEquals(a.error(), b.error(), what);
    assertArrayEquals(a.gradNormMb(), b.gradNormMb(), what);
    assertArrayEquals(a.gradNormOb(), b.gradNormOb(), what);
    assertArrayEquals(a.cosAlong(), b.cosAlong(), what);
    assertArrayEquals(a.cosSeparate(), b.cosSeparate(), what);
    assertEquals(a.fIdentityFrobenius(), b.fIdentityFrobenius(), what);
    assertEquals(a.fIdentityTrace(), b.fIdentityTrace(), what);
    assertEquals(a.fIdentityRowSpread(), b.fIdentityRowSpread(), what);
    assertEquals(a.outputSpread(), b.outputSpread(), what);
    assertEquals(a.imageJacobian(), b.imageJacobian(), what);
    assertTrue(b.secondsPerEpoch() > 0, what + " timing recorded");
  }

  /** The sweep's saved results of a group, in compare's order; fails if any is missing or invalid. */
  static List<SweepPair> savedPairs(Path resultsDir, SweepGroup g) throws Exception {
    List<SweepPair> out = new ArrayList<>();
    for (SweepRun r : g.pairs()) {
      out.add(PairedRunFile.decode(Files.readAllBytes(resultsDir.resolve(r.fileName())), r.canonical()));
    }
    return out;
  }

  /** final.csv's rows counted by (algorithm, learning rate, run). */
  static Map<String, Integer> finalRowCounts(Path finalCsv) throws Exception {
    List<String> lines = Files.readAllLines(finalCsv);
    assertEquals("algorithm,learning_rate,run", lines.get(0).substring(0, "algorithm,learning_rate,run".length()));
    Map<String, Integer> counts = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] c = line.split(",");
      counts.merge(c[0] + " " + c[1] + " " + c[2], 1, Integer::sum);
    }
    return counts;
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

  /** Polls every 100 ms until the condition holds; false when the time is up. */
  static boolean await(Duration limit, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < end) {
      if (condition.getAsBoolean()) return true;
      Thread.sleep(100);
    }
    return condition.getAsBoolean();
  }

  /** The test JVM's class path (surefire's booter jar only names it in its manifest). */
  static String testClassPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  /**
   * A JVM of this JDK with the test class path and a heap of {@code maxHeap} (a Spark driver needs
   * at least 450 MB of it; the standalone daemons far less).
   */
  static List<String> javaCommand(String mainClass, String maxHeap, String... args) {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED", "-Xss4m", maxHeap, "-Djava.awt.headless=true",
        "-Dlog4j2.configurationFile=io/idemnet/sweep/log4j2-sweep.properties", "-cp", testClassPath(), mainClass));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** Kills a child process and everything it started (SIGKILL, as a crash would), waiting at most 30 s. */
  static void killTree(Process p) throws InterruptedException {
    List<ProcessHandle> all = new ArrayList<>(p.toHandle().descendants().toList());
    all.add(p.toHandle());
    for (ProcessHandle h : all) h.destroyForcibly();
    for (ProcessHandle h : all) {
      try {
        h.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("process " + h.pid() + " did not end within 30 s of SIGKILL", e);
      }
    }
  }
}
