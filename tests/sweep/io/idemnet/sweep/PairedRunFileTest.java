package io.idemnet.sweep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Result files, run identities and the small pieces of the driver; no Spark job here. */
class PairedRunFileTest {
  private static SweepPair pair(SweepRun r) {
    return PairRunner.COMPARE.run(r, 1);
  }

  @Test
  void aResultSurvivesTheFileExactlyAndOnlyForItsOwnRun(@TempDir Path dir) throws Exception {
    SweepGroup g = SweepTestSupport.group(dir, new float[] {0.05f, 0.5f}, 2, 2, 2);
    SweepRun withTrajectory = g.pairs().get(0), without = g.pairs().get(1);
    for (SweepRun r : List.of(withTrajectory, without)) {
      SweepPair p = pair(r);
      assertEquals(r.run() == 0 ? Set.of("MB_lr0.05_run0.f32", "OB_lr0.05_run0.f32") : Set.of(), p.paths().keySet(),
          "run 0 keeps its parameter paths for the PCA figure");
      Path file = dir.resolve("results").resolve(r.fileName());
      PairedRunFile.write(file, PairedRunFile.encode(r.canonical(), p));
      SweepPair back = PairedRunFile.read(file, r.canonical(), why -> {}).orElseThrow();
      SweepTestSupport.assertSamePair(new RunResult[] {p.mb(), p.ob()}, back, r.label());
      assertEquals(p.mb().secondsPerEpoch(), back.mb().secondsPerEpoch(), "timings kept too");
      for (String name : p.paths().keySet()) assertArrayEquals(p.paths().get(name), back.paths().get(name), name);
    }
    try (Stream<Path> files = Files.list(dir.resolve("results"))) {
      assertEquals(2, files.count(), "no temporary files left behind");
    }

    byte[] good = Files.readAllBytes(dir.resolve("results").resolve(withTrajectory.fileName()));
    List<String> reasons = new ArrayList<>();
    Path bad = dir.resolve("bad.pair");
    // Truncated (as by a crash without the atomic rename), one flipped bit, another run's file, empty.
    Files.write(bad, java.util.Arrays.copyOf(good, good.length / 2));
    assertTrue(PairedRunFile.read(bad, withTrajectory.canonical(), reasons::add).isEmpty());
    byte[] flipped = good.clone();
    flipped[flipped.length / 3] ^= 0x10;
    Files.write(bad, flipped);
    assertTrue(PairedRunFile.read(bad, withTrajectory.canonical(), reasons::add).isEmpty());
    Files.write(bad, good);
    assertTrue(PairedRunFile.read(bad, without.canonical(), reasons::add).isEmpty());
    Files.write(bad, new byte[0]);
    assertTrue(PairedRunFile.read(bad, withTrajectory.canonical(), reasons::add).isEmpty());
    assertEquals(4, reasons.size(), reasons.toString());
    assertTrue(reasons.get(0).contains("checksum"), reasons.get(0));
    assertTrue(reasons.get(2).contains("another run"), reasons.get(2));
    // Absent is not invalid: no reason given.
    assertEquals(Optional.empty(), PairedRunFile.read(dir.resolve("none.pair"), without.canonical(), reasons::add));
    assertEquals(4, reasons.size());
    assertThrows(PairedRunFile.InvalidResultException.class, () -> PairedRunFile.decode(flipped, withTrajectory.canonical()));
  }

  @Test
  void runIdentitiesFollowEverythingThatChangesTheNumbers(@TempDir Path dir) {
    SweepGroup g = SweepTestSupport.group(dir, new float[] {0.05f, 0.5f}, 3, 2, 2);
    Set<String> names = new HashSet<>(), canonicals = new HashSet<>();
    for (SweepRun r : g.pairs()) {
      names.add(r.fileName());
      canonicals.add(r.canonical());
      assertTrue(r.fileName().matches("4x6x4-lr0\\.(05|5)-run[0-2]-[0-9a-f]{16}\\.pair"), r.fileName());
    }
    assertEquals(6, names.size());
    assertEquals(6, canonicals.size());
    SweepRun first = g.pairs().get(0);
    assertEquals("4x6x4-lr0.05-run0-", first.fileName().substring(0, 18));
    assertTrue(first.canonical().contains(" run=0 seed=3 ") && first.canonical().contains("parameter_paths=true"),
        first.canonical());

    // The output folder and the group's name are not part of a run's identity; the settings are.
    SweepGroup moved = new SweepGroup("other", "custom", new int[] {4, 6, 4}, 0.2f, new float[] {0.05f, 0.5f}, 3, 2, 2, 64,
        "normal", 3, 64, 1, true, true, 3, 0.5, "cpu", dir.resolve("elsewhere").toString());
    assertEquals(first.fileName(), moved.pairs().get(0).fileName());
    SweepGroup moreEpochs = new SweepGroup("4x6x4", "custom", new int[] {4, 6, 4}, 0.2f, new float[] {0.05f, 0.5f}, 3, 3, 2,
        64, "normal", 3, 64, 1, true, true, 3, 0.5, "cpu", dir.toString());
    assertNotEquals(first.fileName(), moreEpochs.pairs().get(0).fileName());
    // A pair's seeds follow from (seed, run) alone: more runs or another learning-rate list leave it the same run.
    SweepGroup fourRuns = SweepTestSupport.group(dir, new float[] {0.5f}, 4, 2, 2);
    assertEquals(g.pairs().get(3).canonical(), fourRuns.pairs().get(0).canonical(), "lr 0.5 run 0 in both");
    assertEquals(g.pairs().get(3).fileName(), fourRuns.pairs().get(0).fileName());
  }

  @Test
  void attemptsPerTaskFollowSparksRules() {
    assertEquals(1, SparkSweep.maxTaskFailures(new SparkConf().setMaster("local[4]")));
    assertEquals(1, SparkSweep.maxTaskFailures(new SparkConf().setMaster("local")));
    assertEquals(2, SparkSweep.maxTaskFailures(new SparkConf().setMaster("local[*,2]")));
    assertEquals(3, SparkSweep.maxTaskFailures(new SparkConf().setMaster("local[2, 3]")));
    assertEquals(4, SparkSweep.maxTaskFailures(new SparkConf().setMaster("spark://127.0.0.1:7077")));
    assertEquals(6, SparkSweep.maxTaskFailures(new SparkConf().setMaster("spark://h:7077").set("spark.task.maxFailures", "6")));
  }

  @Test
  void progressCountsResumedRunsAndEstimatesFromThisSessionsRate() {
    long[] now = {0};
    SweepProgress p = new SweepProgress(10, 4, () -> now[0]);
    assertEquals("sweep: 4/10 runs done (4 resumed), 0 failed, elapsed 0:00, ETA ?", p.line());
    now[0] = 30_000_000_000L; // 30 s for the first two: 15 s each, 4 to go -> 60 s
    p.finished(true, "a");
    String line = p.finished(false, "b");
    assertEquals("sweep: 5/10 runs done (4 resumed), 1 failed, elapsed 0:30, ETA 1:00  [b]", line);
    assertEquals("1:01:01", SweepProgress.duration(3661));
  }
}
