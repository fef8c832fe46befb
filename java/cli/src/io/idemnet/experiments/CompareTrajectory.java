package io.idemnet.experiments;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Activation;
import io.idemnet.backend.Backend;
import io.idemnet.experiments.CompareResult.Trajectory;
import io.idemnet.idempotent.IdempotentLoss;
import io.idemnet.nn.Sequential;
import io.idemnet.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The paper's Figure 3 (and Appendix H): run 0's MB path at MB's best learning rate and OB path at
 * OB's best, from their shared initialisation theta_0, projected on the first two principal
 * components of all their points together (Li et al. 2018's method, as the paper applies it), with
 * the idempotent error on a grid over that plane through theta_0. The paper reports the variance
 * the two components capture (above 97.8 % on B2) and that PC1 and PC2 are orthogonal (|cos| below
 * 1e-6); both are measured here.
 */
public final class CompareTrajectory {
  private CompareTrajectory() {}

  /**
   * Computes the trajectory from the parameter paths under {@code pathsDir}, or returns null when
   * either path file is missing.
   */
  public static Trajectory compute(Backend backend, CompareConfig config, Path pathsDir, float lrMb, float lrOb) {
    Path mbFile = ParameterPaths.file(pathsDir, "MB", lrMb), obFile = ParameterPaths.file(pathsDir, "OB", lrOb);
    if (!Files.exists(mbFile) || !Files.exists(obFile)) return null;
    ParameterPaths.Recorded mb = ParameterPaths.read(mbFile), ob = ParameterPaths.read(obFile);
    if (!Arrays.equals(mb.points().get(0), ob.points().get(0))) {
      throw new IllegalStateException("run 0's MB and OB paths do not start at the same parameters: " + mbFile + ", "
          + obFile);
    }
    List<float[]> all = new ArrayList<>(mb.points());
    all.addAll(ob.points());
    Pca.Result pca = Pca.of(all.toArray(new float[0][]), 2);
    float[] start = mb.points().get(0);
    double[] origin = new double[start.length];
    for (int i = 0; i < origin.length; i++) origin[i] = start[i];
    double[][] mbXY = project(pca, mb.points(), origin), obXY = project(pca, ob.points(), origin);
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
    double[][] dirs = pca.directions();
    double[] d1 = dirs[0], d2 = dirs.length > 1 ? dirs[1] : new double[origin.length];
    double[][] surface = new double[n][n];
    float[] point = new float[origin.length];
    try (Graph graph = new Graph(backend); Tensor probe = CompareExperiment.probe(backend, config);
        Sequential scratch = Sequential.mlp(backend, 0, Activation.leakyRelu(config.slope()), config.dims())) {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          for (int k = 0; k < point.length; k++) point[k] = (float) (origin[k] + gx[j] * d1[k] + gy[i] * d2[k]);
          ParameterVector.assign(scratch, point);
          graph.reset();
          surface[i][j] = IdempotentLoss.error(graph, scratch, probe);
        }
      }
    }
    double captured = 0;
    for (double v : pca.variances()) captured += v;
    double cosine = 0;
    if (dirs.length > 1) {
      double dot = 0, n1 = 0, n2 = 0;
      for (int k = 0; k < d1.length; k++) {
        dot += d1[k] * d2[k];
        n1 += d1[k] * d1[k];
        n2 += d2[k] * d2[k];
      }
      cosine = Math.abs(dot) / Math.sqrt(n1 * n2);
    }
    return new Trajectory(lrMb, lrOb, mb.epochs(), mbXY, obXY, gx, gy, surface, pca.variances(),
        pca.totalVariance() > 0 ? captured / pca.totalVariance() : Double.NaN, cosine);
  }

  private static double[][] project(Pca.Result pca, List<float[]> path, double[] origin) {
    double[][] out = new double[path.size()][];
    for (int i = 0; i < out.length; i++) out[i] = pca.project(path.get(i), origin);
    return out;
  }
}
