package io.idemnet.experiments;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.experiments.CompareConfig.DataSpec;
import io.idemnet.experiments.CompareResult.RunResult;
import io.idemnet.experiments.CompareResult.Trajectory;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.idempotent.IdempotentLoss.Mode;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Sgd;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs an MB-vs-OB comparison. For each learning rate and run, an MB network and an OB network
 * start from the same initialisation and are trained in lockstep, epoch by epoch, on the same
 * batches; so the gradient analysis can compare the two algorithms' gradients at the same point
 * ("along MB", "along OB") and across the paired runs ("separate").
 *
 * <p>Seeds: run r at learning-rate index l initialises from seed + 1000 (l * runs + r); its
 * batches come from the counter-based generator, so every number is reproducible.
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

  /** Total epochs of lockstep training, for progress bars. */
  public long totalEpochs() {
    return (long) config.learningRates().size() * config.runs() * config.epochs();
  }

  /**
   * Runs everything. {@code stop} is polled between epochs; when it returns true the current run
   * is abandoned and the result is marked interrupted.
   */
  public CompareResult run(Listener listener, java.util.function.BooleanSupplier stop) {
    List<RunResult> runs = new ArrayList<>();
    List<Trajectory> trajectories = new ArrayList<>();
    int in = config.dims()[0];
    try (Graph graph = new Graph(backend); Tensor probe = backend.zeros(config.probeRows(), in);
        Tensor identity = identity(in)) {
      backend.randomNormal(probe, config.seed() ^ 0x5EED, 0f, 1f);
      for (int l = 0; l < config.learningRates().size(); l++) {
        for (int r = 0; r < config.runs(); r++) {
          if (stop.getAsBoolean()) return new CompareResult(config, runs, trajectories, true);
          boolean withTrajectory = config.pca() && r == 0;
          Paired p = runPair(graph, probe, identity, l, r, withTrajectory, listener, stop);
          if (p == null) return new CompareResult(config, runs, trajectories, true);
          runs.add(p.mb);
          runs.add(p.ob);
          if (p.trajectory != null) trajectories.add(p.trajectory);
          listener.runFinished(p.mb, p.ob);
        }
      }
    }
    return new CompareResult(config, runs, trajectories, false);
  }

  private record Paired(RunResult mb, RunResult ob, Trajectory trajectory) {}

  private Paired runPair(Graph graph, Tensor probe, Tensor identity, int l, int r, boolean withTrajectory,
      Listener listener, java.util.function.BooleanSupplier stop) {
    float lr = config.learningRates().get(l);
    long initSeed = config.seed() + 1000L * (l * (long) config.runs() + r);
    int epochs = config.epochs();
    Activation act = Activation.leakyRelu(config.slope());
    try (Sequential mb = Sequential.mlp(backend, initSeed, act, config.dims());
        Sequential ob = Sequential.mlp(backend, initSeed, act, config.dims());
        Sgd sgdMb = new Sgd(mb.namedParameters(), lr); Sgd sgdOb = new Sgd(ob.namedParameters(), lr);
        Batches batches = new Batches(initSeed)) {
      double[][] err = new double[2][epochs + 1], secs = new double[2][epochs + 1];
      int g = config.gradients() ? epochs + 1 : 0;
      double[][] normMb = new double[2][g], normOb = new double[2][g], cosAlong = new double[2][g];
      double[] cosSeparate = new double[g];
      List<float[]> pathMb = new ArrayList<>(), pathOb = new ArrayList<>();
      for (int e = 0; e <= epochs; e++) {
        if (e > 0) {
          if (stop.getAsBoolean()) return null;
          secs[0][e] = trainEpoch(graph, mb, sgdMb, batches, e, Mode.MODIFIED);
          secs[1][e] = trainEpoch(graph, ob, sgdOb, batches, e, Mode.ORDINARY);
          listener.progress(l, r, e);
        }
        graph.reset();
        err[0][e] = IdempotentLoss.error(graph, mb, probe);
        graph.reset();
        err[1][e] = IdempotentLoss.error(graph, ob, probe);
        if (config.gradients()) {
          Tensor x = batches.batch(e, 0);
          float[][] onMb = bothGradients(graph, mb, x), onOb = bothGradients(graph, ob, x);
          normMb[0][e] = ParameterVector.norm(onMb[0]);
          normOb[0][e] = ParameterVector.norm(onMb[1]);
          normMb[1][e] = ParameterVector.norm(onOb[0]);
          normOb[1][e] = ParameterVector.norm(onOb[1]);
          cosAlong[0][e] = ParameterVector.absCosine(onMb[0], onMb[1]);
          cosAlong[1][e] = ParameterVector.absCosine(onOb[0], onOb[1]);
          cosSeparate[e] = ParameterVector.absCosine(onMb[0], onOb[1]);
        }
        if (withTrajectory) {
          pathMb.add(ParameterVector.values(mb));
          pathOb.add(ParameterVector.values(ob));
        }
      }
      RunResult rm = new RunResult("MB", lr, r, err[0], secs[0], normMb[0], normOb[0], cosAlong[0], cosSeparate,
          frobenius(graph, mb, identity), trace(graph, mb, identity));
      RunResult ro = new RunResult("OB", lr, r, err[1], secs[1], normMb[1], normOb[1], cosAlong[1], cosSeparate,
          frobenius(graph, ob, identity), trace(graph, ob, identity));
      Trajectory t = withTrajectory ? trajectory(graph, probe, lr, mb, pathMb, pathOb) : null;
      return new Paired(rm, ro, t);
    }
  }

  /** Trains one epoch; returns its wall-clock seconds (training steps only). */
  private double trainEpoch(Graph graph, Sequential f, Sgd sgd, Batches batches, int epoch, Mode mode) {
    long t0 = System.nanoTime();
    for (int s = 0; s < config.stepsPerEpoch(); s++) {
      Tensor loss = IdempotentLoss.trainStep(graph, f, sgd, batches.batch(epoch, s), mode);
      // The loss stays on the device; a declared read every 100 steps stops a diverged run.
      if ((s + 1) % 100 == 0 && !Float.isFinite(graph.backend().readScalar(loss))) break;
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

  /** ||f(I)||_F, where row i of I is the unit vector e_i. */
  private double frobenius(Graph graph, Sequential f, Tensor identity) {
    try (Graph.Scope s = graph.noGrad()) {
      graph.reset();
      return Math.sqrt(backend.sumOfSquares(f.forward(graph, graph.constant(identity)).value()));
    }
  }

  /** trace f(I) = sum_i f(e_i)_i. */
  private double trace(Graph graph, Sequential f, Tensor identity) {
    try (Graph.Scope s = graph.noGrad()) {
      graph.reset();
      float[] fi = f.forward(graph, graph.constant(identity)).value().toArray();
      int n = identity.dim(0);
      double t = 0;
      for (int i = 0; i < n; i++) t += fi[i * n + i];
      return t;
    }
  }

  /** Projects both paths on their first two principal components and evaluates the error surface. */
  private Trajectory trajectory(Graph graph, Tensor probe, float lr, Sequential scratch, List<float[]> pathMb,
      List<float[]> pathOb) {
    List<float[]> all = new ArrayList<>(pathMb);
    all.addAll(pathOb);
    Pca.Result pca = Pca.of(all.toArray(new float[0][]), 2);
    double[] origin = new double[pathMb.get(0).length];
    for (int i = 0; i < origin.length; i++) origin[i] = pathMb.get(0)[i];
    double[][] mbXY = project(pca, pathMb, origin), obXY = project(pca, pathOb, origin);
    double minX = 0, maxX = 0, minY = 0, maxY = 0;
    for (double[][] path : new double[][][] {mbXY, obXY}) {
      for (double[] p : path) {
        minX = Math.min(minX, p[0]);
        maxX = Math.max(maxX, p[0]);
        minY = Math.min(minY, p.length > 1 ? p[1] : 0);
        maxY = Math.max(maxY, p.length > 1 ? p[1] : 0);
      }
    }
    double padX = 0.25 * Math.max(maxX - minX, 1e-6), padY = 0.25 * Math.max(maxY - minY, 1e-6);
    int n = config.pcaGrid();
    double[] gx = new double[n], gy = new double[n];
    for (int i = 0; i < n; i++) {
      gx[i] = minX - padX + (maxX - minX + 2 * padX) * i / (n - 1);
      gy[i] = minY - padY + (maxY - minY + 2 * padY) * i / (n - 1);
    }
    double[][] surface = new double[n][n];
    float[] point = new float[origin.length];
    double[] d1 = pca.directions()[0], d2 = pca.directions().length > 1 ? pca.directions()[1] : new double[origin.length];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < point.length; k++) point[k] = (float) (origin[k] + gx[j] * d1[k] + gy[i] * d2[k]);
        ParameterVector.assign(scratch, point);
        graph.reset();
        surface[i][j] = IdempotentLoss.error(graph, scratch, probe);
      }
    }
    return new Trajectory(lr, mbXY, obXY, gx, gy, surface, pca.variances());
  }

  private static double[][] project(Pca.Result pca, List<float[]> path, double[] origin) {
    double[][] out = new double[path.size()][];
    for (int i = 0; i < out.length; i++) out[i] = pca.project(path.get(i), origin);
    return out;
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
