package io.idemnet.sweep;

import io.idemnet.cli.CompareOptions;
import io.idemnet.experiments.CompareConfig;
import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareOutputs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "idemnet sweep", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run a grid of MB-vs-OB comparisons as Apache Spark tasks: every (network, data, seed, epochs, steps) "
        + "is one comparison, written where and as `idemnet compare` writes it (runs.csv, final.csv, summary.json, "
        + "figures); each of its learning rates x runs is one task, a paired MB/OB run as compare computes it.",
        "Each finished run is kept under OUT/results/; the same command again skips the runs already there. "
            + "Runs in Spark's local mode by default; --master spark://HOST:7077 (or spark-submit) runs on a cluster."})
final class SweepCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin CompareOptions options;

  @Option(names = "--backend", description = "cpu or reference (cuda and auto are accepted; auto resolves per executor) "
      + "(default: ${DEFAULT-VALUE})", defaultValue = "cpu")
  String backendName;

  @Option(names = "--out", description = "output folder; give the same one to resume (default: runs/sweep-<nets>-<time>)")
  Path out;

  @Option(names = "--master", description = "Spark master: local[N], local[N,ATTEMPTS], spark://HOST:PORT, ... "
      + "(default: spark-submit's, else local[*,2]: all cores, one retry)")
  String master;

  @Option(names = "--task-cpus", description = "cores per task (spark.task.cpus); each task runs its native kernels "
      + "and OpenBLAS on this many threads (default: 1, or the conf's)")
  Integer taskCpus;

  @Option(names = "--conf", description = "a Spark setting KEY=VALUE (repeatable), e.g. spark.task.maxFailures=4")
  List<String> conf;

  @Option(names = "--ui", negatable = false, description = "start the Spark web UI (off by default)")
  boolean ui;

  @Override
  public Integer call() {
    List<SweepGroup> groups = groups();
    Path root = root();
    Path resultsDir = root.resolve("results");
    List<SweepRun> runs = new ArrayList<>();
    for (SweepGroup g : groups) runs.addAll(g.pairs());
    var out = spec.commandLine().getOut();
    var err = spec.commandLine().getErr();
    out.printf(Locale.ROOT, "sweep: %d comparison(s), %d paired runs -> %s%n", groups.size(), runs.size(), root);

    SparkConf sparkConf = sparkConf();
    if (SparkSweep.pending(runs, resultsDir, err::println).isEmpty()) {
      // Everything is already computed: write the files without starting Spark.
      for (SweepGroup g : groups) writeGroup(g, resultsDir, out);
      writeFailures(root, List.of(), err);
      out.printf(Locale.ROOT, "sweep: %d runs: 0 computed now, %d resumed, 0 failed%n", runs.size(), runs.size());
      return 0;
    }
    SparkSweep.Outcome outcome;
    AtomicBoolean interrupted = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    try (JavaSparkContext sc = new JavaSparkContext(sparkConf)) {
      // Ctrl-C: cancel the job (finished runs are already saved) and let the main thread report.
      Thread hook = new Thread(() -> {
        interrupted.set(true);
        sc.cancelAllJobs();
        try {
          finished.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        outcome = SparkSweep.run(sc, runs, resultsDir, err::println, PairRunner.COMPARE);
      } catch (RuntimeException e) {
        long saved = runs.stream().filter(r -> Files.exists(resultsDir.resolve(r.fileName()))).count();
        err.println("sweep: " + (interrupted.get() ? "interrupted" : "Spark stopped the job: " + e.getMessage()));
        err.println("sweep: " + saved + " of " + runs.size() + " runs are saved in " + resultsDir
            + "; the same command with --out " + root + " resumes");
        return interrupted.get() ? 130 : 1;
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: nothing to remove
        }
      }
    } finally {
      finished.countDown();
    }

    for (SweepGroup g : groups) writeGroup(g, resultsDir, out);
    writeFailures(root, outcome.failures(), err);
    out.printf(Locale.ROOT, "sweep: %d runs: %d computed now, %d resumed, %d failed%n", outcome.total(), outcome.computed(),
        outcome.resumed(), outcome.failures().size());
    return outcome.failures().isEmpty() ? 0 : 1;
  }

  /**
   * Compare's files for one comparison, from the results on disk (all of them, old and new): run
   * 0's parameter paths into its paths/ folder, then runs.csv, final.csv, the summaries, the
   * trajectory and the figures as {@code compare} writes them.
   */
  private static void writeGroup(SweepGroup g, Path resultsDir, PrintWriter out) {
    List<SweepPair> pairs = SparkSweep.load(resultsDir, g.pairs());
    CompareConfig config = g.config();
    out.printf(Locale.ROOT, "%n%s %s: %d of %d pairs of runs -> %s%n", g.name(), java.util.Arrays.toString(g.dims()),
        pairs.size(), g.pairs().size(), config.outputDir());
    if (pairs.isEmpty()) return;
    List<RunResult[]> runs = new ArrayList<>();
    Path paths = CompareOutputs.pathsDir(config);
    for (SweepPair p : pairs) {
      runs.add(new RunResult[] {p.mb(), p.ob()});
      for (var f : p.paths().entrySet()) PairedRunFile.write(paths.resolve(f.getKey()), f.getValue());
    }
    // The trajectory's loss surface is evaluated here, on the driver, on the comparison's backend.
    try (Backend backend = Backends.named(g.backend())) {
      CompareOutputs.Written w = CompareOutputs.writeAll(backend, config, runs, pairs.size() < g.pairs().size());
      out.print(w.table());
      out.println("numbers: " + config.outputDir().resolve("final.csv") + ", runs.csv, summary.csv, best.csv, curves.csv"
          + (w.trajectory() != null ? ", pca.csv, trajectory.csv, surface.csv" : ""));
      out.println("figures: " + w.figures().stream().map(p -> p.getFileName().toString()).toList());
    }
  }

  /** failures.txt beside the results: each failed run's configuration and error (removed when none failed). */
  private static void writeFailures(Path root, List<SparkSweep.Failure> failures, PrintWriter err) {
    Path file = root.resolve("failures.txt");
    try {
      if (failures.isEmpty()) {
        Files.deleteIfExists(file);
        return;
      }
      StringBuilder text = new StringBuilder();
      for (SparkSweep.Failure f : failures) {
        text.append("run: ").append(f.run().label()).append('\n')
            .append("config: ").append(f.run().canonical()).append('\n')
            .append("attempts: ").append(f.attempts()).append(", last on executor ").append(f.executor()).append('\n')
            .append("error: ").append(f.error().strip().replace("\n", "\n  ")).append("\n\n");
      }
      Files.writeString(file, text, StandardCharsets.UTF_8);
      err.printf(Locale.ROOT, "%nsweep: %d run(s) failed on every attempt (the others finished); details in %s:%n%s",
          failures.size(), file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  private SparkConf sparkConf() {
    SparkConf c = new SparkConf(); // picks up spark.* system properties, as spark-submit passes them
    if (master != null) c.setMaster(master);
    else if (!c.contains("spark.master")) c.setMaster("local[*,2]");
    c.setAppName("idemnet sweep");
    if (conf != null) {
      for (String kv : conf) {
        int eq = kv.indexOf('=');
        if (eq <= 0) throw new ParameterException(spec.commandLine(), "--conf needs KEY=VALUE, got '" + kv + "'");
        c.set(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
      }
    }
    if (taskCpus != null) {
      if (taskCpus < 1) throw new ParameterException(spec.commandLine(), "--task-cpus must be >= 1");
      c.set("spark.task.cpus", Integer.toString(taskCpus));
    }
    String cpus = c.get("spark.task.cpus", "1");
    c.setIfMissing("spark.ui.enabled", Boolean.toString(ui));
    // Native libraries that read these at load time start with the task's share, before setNumThreads.
    c.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", cpus);
    c.setIfMissing("spark.executorEnv.OPENBLAS_NUM_THREADS", cpus);
    // Results are written as they arrive and not kept, so the cap on their total size (1g) would
    // only stop long sweeps; one result is at most a few MB.
    c.setIfMissing("spark.driver.maxResultSize", "0");
    c.setIfMissing("spark.executor.extraJavaOptions", "--enable-native-access=ALL-UNNAMED -Xss4m");
    if (c.get("spark.master").startsWith("local")) {
      c.setIfMissing("spark.driver.host", "127.0.0.1");
      c.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    } else {
      // Executors of a cluster load the sweep's classes from the jars the launcher names.
      String jars = System.getProperty("idemnet.sweep.jars");
      if (jars != null && !jars.isBlank()) c.setIfMissing("spark.jars", jars);
    }
    return c;
  }

  /** The sweep's folder: its results/, failures.txt, and the comparison (or one folder per comparison). */
  private Path root() {
    return out;
  }

  /** The grid: one comparison per network, data, seed, epochs and steps, in that nesting order. */
  private List<SweepGroup> groups() {
    CommandLine cl = spec.commandLine();
    Map<String, int[]> networks = options.networks(cl); // B1..B4, or the custom dims joined by 'x'
    List<String> data = options.data();
    List<Long> seeds = options.seeds();
    List<Integer> epochs = options.epochs(), steps = options.steps();
    int count = networks.size() * data.size() * seeds.size() * epochs.size() * steps.size();
    if (out == null) {
      out = Path.of("runs", "sweep-" + String.join("-", networks.keySet()) + "-"
          + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    }
    Path root = root();
    float[] lrs = new float[options.learningRates().size()];
    for (int i = 0; i < lrs.length; i++) lrs[i] = options.learningRates().get(i);
    List<SweepGroup> groups = new ArrayList<>();
    try {
      for (Map.Entry<String, int[]> net : networks.entrySet()) {
        String network = CompareOptions.networkName(net.getKey());
        boolean withPca = options.pca(cl, net.getValue());
        for (String d : data) {
          for (long seed : seeds) {
            for (int e : epochs) {
              for (int s : steps) {
                // Only the axes with several values appear in a comparison's name (its folder when there are several).
                String name = net.getKey() + (data.size() > 1 ? "-" + d.trim().replace(":", "") : "")
                    + (seeds.size() > 1 ? "-seed" + seed : "") + (epochs.size() > 1 ? "-e" + e : "")
                    + (steps.size() > 1 ? "-s" + s : "");
                Path dir = count == 1 ? root : root.resolve(name);
                SweepGroup g = new SweepGroup(name, network, net.getValue(), options.slope(), lrs, options.runs(), e, s,
                    options.batch(), d.trim(), seed, options.probe(), options.evalEvery(), options.gradients(), withPca,
                    options.pcaGrid(), options.trivialThreshold(), backendName, dir.toString());
                g.config(); // refuses what compare refuses, here rather than on an executor
                groups.add(g);
              }
            }
          }
        }
      }
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, e.getMessage());
    }
    return groups;
  }
}
