package io.idemnet.fpn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.nn.ActivationLayer;
import io.idemnet.nn.Conv2d;
import io.idemnet.nn.Flatten;
import io.idemnet.nn.Linear;
import io.idemnet.nn.Sequential;
import io.idemnet.nn.Module;
import io.idemnet.optim.Adam;
import io.idemnet.optim.LearningRateSchedule;
import io.idemnet.optim.NonFiniteStepException;
import io.idemnet.optim.Optimizer;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Trains a fixed point network classifier (or its explicit twin) and reports, per epoch, the
 * training loss, test accuracy, time, forward iterations and vector-Jacobian products per batch:
 * the quantities of the FPN paper's Table 2.
 */
public final class FpnExperiment {
  /**
   * How gradients are computed: JFB, the implicit gradient (Neumann series, or conjugate gradients
   * on the normal equations), or the explicit twin.
   */
  public enum Variant {
    /** Jacobian-free backprop: through one application of T at u*. */
    JFB("jfb"),
    /** The implicit gradient by a Neumann series of vector-Jacobian products. */
    IMPLICIT("implicit"),
    /** The implicit gradient by conjugate gradients on the normal equations (the paper's baseline). */
    IMPLICIT_CG("implicit-cg"),
    /** The explicit twin: T applied a fixed number of times (explicitDepth), backpropagated through every application. */
    EXPLICIT("explicit");

    private final String cliName;

    Variant(String cliName) {
      this.cliName = cliName;
    }

    /** The variant's name on the command line. */
    public String cliName() {
      return cliName;
    }

    /** The variant with this command-line name. */
    public static Variant parse(String name) {
      for (Variant v : values()) if (v.cliName.equals(name)) return v;
      throw new IllegalArgumentException("variant must be jfb, implicit, implicit-cg or explicit, got '" + name + "'");
    }
  }

  /**
   * @param latent size n of u (dense model), or the number of feature maps of u (convolutional model)
   * @param gamma contraction factor of T in u
   * @param explicitDepth applications of T in the explicit twin
   * @param implicitProducts the most Jacobian products an implicit backward may use
   * @param cosineLr anneal the learning rate to 0 over the run (PyTorch's CosineAnnealingLR, per step)
   * @param andersonMemory Anderson acceleration of the forward iteration with this many iterates (1: plain iteration;
   *     at most {@link io.idemnet.backend.Backend#ANDERSON_MAX_MEMORY})
   */
  public record Config(Variant variant, int latent, float gamma, int epochs, int batch, float learningRate,
      double tolerance, int maxIterations, int implicitProducts, int explicitDepth, long seed, boolean cosineLr,
      int andersonMemory) {
    public Config {
      if (latent < 1 || epochs < 1 || batch < 1 || maxIterations < 1 || implicitProducts < 2 || explicitDepth < 1
          || andersonMemory < 1) {
        throw new IllegalArgumentException("latent size, epochs, batch, iterations, depths and the Anderson memory must be >= 1, "
            + "and the Jacobian-product limit >= 2");
      }
      if (!(learningRate > 0)) throw new IllegalArgumentException("learning rate must be > 0");
      if (andersonMemory > io.idemnet.backend.Backend.ANDERSON_MAX_MEMORY) {
        throw new IllegalArgumentException("the Anderson memory must be at most "
            + io.idemnet.backend.Backend.ANDERSON_MAX_MEMORY + ", got " + andersonMemory);
      }
    }
  }

  /**
   * @param workspaceMiB device memory held for training after the epoch: the training graph's
   *     buffers (tape, activations, gradients) plus the fixed-point solver's
   */
  public record EpochResult(int epoch, double trainLoss, double trainSeconds, double meanIterations, double meanVjps,
      double testAccuracy, double seconds, double workspaceMiB) {}

  /** Builds Q for this data: a module mapping a batch of images to [N, latent]. */
  public interface QFactory {
    /** A new Q for {@code data} with output size {@code latent}, weights from {@code seed}. */
    Module create(Backend backend, Dataset data, int latent, long seed);
  }

  /** Q = Linear(C*H*W, n) on flattened images. */
  public static QFactory linearQ() {
    return (be, data, n, seed) -> new Linear(be, data.sampleSize(), n, true, seed);
  }


  /**
   * Q for the convolutional model: Conv(C, 32, 3x3, stride 2, pad 1) -> ReLU ->
   * Conv(32, n, 3x3, stride 2, pad 1), giving q as n feature maps of H/4 x W/4 (7x7 for 28x28).
   */
  public static QFactory convQ() {
    return (be, data, n, seed) -> new Sequential(new Conv2d(be, data.channels(), 32, 3, 2, 1, true, seed),
        new ActivationLayer(Activation.RELU), new Conv2d(be, 32, n, 3, 2, 1, true, seed + 1));
  }

