package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.io.Checkpoints;
import io.idemnet.io.SafeTensors;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.Flatten;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The small MNIST classifier that scores IGN samples ({@link IgnScore}), on 1 x 28 x 28 images in
 * [-1, 1]: Conv 4x4/2/1 16 (14x14), ReLU, Conv 4x4/2/1 32 (7x7), ReLU, Conv 3x3/2/0 64 (3x3),
 * ReLU, flatten (576), Linear 576 -> 128, ReLU (the 128 features the Frechet distance uses),
 * Linear 128 -> 10 (logits). 102,138 parameters (about 400 KB as float32). No dropout or
 * BatchNorm, so evaluation is a plain function of the weights.
 */
public final class DigitClassifier implements AutoCloseable {
  /** Size of the feature vector ({@link #FEATURE_LAYERS} children deep). */
  public static final int FEATURES = 128;
  /** Classes (digits 0-9). */
  public static final int CLASSES = 10;
  /** The children of the network that produce the features (all but the last Linear). */
  static final int FEATURE_LAYERS = 9;

  private final Sequential net;
  private final Sequential features;
  private final Backend backend;

  /** A new, untrained classifier with weights drawn from {@code seed}. */
  public DigitClassifier(Backend backend, long seed) {
    this.backend = backend;
    this.net = new Sequential(
        new Conv2d(backend, 1, 16, 4, 2, 1, true, seed),
        ActivationLayer.relu(),
        new Conv2d(backend, 16, 32, 4, 2, 1, true, seed + 2),
        ActivationLayer.relu(),
        new Conv2d(backend, 32, 64, 3, 2, 0, true, seed + 4),
        ActivationLayer.relu(),
        new Flatten(),
        new Linear(backend, 576, FEATURES, true, seed + 6),
        ActivationLayer.relu(),
        new Linear(backend, FEATURES, CLASSES, true, seed + 8));
    this.features = new Sequential(net.children().subList(0, FEATURE_LAYERS));
  }

  /** The whole network: images [N, 1, 28, 28] to class logits [N, 10]. */
  public Sequential network() {
    return net;
  }

  /** Training settings: Adam(lr, 0.9, 0.999), batch size, epochs, data-order seed. */
  public record Training(float lr, int batch, int epochs, long seed) {
    public Training {
      if (!(lr > 0) || batch < 1 || epochs < 1) {
        throw new IllegalArgumentException("classifier training needs lr > 0, batch >= 1 and epochs >= 1, got " + lr + ", "
            + batch + ", " + epochs);
      }
    }
  }

  /** Trains on {@code train} (1 x 28 x 28 in [-1, 1]) with cross-entropy; calls {@code onEpoch} after each epoch. */
  public void train(Dataset train, Training t, IntConsumer onEpoch) {
    checkImages(train);
    try (Graph g = new Graph(backend); Adam adam = new Adam(net.namedParameters(), t.lr(), 0.9f, 0.999f, 1e-8f, 0f)) {
      for (int epoch = 1; epoch <= t.epochs(); epoch++) {
        for (Dataset.Batch b : train.batches(t.batch(), t.seed() + epoch)) {
          int n = b.size();
          try (Tensor x = backend.zeros(n, 1, 28, 28)) {
            x.copyFrom(n == b.capacity() ? b.images() : Arrays.copyOf(b.images(), n * train.sampleSize()));
            g.reset();
            adam.zeroGrad();
            Var loss = g.crossEntropy(net.forward(g, g.constant(x)), Arrays.copyOf(b.labels(), n));
            g.backward(loss);
            adam.step();
          }
        }
        onEpoch.accept(epoch);
      }
    }
  }

