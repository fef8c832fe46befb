package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.backend.Backends;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.experiments.CompareConfig;
import io.idemnet.experiments.CompareConfig.DataSpec;
import io.idemnet.experiments.CompareExperiment;
import io.idemnet.experiments.CompareFigures;
import io.idemnet.experiments.CompareReport;
import io.idemnet.experiments.CompareResult;
import io.idemnet.experiments.CompareResult.RunResult;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "compare", mixinStandardHelpOptions = true,
    description = "Train one network with Modified (MB) and Ordinary (OB) Backpropagation, for each learning rate, "
        + "R paired runs each; write CSV/JSON and PNG figures and print the MB-vs-OB table.")
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

  @Option(names = "--steps", description = "SGD steps per epoch (default: ${DEFAULT-VALUE})", defaultValue = "10")
  int steps;

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

  @Option(names = "--no-gradients", negatable = false, description = "skip the MB/OB gradient analysis")
  boolean noGradients;

  @Option(names = "--pca", description = "PCA trajectories and loss surface: auto (networks up to 1M parameters), on, off "
      + "(default: ${DEFAULT-VALUE})", defaultValue = "auto")
  String pca;

  @Option(names = "--pca-grid", description = "loss-surface grid points per side (default: ${DEFAULT-VALUE})",
      defaultValue = "15")
  int pcaGrid;

  @Option(names = "--out", description = "output folder (default: runs/compare-<net>-<time>)")
  Path out;

  @Option(names = "--backend", description = "auto, cpu or reference (default: ${DEFAULT-VALUE})", defaultValue = "auto")
  String backendName;

  @Option(names = "--threads", description = "CPU threads (default: all cores)", defaultValue = "0")
  int threads;

  @Override
  public Integer call() {
    CompareConfig config = config();
    Backend backend = Backends.named(backendName);
    if (backend instanceof CpuBackend cpu && threads > 0) cpu.setNumThreads(threads);
    CompareExperiment experiment = new CompareExperiment(backend, config);
    CompareReport report = new CompareReport(config.outputDir());
    var err = spec.commandLine().getErr();
    var outStream = spec.commandLine().getOut();
    outStream.printf(Locale.ROOT, "compare %s %s on %s: %d learning rates x %d runs x %d epochs x %d steps, batch %d -> %s%n",
        config.network(), java.util.Arrays.toString(config.dims()), backend.name(), config.learningRates().size(),
        config.runs(), config.epochs(), config.stepsPerEpoch(), config.batch(), config.outputDir());
    ProgressBar bar = new ProgressBar(err, experiment.totalEpochs());
    AtomicLong done = new AtomicLong();
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
          bar.update(done.incrementAndGet(), String.format(Locale.ROOT, "lr %s run %d/%d epoch %d/%d",
              config.learningRates().get(lrIndex), run + 1, config.runs(), epoch, config.epochs()));
        }
      }, stop::get);
      report.finish(result);
      List<Path> figures = CompareFigures.write(config.outputDir(), result);
      if (result.interrupted()) err.println("\ninterrupted: results of the " + result.runs().size() / 2 + " completed runs are kept");
      outStream.println();
      outStream.print(CompareReport.table(result.runs()));
      outStream.println("numbers: " + config.outputDir().resolve("runs.csv") + ", final.csv, summary.json");
      outStream.println("figures: " + figures.stream().map(p -> p.getFileName().toString()).toList());
      return result.interrupted() ? 130 : 0;
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // already running the hook: nothing to remove
      }
    }
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
          !noGradients, withPca, pcaGrid, dir);
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
