package io.idemnet.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.idempotent.SymmetricEigen;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PcaTest {
  /** A trajectory moving mostly along u and less along v (orthonormal in R^50) gives back u and v. */
  @Test
  void recoversTheDirectionsOfAKnownTrajectory() {
    int p = 50, t = 30;
    Random rnd = new Random(3);
    double[] u = new double[p], v = new double[p];
    for (int i = 0; i < p; i++) {
      u[i] = rnd.nextGaussian();
      v[i] = rnd.nextGaussian();
    }
    normalize(u);
    double uv = dot(u, v);
    for (int i = 0; i < p; i++) v[i] -= uv * u[i];
    normalize(v);
    float[][] points = new float[t][p];
    for (int k = 0; k < t; k++) {
      double a = 3.0 * k / t, b = 0.5 * Math.sin(k);
      for (int i = 0; i < p; i++) points[k][i] = (float) (1.0 + a * u[i] + b * v[i] + 1e-4 * rnd.nextGaussian());
    }
    Pca.Result r = Pca.of(points, 2);
    assertEquals(1.0, Math.abs(dot(r.directions()[0], u)), 1e-3, "first direction is u");
    assertEquals(1.0, Math.abs(dot(r.directions()[1], v)), 1e-3, "second direction is v");
    assertTrue(r.variances()[0] > r.variances()[1]);
    assertEquals(0.0, dot(r.directions()[0], r.directions()[1]), 1e-9, "orthogonal");
  }

  @Test
  void symmetricEigenOfAKnownMatrix() {
    double[][] a = {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}};
    double[][] vec = new double[3][3];
    double[] val = SymmetricEigen.decompose(a, vec);
    assertEquals(5, val[0], 1e-12);
    assertEquals(3, val[1], 1e-12);
    assertEquals(1, val[2], 1e-12);
    // A v = lambda v for every column.
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < 3; i++) {
        double av = 0;
        for (int j = 0; j < 3; j++) av += a[i][j] * vec[j][c];
        assertEquals(val[c] * vec[i][c], av, 1e-12);
      }
    }
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  private static void normalize(double[] a) {
    double n = Math.sqrt(dot(a, a));
    for (int i = 0; i < a.length; i++) a[i] /= n;
  }
}
