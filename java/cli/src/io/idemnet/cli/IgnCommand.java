package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.ign.IgnExperiment;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnNoise;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.io.SafeTensors;
import io.idemnet.plot.IgnLossCurves;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign", mixinStandardHelpOptions = true,
    description = "Train an Idempotent Generative Network (Table 2's 28x28 network, the project's earlier 28x28 one, or the "
        + "64x64 DCGAN-style one) with the reconstruction, idempotence and tightness losses, the latter two by Modified "
        + "Backpropagation (mb) or as in IGN (original). After the last epoch it writes the interpolation and "
        + "out-of-distribution figures (see ign-figures). --layers prints the network's layer table and exits.")
final class IgnCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin ImageDataOptions data;

  @Option(names = "--recipe", description = "paper: Tables 2-3 and Algorithm 1 read literally (--net paper --mode mb "
      + "--mb-norm rows --lambdas 20,0.1,0.1 --tight-clamp 0, batch 512, 100 epochs, Adam(1e-4, 0.5, 0.999)); ign: IGN's "
      + "own loss (--mode original --lambdas 20,20,2.5 --tight-clamp 1.5). Options given explicitly override the recipe's")
  String recipe;

  @Option(names = "--net", defaultValue = "mnist",
      description = "paper (28x28, Table 2 layer for layer), mnist (28x28, the project's earlier network) or celeba64 (64x64) "
          + "(default: ${DEFAULT-VALUE}; paper with --recipe paper)")
  String net;

  @Option(names = "--mode", defaultValue = "mb", description = "mb or original (default: ${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--mb-norm", defaultValue = "elements",
      description = "the N dividing the MB gradients: rows (the batch rows, Algorithm 1's e.shape[0]) or elements "
          + "(rows x pixels) (default: ${DEFAULT-VALUE}; rows with --recipe paper)")
  String mbNorm;

  @Option(names = "--layers", description = "print the network's layer table (kernel, stride, padding, channels, output "
      + "size, dropout, BN, activation per convolution) and exit")
  boolean layers;

  @Mixin BackendOptions backendOptions;

  @Option(names = "--noise", defaultValue = "normal",
      description = "normal (N(0,1) per pixel) or fft (the data's per-frequency DFT statistics) (default: ${DEFAULT-VALUE})")
  String noise;

  @Option(names = "--fft-images", defaultValue = "" + IgnExperiment.DEFAULT_FFT_IMAGES,
      description = "images the fft statistics use (the first N) (default: ${DEFAULT-VALUE})")
  int fftImages;

  @Option(names = "--epochs", defaultValue = "100", description = "(default: ${DEFAULT-VALUE}, the paper's)")
  int epochs;

  @Option(names = "--batch", defaultValue = "512", description = "(default: ${DEFAULT-VALUE}, the paper's)")
  int batch;

  @Option(names = "--lr", defaultValue = "1e-4", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
  float lr;

  @Option(names = "--lambdas", split = ",",
      description = "rec,idem,tight weights (default: the paper's for the net: mnist 20,0.1,0.1; celeba64 20,0.006,0.02)")
  float[] lambdas;

  @Option(names = "--tight-clamp", defaultValue = "0",
      description = "IGN's smooth clamp of the tightness term, a L_rec tanh(L_tight / (a L_rec)); 0: none "
          + "(default: ${DEFAULT-VALUE}; IGN's own recipe is --lambdas 20,20,2.5 --tight-clamp 1.5)")
  float tightClamp;

  @Option(names = "--width", defaultValue = "1", description = "channel-count multiplier (default: ${DEFAULT-VALUE})")
  float width;

  @Option(names = "--max-steps", defaultValue = "0", description = "steps per epoch at most (0: whole epochs)")
  int maxSteps;

  @Option(names = "--seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", defaultValue = "runs/ign", description = "output folder (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--resume", description = "a checkpoint.safetensors to continue from")
  Path resume;

  @Option(names = "--no-figures", description = "skip the interpolation and out-of-distribution figures after training")
  boolean noFigures;

  @Option(names = "--max-skips", defaultValue = "" + IgnExperiment.DEFAULT_MAX_CONSECUTIVE_SKIPS,
      description = "a step with a NaN or infinite loss or gradient updates nothing and is skipped; stop after this many in "
          + "a row, keeping the last checkpoint (0: stop at the first) (default: ${DEFAULT-VALUE})")
  int maxSkips;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    applyRecipe(cl);
    IgnTrainer.MbNormalisation norm;
    try {
      norm = IgnTrainer.MbNormalisation.parse(mbNorm);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--mb-norm must be rows or elements, got '" + mbNorm + "'");
    }
    IgnTrainer.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
      case "mb" -> IgnTrainer.Mode.MODIFIED;
      case "original" -> IgnTrainer.Mode.ORIGINAL;
      default -> throw new ParameterException(cl, "--mode must be mb or original, got '" + mode + "'");
    };
    IgnNetworks.Net n = parseNet(cl, net);
    try (Backend backend = backendOptions.open(cl)) {
      return run(cl, backend, m, norm, n);
    }
  }

  private int run(CommandLine cl, Backend backend, IgnTrainer.Mode m, IgnTrainer.MbNormalisation norm, IgnNetworks.Net n)
      throws IOException {
    if (layers) {
      printLayers(cl.getOut(), backend, n, n == IgnNetworks.Net.CELEBA64 ? 3 : 1, width);
      return 0;
    }
    IgnNoise.Kind k = switch (noise.toLowerCase(Locale.ROOT)) {
      case "normal" -> IgnNoise.Kind.NORMAL;
      case "fft" -> IgnNoise.Kind.FFT;
      default -> throw new ParameterException(cl, "--noise must be normal or fft, got '" + noise + "'");
    };
    IgnTrainer.Lambdas lam = n.defaultLambdas();
    if (lambdas != null && lambdas.length != 3) throw new ParameterException(cl, "--lambdas needs three values: rec,idem,tight");
    try {
      lam = lambdas == null ? new IgnTrainer.Lambdas(lam.rec(), lam.idem(), lam.tight(), tightClamp)
          : new IgnTrainer.Lambdas(lambdas[0], lambdas[1], lambdas[2], tightClamp);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--lambdas / --tight-clamp: " + e.getMessage());
    }
    if (epochs < 1 || batch < 1 || !(lr > 0) || !(width > 0)) {
      throw new ParameterException(cl, "need epochs >= 1, batch >= 1, lr > 0 and width > 0");
    }
    if (fftImages < 2) throw new ParameterException(cl, "need --fft-images >= 2");
    if (maxSkips < 0) throw new ParameterException(cl, "--max-skips must be >= 0, got " + maxSkips);
    int startEpoch = 1;
    if (resume != null) {
      if (!Files.isRegularFile(resume)) throw new ParameterException(cl, "no checkpoint at " + resume);
      Map<String, String> meta = SafeTensors.readMetadata(resume);
      try {
        startEpoch = Integer.parseInt(meta.getOrDefault("epoch", "0")) + 1;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("checkpoint " + resume + " has an unreadable epoch: " + meta.get("epoch"));
      }
      // Resuming continues exactly only with the loss the checkpoint was trained with; a change may be intended.
      String trained = IgnExperiment.describeLoss(meta), now = IgnExperiment.describeLoss(IgnExperiment.lossMetadata(m, lam, norm));
      if (meta.containsKey("mode") && meta.containsKey("lambdas") && !trained.equals(now)) {
        cl.getErr().println("warning: resuming with " + now + ", but " + resume + " was trained with " + trained
            + "; the run will not continue as it was trained");
      }
    }
    Dataset d = data.load(cl, n.imageSize());
    n.checkImages(d.channels(), d.height(), d.width());
    var config = new IgnExperiment.Config(m, lam, epochs, batch, lr, 0.5f, 0.999f, width, maxSteps, seed, out, n, k, fftImages,
        !noFigures, norm);
    var o = cl.getOut();
    o.printf(Locale.ROOT, "ign %s%s, net %s (width %s) on %s (%d images of %dx%dx%d), %s noise, batch %d, %d epochs, "
        + "Adam(%s, 0.5, 0.999), lambdas %s/%s/%s, tightness clamp %s, threads %d -> %s%n", mode,
        m == IgnTrainer.Mode.MODIFIED ? " (N = " + norm.cliName() + ")" : "", n.cliName(), width, data.name, d.size(), d.channels(),
        d.height(), d.width(), k.name().toLowerCase(Locale.ROOT), batch, epochs, lr, lam.rec(), lam.idem(), lam.tight(),
        lam.tightClamp() == 0f ? "none" : lam.tightClamp(),
        BackendOptions.threadsOf(backend), out);
    int perEpoch = config.stepsPerEpoch(d.size());
    int remaining = Math.max(0, epochs - startEpoch + 1);
    ProgressBar bar = new ProgressBar(cl.getErr(), (long) perEpoch * remaining);
    long[] done = {0};
    int last = new IgnExperiment(backend, config).maxConsecutiveSkips(maxSkips).run(d, resume, s -> bar.update(++done[0],
        String.format(Locale.ROOT, "epoch %d/%d step %d/%d rec %.4f idem %.4f (mse %.3g) tight %.4f (mse %.3g)", s.epoch(),
            epochs, s.step() + 1, perEpoch, s.losses().rec(), s.losses().idem(), s.losses().idemMse(), s.losses().tight(),
            s.losses().tightMse())),
        (epoch, csv) -> IgnLossCurves.write(csv, csv.resolveSibling("losses.png"), 50), () -> false);
    o.println("done through epoch " + last + "; losses.csv, samples_epochNNN.png and checkpoint.safetensors"
        + (noFigures ? "" : ", interpolation.png and ood_*.png") + " in " + out);
    return 0;
  }

  static IgnNetworks.Net parseNet(CommandLine cl, String name) {
    try {
      return IgnNetworks.Net.parse(name);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--net must be mnist, paper or celeba64, got '" + name + "'");
    }
  }

  /** The recipe's values for the options not given on the command line. */
  private void applyRecipe(CommandLine cl) {
    if (recipe == null) return;
    var given = cl.getParseResult();
    switch (recipe.toLowerCase(Locale.ROOT)) {
      case "paper" -> {
        if (!given.hasMatchedOption("--net")) net = "paper";
        if (!given.hasMatchedOption("--mode")) mode = "mb";
        if (!given.hasMatchedOption("--mb-norm")) mbNorm = "rows";
        // lambdas default to the net's (paper: 20 / 0.1 / 0.1); clamp 0, batch 512, 100 epochs, Adam(1e-4, 0.5, 0.999) are the defaults
      }
      case "ign" -> {
        if (!given.hasMatchedOption("--mode")) mode = "original";
        if (!given.hasMatchedOption("--lambdas")) lambdas = new float[] {20f, 20f, 2.5f};
        if (!given.hasMatchedOption("--tight-clamp")) tightClamp = 1.5f;
      }
      default -> throw new ParameterException(cl, "--recipe must be paper or ign, got '" + recipe + "'");
    }
  }

  /** Prints {@link IgnNetworks#layerTable} for a C x side x side input. */
  static void printLayers(java.io.PrintWriter o, Backend backend, IgnNetworks.Net n, int channels, float width) {
    try (var f = n.build(backend, channels, width, 0)) {
      o.printf(Locale.ROOT, "%s network (width %s), input %dx%dx%d:%n", n.cliName(), width, channels, n.imageSize(), n.imageSize());
      o.println("part     layer            size  stride padding  channels  output  dropout  BN  activation");
      for (IgnNetworks.LayerRow r : IgnNetworks.layerTable(backend, f, channels, n.imageSize())) o.println(r.format());
    }
  }
}
