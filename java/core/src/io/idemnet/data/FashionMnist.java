package io.idemnet.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fashion-MNIST (Zalando): 28 x 28 grayscale images of 10 clothing classes, 60,000 for training
 * and 10,000 for testing, as the four IDX files of the original distribution:
 * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}
 * and {@code t10k-labels-idx1-ubyte}, each plain or gzipped ({@code .gz}). Debian's package
 * {@code dataset-fashion-mnist} installs the gzipped ones in {@link #DEBIAN_DIR};
 * {@code scripts/fetch-data.sh} links them into {@link #LOCAL_DIR}. The original MNIST digits
 * come in the same four files and load the same way.
 */
public final class FashionMnist {
  private FashionMnist() {}

  /** Where Debian's {@code dataset-fashion-mnist} puts the files. */
  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** Where {@code scripts/fetch-data.sh} puts them, relative to the repository root. */
  public static final Path LOCAL_DIR = Path.of("data/fashion-mnist");

  /** {@link #LOCAL_DIR} when it exists (after scripts/fetch-data.sh), else {@link #DEBIAN_DIR}. */
  public static Path defaultDir() {
    return java.nio.file.Files.isDirectory(LOCAL_DIR) ? LOCAL_DIR : DEBIAN_DIR;
  }

  /** The class names, by label. */
  public static final List<String> CLASSES = List.of(
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  /**
   * Loads the training (60,000) or test (10,000) split from {@code dir}: images N x 1 x 28 x 28 in
   * [0, 1] (byte / 255), labels 0..9. Each file is taken plain if present, else gzipped;
   * {@code t10k-images.idx3-ubyte} (a dot for the dash, as some copies name it) is accepted too.
   *
   * @throws NoSuchFileException when a file is missing, naming the names looked for
   * @throws DataFileException when a file is corrupt or the two do not match
   */
  public static Dataset load(Path dir, boolean train) throws IOException {
    String prefix = train ? "train" : "t10k";
    Path images = find(dir, prefix + "-images-idx3-ubyte", prefix + "-images.idx3-ubyte");
    Path labels = find(dir, prefix + "-labels-idx1-ubyte", prefix + "-labels.idx1-ubyte");
    return IdxReader.readDataset(images, labels, CLASSES.size());
  }

  /** The first of {@code dir/name} and {@code dir/name.gz}, for each name, that exists. */
  static Path find(Path dir, String... names) throws NoSuchFileException {
    List<String> tried = new ArrayList<>();
    for (String name : names) {
      for (String candidate : new String[] {name, name + ".gz"}) {
        Path p = dir.resolve(candidate);
        if (Files.isRegularFile(p)) return p;
        tried.add(candidate);
      }
    }
    throw new NoSuchFileException(dir.resolve(names[0]).toString(), null, "not found in " + dir + " (looked for " + String.join(", ", tried) + ")");
  }
}
