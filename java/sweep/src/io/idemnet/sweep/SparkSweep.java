package io.idemnet.sweep;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.RDD;
import scala.Function2;
import scala.reflect.ClassTag$;
import scala.runtime.BoxedUnit;

/**
 * Runs a sweep's pairs as Spark tasks, one task per pair, and keeps each result as a file in
 * {@code resultsDir} named by {@link SweepRun#fileName()}.
 *
 * <p>Results travel back to the driver with the task (Spark's result handler, called as each
 * task finishes), and the driver writes them atomically: executors need no shared file system,
 * and a finished run is on disk as soon as it is reported, whatever happens to executors or to
 * the driver afterwards. Runs whose file is already there and valid are not submitted again.
 */
public final class SparkSweep {
  private SparkSweep() {}

  /** A run whose last allowed attempt failed. */
  public record Failure(SweepRun run, String error, String executor, int attempts) {}

  /**
   * @param total runs in the sweep
   * @param resumed runs skipped because a valid result was already on disk
   * @param computed runs computed and saved in this session
   * @param failures runs that failed on every allowed attempt (no result file written)
   */
  public record Outcome(int total, int resumed, int computed, List<Failure> failures) {}

  /**
   * Runs every pair of {@code runs} that has no valid result in {@code resultsDir} yet, printing a
   * progress line to {@code log} as each finishes. Blocks until all have finished or failed.
   *
   * @throws org.apache.spark.SparkException (unchecked here) when Spark aborts the job, e.g. after
   *     too many lost executors; the runs finished before that are saved
   */
  public static Outcome run(JavaSparkContext sc, List<SweepRun> runs, Path resultsDir, Consumer<String> log,
      PairRunner runner) {
    List<SweepRun> pending = pending(runs, resultsDir, log);
    int resumed = runs.size() - pending.size();
    SweepProgress progress = new SweepProgress(runs.size(), resumed, System::nanoTime);
    List<Failure> failures = new ArrayList<>();
    if (pending.isEmpty()) {
      log.accept(progress.line());
      return new Outcome(runs.size(), resumed, 0, failures);
    }
    int maxFailures = maxTaskFailures(sc.getConf());
    log.accept(String.format(java.util.Locale.ROOT,
        "sweep: %d runs, %d to compute%s; master %s, %d core(s) per task, up to %d attempt(s) per run", runs.size(),
        pending.size(), resumed > 0 ? " (" + resumed + " resumed from " + resultsDir + ")" : "", sc.master(),
        sc.getConf().getInt("spark.task.cpus", 1), maxFailures));

    RDD<SweepRun> rdd = sc.parallelize(pending, pending.size()).rdd();
    Function2<TaskContext, scala.collection.Iterator<SweepRun>, TaskOutcome> task = taskFunction(maxFailures, runner);
    Function2<Object, TaskOutcome, BoxedUnit> onResult = (index, outcome) -> {
      SweepRun r = pending.get((Integer) index);
      if (outcome.succeeded()) {
        save(resultsDir, r, outcome.result());
        log.accept(progress.finished(true, String.format(java.util.Locale.ROOT, "%s: %.1f s on executor %s", r.label(),
            outcome.seconds(), outcome.executor())));
      } else {
        synchronized (failures) {
          failures.add(new Failure(r, outcome.error(), outcome.executor(), outcome.attempt() + 1));
        }
        log.accept(progress.finished(false, r.label() + " FAILED after " + (outcome.attempt() + 1) + " attempt(s): "
            + outcome.error().lines().findFirst().orElse("")));
      }
      return BoxedUnit.UNIT;
    };
    sc.setJobDescription("idemnet sweep: " + pending.size() + " runs");
    sc.sc().runJob(rdd, task, onResult, ClassTag$.MODULE$.apply(TaskOutcome.class));
    synchronized (failures) {
      return new Outcome(runs.size(), resumed, progress.computed(), List.copyOf(failures));
    }
  }

  /**
   * The runs without a valid result in {@code resultsDir}, in the order given (an invalid file is
   * reported to {@code log} and its run computed again). Also removes the temporary files of
   * writes that a killed driver left behind.
   */
  public static List<SweepRun> pending(List<SweepRun> runs, Path resultsDir, Consumer<String> log) {
    removeStaleTemporaryFiles(resultsDir);
    List<SweepRun> pending = new ArrayList<>();
    for (SweepRun r : runs) {
      Path file = resultsDir.resolve(r.fileName());
      if (PairedRunFile.read(file, r.canonical(), why -> log.accept("sweep: recomputing, invalid result " + why)).isEmpty()) {
        pending.add(r);
      }
    }
    return pending;
  }

  /** Built in a static method so that the closure Spark serializes captures only these two values. */
  @SuppressWarnings("unchecked")
  private static Function2<TaskContext, scala.collection.Iterator<SweepRun>, TaskOutcome> taskFunction(int maxFailures,
      PairRunner runner) {
    return (Function2<TaskContext, scala.collection.Iterator<SweepRun>, TaskOutcome> & Serializable)
        (context, partition) -> SweepTask.execute(partition.next(), context, maxFailures, runner);
  }

  /** Checks what came back (it must decode as this run's result) and writes it atomically. */
  private static void save(Path resultsDir, SweepRun r, byte[] encoded) {
    try {
      PairedRunFile.decode(encoded, r.canonical());
    } catch (PairedRunFile.InvalidResultException e) {
      throw new IllegalStateException("task for " + r.label() + " returned an invalid result: " + e.getMessage(), e);
    }
    PairedRunFile.write(resultsDir.resolve(r.fileName()), encoded);
  }

  /** Reads the results of {@code runs} that are on disk and valid, in the order given. */
  public static List<SweepPair> load(Path resultsDir, List<SweepRun> runs) {
    List<SweepPair> out = new ArrayList<>();
    for (SweepRun r : runs) PairedRunFile.read(resultsDir.resolve(r.fileName()), r.canonical(), why -> {}).ifPresent(out::add);
    return out;
  }

  private static final Pattern LOCAL_WITH_RETRIES = Pattern.compile("local\\[\\s*(\\d+|\\*)\\s*,\\s*(\\d+)\\s*\\]");

  /**
   * How many attempts Spark gives a task: local mode retries only as {@code local[N,F]} (F
   * attempts; {@code local} and {@code local[N]} give one), other masters take
   * {@code spark.task.maxFailures} (default 4).
   */
  static int maxTaskFailures(SparkConf conf) {
    String master = conf.get("spark.master", "local");
    Matcher m = LOCAL_WITH_RETRIES.matcher(master.trim());
    if (m.matches()) return Math.max(1, Integer.parseInt(m.group(2)));
    if (master.equals("local") || master.startsWith("local[")) return 1;
    return Math.max(1, conf.getInt("spark.task.maxFailures", 4));
  }

  /** Temporary files of writes that a killed driver left behind (the renamed ones are whole). */
  private static void removeStaleTemporaryFiles(Path resultsDir) {
    if (!Files.isDirectory(resultsDir)) return;
    try (Stream<Path> files = Files.list(resultsDir)) {
      for (Path p : files.filter(p -> p.getFileName().toString().matches(".*\\.pair\\.tmp-\\d+-\\d+")).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + resultsDir + ": " + e.getMessage(), e);
    }
  }
}
