package io.idemnet.sweep;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;

/** The executor side of one task: run the pair, encode it, and decide what a failure means. */
final class SweepTask {
  private SweepTask() {}

  /**
   * Runs {@code run} with {@code runner}. A failure on an attempt that Spark may still retry is
   * rethrown, so Spark retries the task (on any executor); on the last allowed attempt
   * ({@code attempt + 1 >= maxFailures}) it is returned as a failed outcome instead, so that the
   * job goes on with the other runs and the driver reports this one.
   */
  static TaskOutcome execute(SweepRun run, TaskContext task, int maxFailures, PairRunner runner) {
    long t0 = System.nanoTime();
    String executor = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
    int attempt = task.attemptNumber();
    try {
      byte[] encoded = PairedRunFile.encode(run.canonical(), runner.run(run, Math.max(1, task.cpus())));
      return new TaskOutcome(encoded, null, executor, attempt, (System.nanoTime() - t0) / 1e9);
    } catch (RuntimeException | Error e) {
      if (task.isInterrupted() || attempt + 1 < maxFailures) throw e;
      return new TaskOutcome(null, describe(e), executor, attempt, (System.nanoTime() - t0) / 1e9);
    }
  }

  /** The exception and its first stack frames (enough to place it; the executor log has the rest). */
  static String describe(Throwable e) {
    StringWriter s = new StringWriter();
    e.printStackTrace(new PrintWriter(s));
    String[] lines = s.toString().split("\n");
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(lines.length, 12); i++) out.append(lines[i].stripTrailing()).append('\n');
    if (lines.length > 12) out.append("\t... ").append(lines.length - 12).append(" more lines\n");
    return out.toString();
  }
}
