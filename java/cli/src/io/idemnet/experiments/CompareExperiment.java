package io.idemnet.experiments;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.experiments.CompareConfig.DataSpec;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.idempotent.IdempotentLoss.Mode;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Runs an MB-vs-OB comparison. For each learning rate and run, an MB network and an OB network
 * start from the same initialisation and are trained in lockstep, epoch by epoch, on the same
 * batches; so the gradient analysis can compare the two algorithms' gradients at the same point
 * ("along MB", "along OB") and across the paired runs ("separate").
 *
 * <p>Seeds: run r initialises from seed + 1000 r at every learning rate, and its batches come
 * from the counter-based generator seeded the same way: runs are paired across learning rates
 * as well as across algorithms, and a run's numbers do not depend on which other learning rates
 * or runs are in the sweep (so a sweep can be extended or resumed run by run). Run 0's paths at
 * two learning rates share their starting point, which the PCA figure needs (MB and OB at their
 * own best learning rates, as the paper draws Figure 3).
 */
public final class CompareExperiment {
  private final Backend backend;
  private final CompareConfig config;

  /** Receives each finished run (both algorithms) as soon as it is complete. */
  public interface Listener {
    void runFinished(RunResult mb, RunResult ob);

    void progress(int lrIndex, int run, int epoch);
  }

  public CompareExperiment(Backend backend, CompareConfig config) {
    this.backend = backend;
    this.config = config;
  }

  /** The (learning rate, run) pairs of the sweep, as "lr/run" keys (see {@link #key}). */
  public static String key(float learningRate, int run) {
    return Float.toString(learningRate) + "/" + run;
  }

  /** Seed of run r's initialisation and batches. */
  static long initSeed(long seed, int run) {
    return seed + 1000L * run;
  }

  /**
   * Runs every (learning rate, run) pair not in {@code done} (keys of {@link #key}). {@code stop}
   * is polled between epochs; when it returns true the current pair is abandoned and the result
   * is marked interrupted. Run 0's parameter paths are written under {@code pathsDir} when the
   * config asks for PCA.
   */
  public CompareResult run(Listener listener, BooleanSupplier stop, Set<String> done, Path pathsDir) {
    List<RunResult> runs = new ArrayList<>();
    int in = config.dims()[0];
    try (Graph graph = new Graph(backend); Tensor probe = probe(backend, config); Tensor identity = identity(in)) {
      for (int l = 0; l < config.learningRates().size(); l++) {
        for (int r = 0; r < config.runs(); r++) {
          if (done.contains(key(config.learningRates().get(l), r))) continue;
          if (stop.getAsBoolean()) return new CompareResult(config, runs, true);
          RunResult[] p = runPair(graph, probe, identity, l, r, listener, stop, pathsDir);
          if (p == null) return new CompareResult(config, runs, true);
          runs.add(p[0]);
          runs.add(p[1]);
          listener.runFinished(p[0], p[1]);
        }
      }
    }
    return new CompareResult(config, runs, false);
  }

  /** Runs everything (no resume, no paths written). */
  public CompareResult run(Listener listener, BooleanSupplier stop) {
    return run(listener, stop, Set.of(), null);
  }

  /**
   * Runs the pair at learning-rate index {@code lrIndex}, run {@code run}, on its own: the same
   * numbers that {@link #run} computes for it (same seeds, batches and probe; on the cpu backend
   * bit for bit at the same thread count), with run 0's parameter paths written under
   * {@code pathsDir} when the config asks for PCA. The unit of work that {@code idemnet sweep}
   * distributes. Returns the MB and the OB run, in that order.
   */
  public RunResult[] runPair(int lrIndex, int run, Path pathsDir) {
    java.util.Objects.checkIndex(lrIndex, config.learningRates().size());
    java.util.Objects.checkIndex(run, config.runs());
    try (Graph graph = new Graph(backend); Tensor probe = probe(backend, config); Tensor identity = identity(config.dims()[0])) {
      return runPair(graph, probe, identity, lrIndex, run, quiet(), () -> false, pathsDir);
    }
  }

