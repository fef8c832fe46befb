package io.idemnet.experiments;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CompareExperimentTest {
  private static final Backend CPU = new CpuBackend();

  private static CompareConfig config(Path dir, CompareConfig.DataSpec data) {
    return new CompareConfig("custom", new int[] {4, 4}, 0.2f, List.of(0.05f, 0.5f), 2, 3, 2, 32, data, 7, 64, true,
        true, 3, dir);
  }

  /** A stop request between runs keeps exactly the completed runs, in the files and in the result. */
  @Test
  void stoppingKeepsCompletedRunsOnly(@TempDir Path dir) throws Exception {
    CompareConfig cfg = config(dir, new CompareConfig.DataSpec.Normal());
    CompareReport report = new CompareReport(dir);
    AtomicInteger finished = new AtomicInteger();
    CompareResult r = new CompareExperiment(CPU, cfg).run(new CompareExperiment.Listener() {
      @Override
      public void runFinished(RunResult mb, RunResult ob) {
        report.append(mb, ob);
        finished.incrementAndGet();
      }

      @Override
      public void progress(int lrIndex, int run, int epoch) {}
    }, () -> finished.get() >= 1);
    assertTrue(r.interrupted());
    assertEquals(2, r.runs().size(), "one MB and one OB run");
    assertEquals(1 + 2 * 4, Files.readAllLines(dir.resolve("runs.csv")).size());
    report.finish(r);
    assertTrue(Files.readString(dir.resolve("summary.json")).contains("\"interrupted\": true"));
  }

  /** The same seed gives the same numbers; MB and OB of a pair start from the same parameters. */
  @Test
  void runsAreReproducibleAndPaired(@TempDir Path dir) {
    for (CompareConfig.DataSpec data : List.of(new CompareConfig.DataSpec.Normal(), new CompareConfig.DataSpec.Uniform(2f),
        new CompareConfig.DataSpec.Fixed(100))) {
      CompareResult a = new CompareExperiment(CPU, config(dir, data)).run(CompareExperiment.quiet(), () -> false);
      CompareResult b = new CompareExperiment(CPU, config(dir, data)).run(CompareExperiment.quiet(), () -> false);
      assertFalse(a.interrupted());
      assertEquals(8, a.runs().size());
      for (int i = 0; i < a.runs().size(); i++) {
        assertArrayEquals(a.runs().get(i).errorPerEpoch(), b.runs().get(i).errorPerEpoch(), data + " run " + i);
      }
      RunResult mb = a.runs().get(0), ob = a.runs().get(1);
      assertEquals(mb.initialError(), ob.initialError(), "paired runs share their initialisation");
      assertEquals(2, a.trajectories().size(), "run 0 of each learning rate");
      for (RunResult r : a.runs()) {
        for (double c : r.cosAlong()) assertTrue(c >= 0 && c <= 1 + 1e-9, "cosine in [0, 1]: " + c);
      }
    }
  }
}
