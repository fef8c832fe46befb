package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.experiments.CompareConfig;
import io.idemnet.experiments.CompareConfig.DataSpec;
import io.idemnet.experiments.CompareExperiment;
import io.idemnet.experiments.CompareOutputs;
import io.idemnet.experiments.CompareReport;
import io.idemnet.experiments.CompareResult;
import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Train one network with Modified (MB) and Ordinary (OB) Backpropagation, for each learning rate, "
        + "R paired runs each; write CSVs and PNG figures and print the MB-vs-OB table. Completed pairs of runs are "
        + "kept as they finish: --resume continues an interrupted comparison in the same --out folder.")
final class CompareCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin CompareOptions options;

  @Option(names = "--resume", description = "continue the comparison in --out: skip the completed pairs of runs "
      + "(the settings must match the folder's settings.txt)")
  boolean resume;

  @Option(names = "--report-only", description = "train nothing: redraw the figures and CSV summaries of the runs in --out")
  boolean reportOnly;

  @Option(names = "--out", description = "output folder (default: runs/compare-<net>-<time>)")
  Path out;

  @Mixin BackendOptions backendOptions;

  @Override
  public Integer call() {
    CompareConfig config = config();
    try (Backend backend = backendOptions.open(spec.commandLine())) {
      return run(config, backend);
    }
  }

  private int run(CompareConfig config, Backend backend) {
    if (reportOnly && !java.nio.file.Files.exists(config.outputDir().resolve("final.csv"))) {
      throw new ParameterException(spec.commandLine(), "--report-only: " + config.outputDir() + " holds no comparison (final.csv)");
    }
    CompareReport report;
    try {
      report = CompareReport.open(config.outputDir(), config, resume || reportOnly);
    } catch (IllegalStateException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    var err = spec.commandLine().getErr();
    var outStream = spec.commandLine().getOut();
    boolean interrupted = false;
    if (!reportOnly) {
      Set<String> done = report.completedPairs();
      CompareExperiment experiment = new CompareExperiment(backend, config);
      long remaining = 0;
      for (float lr : config.learningRates()) {
        for (int r = 0; r < config.runs(); r++) if (!done.contains(CompareExperiment.key(lr, r))) remaining++;
      }
      outStream.printf(Locale.ROOT, "compare %s %s on %s: %d learning rates x %d runs x %d epochs x %d steps, batch %d -> %s"
          + " (%d pairs of runs to train, %d found complete)%n", config.network(), java.util.Arrays.toString(config.dims()),
          backend.name(), config.learningRates().size(), config.runs(), config.epochs(), config.stepsPerEpoch(),
          config.batch(), config.outputDir(), remaining, done.size());
      ProgressBar bar = new ProgressBar(err, Math.max(1, remaining * config.epochs()));
      AtomicLong progressed = new AtomicLong();
      AtomicBoolean stop = new AtomicBoolean();
      CountDownLatch finished = new CountDownLatch(1);
      // Ctrl-C: stop between epochs and let the main thread write what completed, then exit.
      Thread hook = new Thread(() -> {
        stop.set(true);
        try {
          finished.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
      });
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        CompareResult result = experiment.run(new CompareExperiment.Listener() {
          @Override
          public void runFinished(RunResult mb, RunResult ob) {
            report.append(mb, ob);
          }

          @Override
          public void progress(int lrIndex, int run, int epoch) {
            bar.update(progressed.incrementAndGet(), String.format(Locale.ROOT, "lr %s run %d/%d epoch %d/%d",
                config.learningRates().get(lrIndex), run + 1, config.runs(), epoch, config.epochs()));
          }
        }, stop::get, done, pathsDir(config));
        interrupted = result.interrupted();
        if (interrupted) {
          err.println("\ninterrupted: the " + (report.loaded().size() + result.runs().size()) / 2
              + " completed pairs of runs are kept; rerun with --resume to continue");
        }
        finishReport(config, backend, report, interrupted, outStream);
      } finally {
        finished.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // already running the hook: nothing to remove
        }
      }
    } else {
      finishReport(config, backend, report, false, outStream);
    }
    return interrupted ? 130 : 0;
  }

  private static Path pathsDir(CompareConfig config) {
    return CompareOutputs.pathsDir(config);
  }

  private static void finishReport(CompareConfig config, Backend backend, CompareReport report, boolean interrupted,
      java.io.PrintWriter out) {
    CompareOutputs.Written w = CompareOutputs.finish(backend, config, report, interrupted);
    out.println();
    out.print(w.table());
    out.println("numbers: " + config.outputDir().resolve("final.csv") + ", runs.csv, summary.csv, best.csv, curves.csv"
        + (w.trajectory() != null ? ", pca.csv, trajectory.csv, surface.csv" : ""));
    out.println("figures: " + w.figures().stream().map(p -> p.getFileName().toString()).toList());
  }

  private CompareConfig config() {
    CommandLine cl = spec.commandLine();
    Map.Entry<String, int[]> network = CompareOptions.one(cl, "--net/--dims", List.copyOf(options.networks(cl).entrySet()));
    String name = CompareOptions.networkName(network.getKey());
    int[] d = network.getValue();
    boolean withPca = options.pca(cl, d);
    Path dir = out != null ? out
        : Path.of("runs", "compare-" + name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    DataSpec data = parseData(CompareOptions.one(cl, "--data", options.data()));
    try {
      return new CompareConfig(name, d, options.slope(), options.learningRates(), options.runs(),
          CompareOptions.one(cl, "--epochs", options.epochs()), CompareOptions.one(cl, "--steps", options.steps()),
          options.batch(), data, CompareOptions.one(cl, "--seed", options.seeds()), options.probe(), options.evalEvery(),
          options.gradients(), withPca, options.pcaGrid(), options.trivialThreshold(), dir);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, e.getMessage());
    }
  }

  private DataSpec parseData(String spec) {
    try {
      return DataSpec.parse(spec);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(this.spec.commandLine(), "--data: " + e.getMessage());
    }
  }
}