  /** The held-out N(0,1) batch on which errors are measured. */
  static Tensor probe(Backend backend, CompareConfig config) {
    Tensor probe = backend.zeros(config.probeRows(), config.dims()[0]);
    backend.randomNormal(probe, config.seed() ^ 0x5EED, 0f, 1f);
    return probe;
  }

  private RunResult[] runPair(Graph graph, Tensor probe, Tensor identity, int l, int r, Listener listener,
      BooleanSupplier stop, Path pathsDir) {
    float lr = config.learningRates().get(l);
    long initSeed = initSeed(config.seed(), r);
    int[] recorded = config.recordedEpochs();
    int n = recorded.length;
    boolean analysis = r == 0 && config.gradients();
    boolean paths = r == 0 && config.pca() && pathsDir != null;
    Activation act = Activation.leakyRelu(config.slope());
    try (Sequential mb = Sequential.mlp(backend, initSeed, act, config.dims());
        Sequential ob = Sequential.mlp(backend, initSeed, act, config.dims());
        Sgd sgdMb = new Sgd(mb.namedParameters(), lr); Sgd sgdOb = new Sgd(ob.namedParameters(), lr);
        Batches batches = new Batches(initSeed)) {
      double[][] err = new double[2][n];
      double[] secs = new double[2];
      double[][] normMb = nan(2, n), normOb = nan(2, n), cosAlong = nan(2, n);
      double[] cosSeparate = nan(1, n)[0];
      List<float[]> pathMb = new ArrayList<>(), pathOb = new ArrayList<>();
      int next = 0;
      for (int e = 0; e <= config.epochs(); e++) {
        if (e > 0) {
          if (stop.getAsBoolean()) return null;
          secs[0] += trainEpoch(graph, mb, sgdMb, batches, e, Mode.MODIFIED);
          secs[1] += trainEpoch(graph, ob, sgdOb, batches, e, Mode.ORDINARY);
          listener.progress(l, r, e);
        }
        if (e != recorded[next]) continue;
        graph.reset();
        err[0][next] = IdempotentLoss.error(graph, mb, probe);
        graph.reset();
        err[1][next] = IdempotentLoss.error(graph, ob, probe);
        if (analysis) {
          Tensor x = batches.batch(e, 0);
          float[][] onMb = bothGradients(graph, mb, x), onOb = bothGradients(graph, ob, x);
          normMb[0][next] = ParameterVector.norm(onMb[0]);
          normOb[0][next] = ParameterVector.norm(onMb[1]);
          normMb[1][next] = ParameterVector.norm(onOb[0]);
          normOb[1][next] = ParameterVector.norm(onOb[1]);
          cosAlong[0][next] = ParameterVector.absCosine(onMb[0], onMb[1]);
          cosAlong[1][next] = ParameterVector.absCosine(onOb[0], onOb[1]);
          cosSeparate[next] = ParameterVector.absCosine(onMb[0], onOb[1]);
        }
        if (paths) {
          pathMb.add(ParameterVector.values(mb));
          pathOb.add(ParameterVector.values(ob));
        }
        next++;
      }
      if (paths) {
        ParameterPaths.write(ParameterPaths.file(pathsDir, "MB", lr), recorded, pathMb);
        ParameterPaths.write(ParameterPaths.file(pathsDir, "OB", lr), recorded, pathOb);
      }
      int epochs = config.epochs();
      return new RunResult[] {
          measure(graph, mb, probe, identity, "MB", lr, r, recorded, err[0], normMb[0], normOb[0], cosAlong[0],
              cosSeparate, secs[0] / epochs),
          measure(graph, ob, probe, identity, "OB", lr, r, recorded, err[1], normMb[1], normOb[1], cosAlong[1],
              cosSeparate, secs[1] / epochs)};
    }
  }