  private static int quarter(int side) {
    return ((side + 1) / 2 + 1) / 2;
  }

  /** Steps in a row that may be skipped for a non-finite loss or gradient before a run stops, unless told otherwise. */
  public static final int DEFAULT_MAX_CONSECUTIVE_SKIPS = 10;

  private final Backend backend;
  private final Config config;
  private final QFactory qFactory;
  private final boolean imagesAsNchw;
  private int maxConsecutiveSkips = DEFAULT_MAX_CONSECUTIVE_SKIPS;

  /**
   * @param imagesAsNchw feed images as [N, C, H, W] (for convolutional Q) instead of [N, C*H*W]
   */
  public FpnExperiment(Backend backend, Config config, QFactory qFactory, boolean imagesAsNchw) {
    this.backend = backend;
    this.config = config;
    this.qFactory = qFactory;
    this.imagesAsNchw = imagesAsNchw;
  }

  /**
   * A step whose loss or gradients are NaN or infinite (or whose fixed-point iteration diverged)
   * updates nothing and is skipped; after {@code n} such steps in a row the run stops with a
   * {@link NonFiniteStepException}. With 0 the first such step stops it. Returns this.
   */
  public FpnExperiment maxConsecutiveSkips(int n) {
    if (n < 0) throw new IllegalArgumentException("the number of skipped steps allowed must be >= 0, got " + n);
    this.maxConsecutiveSkips = n;
    return this;
  }

  /**
   * Q from the factory; with images as [N, C, H, W] (the convolutional model) R is a 3x3
   * convolution on Q's n = latent feature maps ({@link ConvLatentMap}) and S = Flatten + Linear; otherwise
   * R is dense on the latent size ({@link LatentMap}) and S = Linear.
   */
  public FixedPointNetwork build(Dataset train, int classes) {
    Module q = qFactory.create(backend, train, config.latent(), config.seed());
    Latent r;
    Module s;
    if (imagesAsNchw) {
      int h = quarter(train.height()), w = quarter(train.width());
      r = new ConvLatentMap(backend, config.latent(), h, w, config.gamma(), config.seed() + 10);
      s = new Sequential(new Flatten(), new Linear(backend, config.latent() * h * w, classes, true, config.seed() + 20));
    } else {
      r = new LatentMap(backend, config.latent(), Activation.RELU, config.gamma(), config.seed() + 10);
      s = new Linear(backend, config.latent(), classes, true, config.seed() + 20);
    }
    FixedPointNetwork f = new FixedPointNetwork(backend, q, r, s).tolerance(config.tolerance(), config.maxIterations())
        .anderson(config.andersonMemory());
    return switch (config.variant()) {
      case JFB -> f.backward(FixedPointNetwork.BackwardMode.JFB, 1, 1e-4);
      case IMPLICIT -> f.backward(FixedPointNetwork.BackwardMode.NEUMANN, config.implicitProducts(), 1e-4);
      case IMPLICIT_CG -> f.backward(FixedPointNetwork.BackwardMode.CG, config.implicitProducts(), 1e-4);
      case EXPLICIT -> f.explicitDepth(config.explicitDepth());
    };
  }

