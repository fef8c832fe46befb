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
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Callable;
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

  @Option(names = "--net", description = "B1, B2, B3 or B4 (default: ${DEFAULT-VALUE})", defaultValue = "B2")
  String net;

  @Option(names = "--dims", split = ",", description = "custom layer sizes, e.g. 16,64,16 (overrides --net)")
  int[] dims;

  @Option(names = "--lr", split = ",", description = "learning rates (default: ${DEFAULT-VALUE})",
      defaultValue = "0.001,0.01,0.1")
  List<Float> learningRates;

  @Option(names = "--runs", description = "runs per learning rate (default: ${DEFAULT-VALUE})", defaultValue = "3")
  int runs;

  @Option(names = "--epochs", description = "epochs per run (default: ${DEFAULT-VALUE})", defaultValue = "10")
  int epochs;

  @Option(names = "--steps", description = "SGD steps per epoch, each on a fresh batch (default: ${DEFAULT-VALUE})",
      defaultValue = "1")
  int steps;

  @Option(names = "--eval-every", description = "record the error (and run 0's gradients and parameters) every N epochs, "
      + "and at the last (default: ${DEFAULT-VALUE})", defaultValue = "1")
  int evalEvery;

  @Option(names = "--trivial-threshold", description = "a trained f whose Jacobian at the points of its own image has "
      + "an RMS Frobenius norm below this is reported as trivial (near-constant); below 0.5 it is closer to 0 than to any "
      + "non-zero idempotent (default: ${DEFAULT-VALUE})", defaultValue = "0.5")
  double trivialThreshold;

  @Option(names = "--resume", description = "continue the comparison in --out: skip the completed pairs of runs "
      + "(the settings must match the folder's settings.txt)")
  boolean resume;

  @Option(names = "--report-only", description = "train nothing: redraw the figures and CSV summaries of the runs in --out")
  boolean reportOnly;

  @Option(names = "--batch", description = "batch size (default: ${DEFAULT-VALUE})", defaultValue = "1000")
  int batch;

  @Option(names = "--data", description = "normal (fresh N(0,1) each epoch), uniform:K (U(-K,K)), fixed:ROWS "
      + "(one N(0,1) dataset per run) (default: ${DEFAULT-VALUE})", defaultValue = "normal")
  String data;

  @Option(names = "--slope", description = "LeakyReLU slope (default: ${DEFAULT-VALUE})", defaultValue = "0.2")
  float slope;

  @Option(names = "--seed", description = "master seed (default: ${DEFAULT-VALUE})", defaultValue = "1")
  long seed;

  @Option(names = "--probe", description = "rows of the held-out batch for the error (default: ${DEFAULT-VALUE})",
      defaultValue = "1000")
  int probe;

  @Option(names = "--no-gradients", negatable = false, description = "skip the MB/OB gradient analysis (run 0)")
  boolean noGradients;

  @Option(names = "--pca", description = "keep run 0's parameter paths for the PCA trajectory figure: auto (networks up "
      + "to 1M parameters), on, off (default: ${DEFAULT-VALUE})", defaultValue = "auto")
  String pca;

  @Option(names = "--pca-grid", description = "loss-surface grid points per side (default: ${DEFAULT-VALUE})",
      defaultValue = "15")
  int pcaGrid;

  @Option(names = "--out", description = "output folder (default: runs/compare-<net>-<time>)")
  Path out;

  @Mixin BackendOptions backendOptions;

  @Override
  public Integer call() {
    CompareConfig config = config();
    Backend backend = backendOptions.open(spec.commandLine());
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
    int[] d = dims != null ? dims : CompareConfig.networkDims(net);
    String name = dims != null ? "custom" : net.toUpperCase(Locale.ROOT);
    boolean withPca = switch (pca.toLowerCase(Locale.ROOT)) {
      case "on" -> true;
      case "off" -> false;
      case "auto" -> CompareConfig.pcaByDefault(d);
      default -> throw new ParameterException(spec.commandLine(), "--pca must be auto, on or off, got '" + pca + "'");
    };
    Path dir = out != null ? out
        : Path.of("runs", "compare-" + name + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    try {
      return new CompareConfig(name, d, slope, learningRates, runs, epochs, steps, batch, parseData(data), seed, probe,
          evalEvery, !noGradients, withPca, pcaGrid, trivialThreshold, dir);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
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
