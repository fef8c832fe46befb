package io.idemnet.sweep;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareExperiment;
import io.idemnet.experiments.CompareExperiment.Paired;
import java.io.Serializable;

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
  Paired run(SweepRun run, int cpus);

  /**
   * Builds the run's backend, sets its kernel and OpenBLAS threads to {@code cpus} (the OpenMP
   * setting is per calling thread, so concurrent tasks in one executor each keep theirs; all of an
   * executor's tasks share one {@code spark.task.cpus}, so OpenBLAS's process-wide count agrees),
   * and runs the pair as {@code compare} does.
   */
  PairRunner COMPARE = (run, cpus) -> {
    Backend backend = Backends.named(run.group().backend());
    if (backend instanceof CpuBackend cpu) cpu.setNumThreads(cpus);
    return new CompareExperiment(backend, run.group().config()).runPair(run.lrIndex(), run.run());
  };
}