  /**
   * Trains and evaluates after every epoch; {@code afterEpoch} sees each epoch's result as it ends.
   * An epoch's training loss is the mean over its applied (not skipped) steps.
   *
   * @throws NonFiniteStepException after too many skipped steps in a row ({@link #maxConsecutiveSkips})
   */
  public List<EpochResult> run(Dataset train, Dataset test, int classes, java.util.function.Consumer<EpochResult> afterEpoch,
      IntConsumer batchDone) {
    List<EpochResult> results = new ArrayList<>();
    try (FixedPointNetwork f = build(train, classes); Graph graph = new Graph(backend);
        Adam adam = new Adam(f.namedParameters(), config.learningRate());
        Tensor x = backend.zeros(shape(train, config.batch())); Tensor labels = backend.zeros(config.batch());
        Tensor lossSum = backend.zeros(1)) {
      LearningRateSchedule schedule = config.cosineLr()
          ? LearningRateSchedule.cosine(config.learningRate(), 0f, (long) config.epochs() * (train.size() / config.batch()))
          : step -> config.learningRate();
      adam.nonFinitePolicy(maxConsecutiveSkips == 0 ? Optimizer.NonFinitePolicy.FAIL : Optimizer.NonFinitePolicy.SKIP);
      for (int epoch = 1; epoch <= config.epochs(); epoch++) {
        long t0 = System.nanoTime();
        double iterSum = 0, vjpSum = 0;
        int batches = 0, applied = 0;
        backend.fill(lossSum, 0f);
        for (Dataset.Batch b : train.batches(config.batch(), config.seed() + epoch, true)) {
          x.copyFrom(b.images()); // the batch's data: the only uploads of a step
          labels.copyFrom(Graph.labelValues(b.labels(), classes));
          schedule.apply(adam, adam.steps());
          long skippedBefore = adam.skippedSteps();
          Tensor loss;
          try {
            loss = trainStep(f, graph, adam, x, labels);
          } catch (NonFiniteStepException e) {
            throw new NonFiniteStepException("stopped at epoch " + epoch + " batch " + (batches + 1) + ": " + e.getMessage());
          }
          batches++;
          if (adam.skippedSteps() == skippedBefore) {
            backend.add(lossSum, loss, lossSum); // on the device: read once, at the epoch's end
            applied++;
          } else if (adam.consecutiveSkips() >= maxConsecutiveSkips) {
            throw new NonFiniteStepException("stopped at epoch " + epoch + " batch " + batches + ": "
                + adam.consecutiveSkips() + " steps in a row had a non-finite loss or gradient, or a diverged fixed-point"
                + " iteration, and were skipped (the training diverged, or the data holds NaN or infinite values)");
          }
          FixedPointNetwork.Stats st = f.lastStats();
          iterSum += st.iterations();
          vjpSum += st.vjpProducts();
          batchDone.accept(batches);
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        double workspaceMiB = (graph.workspace().bytes() + f.solverBytes()) / (1024.0 * 1024.0);
        double accuracy = accuracy(f, graph, test);
        EpochResult r = new EpochResult(epoch, applied == 0 ? Double.NaN : backend.readScalar(lossSum) / applied,
            trainSeconds, iterSum / batches, vjpSum / batches,
            accuracy, (System.nanoTime() - t0) / 1e9, workspaceMiB);
        results.add(r);
        afterEpoch.accept(r);
      }
    }
    return results;
  }

  /**
   * One training step on a batch: cross-entropy of f(x), its backward (JFB, implicit or through
   * the explicit twin, as f was built), an Adam step, and the contraction rescaling of R's weight.
   * Labels are class indices as floats (see {@link Graph#labelValues}). Returns the loss as a
   * one-element device tensor (valid until the graph's next reset); {@link FixedPointNetwork#lastStats}
   * has the solver's counts. A step whose loss or gradients are NaN or infinite, or whose
   * fixed-point iteration diverged, updates nothing: it is skipped (and a NaN loss returned) or
   * refused with a {@link NonFiniteStepException}, as the optimizer's
   * {@link Optimizer#nonFinitePolicy()} says. Host traffic: the declared reads of the solver, of
   * the finiteness check and of the contraction rescaling, Adam's declared write; nothing else,
   * with or without Anderson acceleration.
   */
  public static Tensor trainStep(FixedPointNetwork f, Graph graph, Adam adam, Tensor x, Tensor labels) {
    if (x.rank() == 0 || x.dim(0) == 0) throw new IllegalArgumentException("trainStep: the batch " + x + " is empty");
    graph.reset();
    adam.zeroGrad();
    Var loss;
    try {
      loss = graph.crossEntropy(f.forward(graph, graph.constant(x)), labels);
    } catch (FixedPointDivergedException e) {
      adam.skipStep(e.getMessage());
      Tensor nan = graph.workspace().take(1);
      graph.backend().fill(nan, Float.NaN);
      return nan;
    }
    graph.backward(loss);
    if (adam.stepIfFinite(loss.value())) f.latentMap().enforceContraction(2);
    return loss.value();
  }

  private int[] shape(Dataset d, int rows) {
    return imagesAsNchw ? new int[] {rows, d.channels(), d.height(), d.width()} : new int[] {rows, d.sampleSize()};
  }

  /** Test accuracy with forward passes only, in batches of the training batch size (the remainder too). */
  public double accuracy(FixedPointNetwork f, Graph graph, Dataset test) {
    int correct = 0;
    for (Dataset.Batch b : test.batchesInOrder(config.batch())) {
      int n = b.size();
      try (Tensor x = backend.zeros(shape(test, n))) {
        float[] img = b.images();
        x.copyFrom(n == b.capacity() ? img : java.util.Arrays.copyOf(img, n * test.sampleSize()));
        graph.reset();
        float[] logits;
        try (Graph.Scope s = graph.noGrad()) {
          logits = f.forward(graph, graph.constant(x)).value().toArray();
        }
        int k = logits.length / n;
        for (int i = 0; i < n; i++) {
          int best = 0;
          for (int j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
          if (best == b.labels()[i]) correct++;
        }
      }
    }
    return (double) correct / test.size();
  }
}