  private RunResult measure(Graph graph, Sequential f, Tensor probe, Tensor identity, String alg, float lr, int run,
      int[] recorded, double[] err, double[] normMb, double[] normOb, double[] cosAlong, double[] cosSeparate,
      double secondsPerEpoch) {
    float[] fi = outputs(graph, f, identity);
    int n = identity.dim(0);
    double frob = 0, trace = 0;
    for (int i = 0; i < n; i++) {
      trace += fi[i * n + i];
      for (int j = 0; j < n; j++) frob += (double) fi[i * n + j] * fi[i * n + j];
    }
    // The rows of I spread by sqrt(n - 1) about their mean (1/n, ..., 1/n).
    double rowSpread = centredNorm(fi, n) / Math.sqrt(Math.max(1, n - 1));
    double outputSpread = outputSpread(graph, f, probe);
    double jacobian = imageJacobian(graph, f, probe, config.seed() ^ 0x7ACE);
    return new RunResult(alg, lr, run, recorded, err, normMb, normOb, cosAlong, cosSeparate, secondsPerEpoch,
        Math.sqrt(frob), trace, rowSpread, outputSpread, jacobian);
  }

  /**
   * The trivial-solution measure of {@link RunResult#outputSpread}: ||f(X) - 1 mean_row f(X)||_F
   * over ||X - 1 mean_row X||_F for the rows of x.
   */
  static double outputSpread(Graph graph, Sequential f, Tensor x) {
    int n = x.dim(1);
    return centredNorm(outputs(graph, f, x), n) / centredNorm(x.toArray(), n);
  }

  /** Random directions per image point in {@link #imageJacobian}. */
  static final int JACOBIAN_PROBES = 4;

  /** Step of the central differences in {@link #imageJacobian}, along directions with N(0, 1) entries. */
  static final float JACOBIAN_STEP = 1e-3f;

  /**
   * The RMS over the rows y_i = f(x_i) of ||J_f(y_i)||_F, by Hutchinson's estimate
   * E_v ||J v||^2 = ||J||_F^2 (v with independent N(0, 1) entries) over {@link #JACOBIAN_PROBES}
   * directions per row, J v by central differences (f(y + h v) - f(y - h v)) / 2h. A LeakyReLU
   * network is piecewise linear, so the difference is exact unless y +- h v crosses a kink; with
   * h = 1e-3 that is rare, and the float32 rounding, about 1e-7 |f| / h ~ 1e-4 |f|, is far below
   * the threshold's scale (0.5) for outputs of order 1.
   */
  static double imageJacobian(Graph graph, Sequential f, Tensor x, long seed) {
    Backend be = graph.backend();
    float[] y = outputs(graph, f, x);
    int rows = x.dim(0);
    double sum = 0;
    try (Tensor v = be.zeros(x.shape()); Tensor shifted = be.zeros(x.shape())) {
      float[] point = new float[y.length];
      for (int k = 0; k < JACOBIAN_PROBES; k++) {
        be.randomNormal(v, seed + k, 0f, 1f);
        float[] dir = v.toArray();
        for (int i = 0; i < y.length; i++) point[i] = y[i] + JACOBIAN_STEP * dir[i];
        shifted.copyFrom(point);
        float[] plus = outputs(graph, f, shifted);
        for (int i = 0; i < y.length; i++) point[i] = y[i] - JACOBIAN_STEP * dir[i];
        shifted.copyFrom(point);
        float[] minus = outputs(graph, f, shifted);
        for (int i = 0; i < y.length; i++) {
          double d = ((double) plus[i] - minus[i]) / (2.0 * JACOBIAN_STEP);
          sum += d * d;
        }
      }
    }
    return Math.sqrt(sum / ((double) JACOBIAN_PROBES * rows));
  }

  /** f(x) row by row, without a tape. */
  private static float[] outputs(Graph graph, Sequential f, Tensor x) {
    try (Graph.Scope s = graph.noGrad()) {
      graph.reset();
      return f.forward(graph, graph.constant(x)).value().toArray();
    }
  }

