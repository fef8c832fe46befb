package io.idemnet.data;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Images with integer labels, in memory: {@code images} holds N x C x H x W floats, row-major
 * (sample, channel, row, column), {@code labels} one label per sample (N = {@code labels.length}).
 * The loaders give pixels in [0, 1]; {@link #normalized} and {@link #toPlusMinusOne} make the
 * usual network inputs. Data sets without classes (an image folder) have all labels 0.
 *
 * <p>The arrays are held as given, not copied (a data set can be hundreds of megabytes): every
 * method here returns a new data set with new arrays and leaves this one as it was.
 *
 * <p>Training loops iterate over {@link #batches(int, long)}: a seeded shuffle per call, each
 * sample exactly once, copied into one reused buffer.
 */
public record Dataset(float[] images, int[] labels, int channels, int height, int width) {
  public Dataset {
    if (images == null || labels == null) throw new NullPointerException("images and labels are required");
    if (channels <= 0 || height <= 0 || width <= 0) {
      throw new IllegalArgumentException("channels, height and width must be positive: " + channels + " x " + height + " x " + width);
    }
    long expected = (long) labels.length * channels * height * width;
    if (images.length != expected) {
      throw new IllegalArgumentException(images.length + " image values for " + labels.length + " samples of " + channels + " x "
          + height + " x " + width + " (" + expected + " needed)");
    }
  }

  /** The number of samples N. */
  public int size() {
    return labels.length;
  }

  /** Values per sample, C x H x W. */
  public int sampleSize() {
    return channels * height * width;
  }

  /** {N, C, H, W}. */
  public int[] shape() {
    return new int[] {size(), channels, height, width};
  }

  /** A copy of sample {@code i}'s C x H x W values. */
  public float[] image(int i) {
    float[] out = new float[sampleSize()];
    copyImage(i, out, 0);
    return out;
  }

  /** Copies sample {@code i}'s C x H x W values into {@code dst} from {@code offset} on. */
  public void copyImage(int i, float[] dst, int offset) {
    int s = sampleSize();
    System.arraycopy(images, Math.multiplyExact(checkIndex(i), s), dst, offset, s);
  }

  /** Label of sample {@code i}. */
  public int label(int i) {
    return labels[checkIndex(i)];
  }

  /** Every value v becomes (v - mean) / std. */
  public Dataset normalized(float mean, float std) {
    return normalized(filled(mean), filled(std));
  }

  /** Per channel c, every value v becomes (v - mean[c]) / std[c] (as torchvision's Normalize). */
  public Dataset normalized(float[] mean, float[] std) {
    if (mean.length != channels || std.length != channels) {
      throw new IllegalArgumentException("normalized: " + channels + " channels, " + mean.length + " means, " + std.length + " stds");
    }
    for (float s : std) if (!(s > 0) || !Float.isFinite(s)) throw new IllegalArgumentException("normalized: std must be positive and finite: " + Arrays.toString(std));
    float[] out = new float[images.length];
    int plane = height * width;
    for (int start = 0, c = 0; start < images.length; start += plane, c = (c + 1) % channels) {
      float m = mean[c];
      float inv = 1f / std[c];
      for (int k = start; k < start + plane; k++) out[k] = (images[k] - m) * inv;
    }
    return new Dataset(out, labels.clone(), channels, height, width);
  }

  /**
   * [0, 1] to [-1, 1]: v becomes 2v - 1, the input scaling of IGN (torchvision's
   * {@code Normalize(0.5, 0.5)}).
   */
  public Dataset toPlusMinusOne() {
    return normalized(0.5f, 0.5f);
  }

  /** Samples {@code from} (inclusive) to {@code to} (exclusive). */
  public Dataset subset(int from, int to) {
    if (from < 0 || to > size() || from > to) throw new IndexOutOfBoundsException("subset(" + from + ", " + to + ") of " + size() + " samples");
    int s = sampleSize();
    return new Dataset(Arrays.copyOfRange(images, from * s, to * s), Arrays.copyOfRange(labels, from, to), channels, height, width);
  }

  /** The samples at {@code indices}, in that order (repeats allowed). */
  public Dataset subset(int[] indices) {
    int s = sampleSize();
    float[] x = new float[Math.multiplyExact(indices.length, s)];
    int[] y = new int[indices.length];
    for (int j = 0; j < indices.length; j++) {
      copyImage(indices[j], x, j * s);
      y[j] = labels[indices[j]];
    }
    return new Dataset(x, y, channels, height, width);
  }

  /** The first {@code n} samples of each class (for a small balanced subset), in data set order. */
  public Dataset firstPerClass(int n) {
    int[] taken = new int[Math.max(1, Arrays.stream(labels).max().orElse(0) + 1)];
    int[] keep = new int[size()];
    int k = 0;
    for (int i = 0; i < size(); i++) {
      if (labels[i] >= 0 && taken[labels[i]] < n) {
        taken[labels[i]]++;
        keep[k++] = i;
      }
    }
    return subset(Arrays.copyOf(keep, k));
  }

  /** How many samples have each label 0 .. max label. */
  public int[] labelCounts() {
    int[] counts = new int[Math.max(0, Arrays.stream(labels).max().orElse(-1) + 1)];
    for (int y : labels) if (y >= 0) counts[y]++;
    return counts;
  }

  /** The mean of all values (0 for an empty data set). */
  public double mean() {
    double sum = 0;
    for (float v : images) sum += v;
    return images.length == 0 ? 0 : sum / images.length;
  }

  /**
   * One epoch in a seeded random order: every sample exactly once, in batches of
   * {@code batchSize}; the last batch holds the remainder. The same seed gives the same order.
   */
  public Batches batches(int batchSize, long seed) {
    return new Batches(this, batchSize, seed, true, false);
  }

  /** As {@link #batches(int, long)}; with {@code dropLast} a last incomplete batch is left out. */
  public Batches batches(int batchSize, long seed, boolean dropLast) {
    return new Batches(this, batchSize, seed, true, dropLast);
  }

  /** One epoch in data set order. */
  public Batches batchesInOrder(int batchSize) {
    return new Batches(this, batchSize, 0, false, false);
  }

  @Override
  public String toString() {
    return "Dataset[" + size() + " x " + channels + " x " + height + " x " + width + "]";
  }

  private int checkIndex(int i) {
    if (i < 0 || i >= size()) throw new IndexOutOfBoundsException("sample " + i + " of " + size());
    return i;
  }

  private float[] filled(float v) {
    float[] a = new float[channels];
    Arrays.fill(a, v);
    return a;
  }

  /**
   * The batches of one epoch. Each {@link #iterator()} starts the epoch anew in the same order,
   * with its own buffers: a {@code for} loop over this object is one pass over the data.
   */
  public static final class Batches implements Iterable<Batch> {
    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final boolean shuffle;
    private final boolean dropLast;

    private Batches(Dataset data, int batchSize, long seed, boolean shuffle, boolean dropLast) {
      if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive: " + batchSize);
      this.data = data;
      this.batchSize = batchSize;
      this.seed = seed;
      this.shuffle = shuffle;
      this.dropLast = dropLast;
    }

    /** The number of batches in the epoch. */
    public int count() {
      int n = data.size();
      return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    }

    /** The sample order of the epoch: a permutation of 0 .. N-1 (the identity in order). */
    public int[] order() {
      int n = data.size();
      int[] order = new int[n];
      for (int i = 0; i < n; i++) order[i] = i;
      if (shuffle) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      return order;
    }

    /**
     * Iterates the epoch. {@code next()} returns the same {@link Batch} object every time, its
     * buffers overwritten: use or copy a batch before asking for the next one.
     */
    @Override
    public Iterator<Batch> iterator() {
      int[] order = order();
      int total = count();
      Batch batch = new Batch(batchSize, data.sampleSize());
      return new Iterator<>() {
        private int number;

        @Override
        public boolean hasNext() {
          return number < total;
        }

        @Override
        public Batch next() {
          if (!hasNext()) throw new NoSuchElementException("epoch of " + total + " batches is over");
          int start = number * batchSize;
          int size = Math.min(batchSize, order.length - start);
          int s = data.sampleSize();
          for (int j = 0; j < size; j++) {
            int i = order[start + j];
            System.arraycopy(data.images, i * s, batch.images, j * s, s);
            batch.labels[j] = data.labels[i];
            batch.indices[j] = i;
          }
          batch.size = size;
          batch.number = number++;
          return batch;
        }
      };
    }
  }

  /**
   * One batch, reused by its iterator: {@link #images()} has room for the full batch size
   * (capacity x C x H x W floats), of which the first {@link #size()} samples are this batch's;
   * {@link #labels()} and {@link #indices()} (the samples' positions in the data set) likewise.
   */
  public static final class Batch {
    private final float[] images;
    private final int[] labels;
    private final int[] indices;
    private int size;
    private int number;

    private Batch(int capacity, int sampleSize) {
      this.images = new float[Math.multiplyExact(capacity, sampleSize)];
      this.labels = new int[capacity];
      this.indices = new int[capacity];
    }

    /** Samples in this batch (the batch size, or less in a last incomplete batch). */
    public int size() {
      return size;
    }

    /** The batch size the buffers were made for. */
    public int capacity() {
      return labels.length;
    }

    /** The position of this batch in the epoch, from 0. */
    public int number() {
      return number;
    }

    /** The reused image buffer; the first size() x C x H x W values are this batch's. */
    public float[] images() {
      return images;
    }

    /** The reused label buffer; the first size() are this batch's. */
    public int[] labels() {
      return labels;
    }

    /** The reused buffer of data set indices; the first size() are this batch's. */
    public int[] indices() {
      return indices;
    }
  }
}
