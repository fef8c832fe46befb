package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.ign.IgnExperiment;
import io.idemnet.ign.IgnFigures;
import io.idemnet.ign.FrequencyNoise;
import io.idemnet.ign.IgnNetworks;
import io.idemnet.ign.IgnNoise;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign-figures", mixinStandardHelpOptions = true,
    description = "Load an 'idemnet ign' checkpoint and write the interpolation figure (x_alpha, f, f(f), and the "
        + "encoder-latent interpolation) and the out-of-distribution figures (Appendix F's noise, greyscale and "
        + "21-wide blur ratio: x, degraded, f, f(f)) for real images of the data set.")
final class IgnFiguresCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "checkpoint.safetensors written by 'idemnet ign'")
  Path checkpoint;

  @Mixin ImageDataOptions data;

  @Option(names = "--net", description = "mnist, paper or celeba64 (default: the checkpoint's)")
  String net;

  @Option(names = "--width", description = "channel-count multiplier (default: the checkpoint's)")
  Float width;

  @Option(names = "--channels", description = "image channels (default: the checkpoint's)")
  Integer channels;

  @Option(names = "--count", defaultValue = "8", description = "images per out-of-distribution figure (default: ${DEFAULT-VALUE})")
  int count;

  @Option(names = "--pairs", defaultValue = "2", description = "image pairs in the interpolation figure (default: ${DEFAULT-VALUE})")
  int pairs;

  @Option(names = "--steps", defaultValue = "8", description = "interpolation steps, alpha = 0..1 (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--seed", defaultValue = "1", description = "picks the images and draws the noise (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", description = "output folder (default: the checkpoint's folder)")
  Path out;

  @Mixin BackendOptions backendOptions;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    if (!Files.isRegularFile(checkpoint)) throw new ParameterException(cl, "no checkpoint at " + checkpoint);
    IgnNetworks.Net n = net == null ? null : IgnCommand.parseNet(cl, net);
    if (count < 1 || pairs < 1 || steps < 2) {
      throw new ParameterException(cl, "need --count >= 1, --pairs >= 1 and --steps >= 2");
    }
    Path dir = out != null ? out : checkpoint.toAbsolutePath().getParent();
    try (Backend be = backendOptions.open(cl);
        IgnExperiment.Trained t = IgnExperiment.loadNetwork(be, checkpoint, n, width, channels)) {
      Dataset d = data.load(cl, t.net().imageSize());
      t.net().checkImages(d.channels(), d.height(), d.width());
      if (d.channels() != t.channels()) {
        throw new IllegalArgumentException("the checkpoint's network takes " + t.channels() + "-channel images; the data has "
            + d.channels() + (d.channels() == 3 ? " (try --grayscale)" : ""));
      }
      IgnFigures.Options o = new IgnFigures.Options(count, pairs, steps, seed);
      // The samples use the checkpoint's training noise (FFT statistics from the first images, as in training by default).
      boolean fft = "fft".equals(io.idemnet.io.SafeTensors.readMetadata(checkpoint).get("noise"));
      IgnNoise noise = fft ? new FrequencyNoise(be, FrequencyNoise.Statistics.of(d, IgnExperiment.DEFAULT_FFT_IMAGES))
          : IgnNoise.normal(be);
      List<Path> written = IgnFigures.write(be, t.f(), d, noise, o, dir);
      cl.getOut().printf(Locale.ROOT, "wrote %s%n", String.join(", ", written.stream().map(Path::toString).toList()));
    }
    return 0;
  }
}