  /** Logits [n, 10] and features [n, 128] of n images (flat, 1 x 28 x 28 each), in chunks of 500. */
  public Outputs apply(float[] images, int n) {
    if (images.length != n * 784) throw new IllegalArgumentException("classifier: " + images.length + " values for " + n + " 28x28 images");
    float[] logits = new float[n * CLASSES], feats = new float[n * FEATURES];
    try (Graph g = new Graph(backend); Graph.Scope s = g.noGrad()) {
      for (int from = 0; from < n; from += 500) {
        int m = Math.min(500, n - from);
        try (Tensor x = backend.zeros(m, 1, 28, 28)) {
          x.copyFrom(Arrays.copyOfRange(images, from * 784, (from + m) * 784));
          g.reset();
          Var h = features.forward(g, g.constant(x));
          System.arraycopy(h.value().toArray(), 0, feats, from * FEATURES, m * FEATURES);
          Var z = net.children().get(FEATURE_LAYERS).forward(g, h);
          System.arraycopy(z.value().toArray(), 0, logits, from * CLASSES, m * CLASSES);
        }
      }
    }
    return new Outputs(n, logits, feats);
  }

  /** A classifier's outputs for n images. */
  public record Outputs(int n, float[] logits, float[] features) {
    /** The argmax class of image i. */
    public int predicted(int i) {
      int best = 0;
      for (int j = 1; j < CLASSES; j++) if (logits[i * CLASSES + j] > logits[i * CLASSES + best]) best = j;
      return best;
    }

    /** The softmax probability of the argmax class of image i. */
    public double confidence(int i) {
      double max = Double.NEGATIVE_INFINITY, sum = 0;
      for (int j = 0; j < CLASSES; j++) max = Math.max(max, logits[i * CLASSES + j]);
      for (int j = 0; j < CLASSES; j++) sum += Math.exp(logits[i * CLASSES + j] - max);
      return 1 / sum;
    }

    /** Images per predicted class. */
    public int[] histogram() {
      int[] h = new int[CLASSES];
      for (int i = 0; i < n; i++) h[predicted(i)]++;
      return h;
    }

    /** The features as n rows of 128 doubles. */
    public double[][] featureRows() {
      double[][] r = new double[n][FEATURES];
      for (int i = 0; i < n; i++) for (int j = 0; j < FEATURES; j++) r[i][j] = features[i * FEATURES + j];
      return r;
    }
  }

  /** The fraction of {@code data}'s images classified as their label. */
  public double accuracy(Dataset data) {
    checkImages(data);
    Outputs o = apply(data.images(), data.size());
    int correct = 0;
    for (int i = 0; i < data.size(); i++) if (o.predicted(i) == data.label(i)) correct++;
    return (double) correct / data.size();
  }

  /** Saves the weights with {@code metadata} (model only, safetensors). */
  public void save(Path file, Map<String, String> metadata) throws IOException {
    Map<String, String> meta = new LinkedHashMap<>(metadata);
    meta.put("format", "pt");
    meta.put("producer", "idemnet");
    meta.put("model", "idemnet DigitClassifier");
    Map<String, Tensor> values = new LinkedHashMap<>();
    net.namedParameters().forEach((k, p) -> values.put(k, p.value()));
    SafeTensors.write(file, values, meta);
  }

  /** Loads a classifier saved by {@link #save}. */
  public static DigitClassifier load(Backend backend, Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString(), null, "no classifier file");
    DigitClassifier c = new DigitClassifier(backend, 0);
    try {
      Checkpoints.loadModel(file, c.net);
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The file's metadata, e.g. the test accuracy recorded when it was trained. */
  public static Map<String, String> metadata(Path file) throws IOException {
    return SafeTensors.readMetadata(file);
  }

  private static void checkImages(Dataset d) {
    if (d.channels() != 1 || d.height() != 28 || d.width() != 28) {
      throw new IllegalArgumentException("the digit classifier takes 1x28x28 images, got " + d.channels() + "x" + d.height() + "x"
          + d.width());
    }
  }

  static String format(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }

  @Override
  public void close() {
    net.close();
  }
}