  /** ||Y - 1 mean_row(Y)||_F of a row-major matrix with {@code cols} columns. */
  static double centredNorm(float[] y, int cols) {
    int rows = y.length / cols;
    double[] mean = new double[cols];
    for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) mean[j] += y[i * cols + j];
    for (int j = 0; j < cols; j++) mean[j] /= rows;
    double s = 0;
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        double d = y[i * cols + j] - mean[j];
        s += d * d;
      }
    }
    return Math.sqrt(s);
  }

  private static double[][] nan(int rows, int n) {
    double[][] a = new double[rows][n];
    for (double[] row : a) Arrays.fill(row, Double.NaN);
    return a;
  }

  /** Trains one epoch; returns its wall-clock seconds (training steps only). */
  private double trainEpoch(Graph graph, Sequential f, Sgd sgd, Batches batches, int epoch, Mode mode) {
    long t0 = System.nanoTime();
    for (int s = 0; s < config.stepsPerEpoch(); s++) {
      graph.reset();
      sgd.zeroGrad();
      Tensor loss = IdempotentLoss.backward(graph, f, batches.batch(epoch, s), mode);
      // An unchecked update (not IdempotentLoss.trainStep, which skips non-finite steps): compare
      // measures divergence, and a diverged run's non-finite weights are what its NaN error shows.
      sgd.step();
      if (!Float.isFinite(graph.backend().readScalar(loss))) break; // a declared read of the loss
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** The MB and the OB gradient at the module's current parameters, flattened. */
  private static float[][] bothGradients(Graph graph, Sequential f, Tensor x) {
    float[][] out = new float[2][];
    Mode[] modes = {Mode.MODIFIED, Mode.ORDINARY};
    for (int i = 0; i < 2; i++) {
      graph.reset();
      f.parameters().forEach(p -> p.zeroGrad());
      IdempotentLoss.backward(graph, f, x, modes[i]);
      out[i] = ParameterVector.gradients(f);
    }
    f.parameters().forEach(p -> p.zeroGrad());
    return out;
  }

  private Tensor identity(int n) {
    float[] eye = new float[n * n];
    for (int i = 0; i < n; i++) eye[i * n + i] = 1f;
    return backend.fromArray(eye, n, n);
  }

  /** Training batches of one run, per the data spec; reused buffers, reproducible per (epoch, step). */
  private final class Batches implements AutoCloseable {
    private final long seed;
    private final Tensor batch;
    private final float[] fixed;
    private final int in = config.dims()[0];

    Batches(long seed) {
      this.seed = seed;
      this.batch = backend.zeros(config.batch(), in);
      if (config.data() instanceof DataSpec.Fixed f) {
        try (Tensor data = backend.zeros(f.rows(), in)) {
          backend.randomNormal(data, seed ^ 0xDA7A, 0f, 1f);
          fixed = data.toArray();
        }
      } else {
        fixed = null;
      }
    }

    Tensor batch(int epoch, int step) {
      long s = seed * 0x9E3779B97F4A7C15L + (long) epoch * 1_000_003L + step;
      switch (config.data()) {
        case DataSpec.Normal n -> backend.randomNormal(batch, s, 0f, 1f);
        case DataSpec.Uniform u -> backend.randomUniform(batch, s, -u.k(), u.k());
        case DataSpec.Fixed f -> {
          // Consecutive rows of the fixed dataset, wrapping around: every epoch sees the same data.
          int rows = config.batch(), total = fixed.length / in;
          float[] b = new float[rows * in];
          long start = ((long) step * rows) % total;
          for (int i = 0; i < rows; i++) {
            System.arraycopy(fixed, (int) ((start + i) % total) * in, b, i * in, in);
          }
          batch.copyFrom(b);
        }
      }
      return batch;
    }

    @Override
    public void close() {
      batch.close();
    }
  }

  /** A listener that ignores everything. */
  public static Listener quiet() {
    return new Listener() {
      @Override
      public void runFinished(RunResult mb, RunResult ob) {}

      @Override
      public void progress(int lrIndex, int run, int epoch) {}
    };
  }
}
