package io.idemnet.sweep;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareExperiment;
import io.idemnet.experiments.CompareResult.RunResult;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What a task computes for its run, on the executor. Spark serializes it into every task, hence
 * Serializable. {@link #COMPARE} is the sweep's: {@code compare}'s own pair function.
 */
@FunctionalInterface
public interface PairRunner extends Serializable {
  /**
   * @param cpus the cores Spark gave this task ({@code spark.task.cpus}); native threads are
   *     pinned to this many so that the tasks sharing a machine do not oversubscribe it
   */
  SweepPair run(SweepRun run, int cpus);

  /**
   * Builds the run's backend, sets its kernel and OpenBLAS threads to {@code cpus} (the OpenMP
   * setting is per calling thread, so concurrent tasks in one executor each keep theirs; all of an
   * executor's tasks share one {@code spark.task.cpus}, so OpenBLAS's process-wide count agrees),
   * runs the pair as {@code compare} does, with run 0's parameter paths written to a temporary
   * folder on the executor and sent back as bytes.
   */
  PairRunner COMPARE = (run, cpus) -> {
    Path paths = null;
    try (Backend backend = Backends.named(run.group().backend())) {
      if (backend instanceof CpuBackend cpu) cpu.setNumThreads(cpus);
      paths = Files.createTempDirectory("idemnet-sweep-paths");
      RunResult[] pair = new CompareExperiment(backend, run.group().config()).runPair(run.lrIndex(), run.run(), paths);
      Map<String, byte[]> files = new HashMap<>();
      try (Stream<Path> list = Files.list(paths)) {
        for (Path f : list.toList()) files.put(f.getFileName().toString(), Files.readAllBytes(f));
      }
      return new SweepPair(pair[0], pair[1], files);
    } catch (IOException e) {
      throw new UncheckedIOException("parameter paths of " + run.label() + ": " + e.getMessage(), e);
    } finally {
      if (paths != null) deleteTree(paths);
    }
  };

  private static void deleteTree(Path dir) {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    } catch (IOException e) {
      // a temporary folder left behind is harmless; the result is what matters
    }
  }
}
