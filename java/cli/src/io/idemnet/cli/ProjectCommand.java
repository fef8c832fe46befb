package io.idemnet.cli;

import io.idemnet.idempotent.CorrectorFamily;
import io.idemnet.idempotent.Eigenvalues;
import io.idemnet.idempotent.MatrixProjection;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "project", mixinStandardHelpOptions = true,
    description = "Project a matrix onto the idempotent manifold with K <- K + gamma (g(K) - K); print ||K^2 - K||_F "
        + "per iteration and the eigenvalues before and after.")
final class ProjectCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--matrix", description = "a square matrix as CSV (one row per line); default: a random one")
  Path matrix;

  @Option(names = "--size", description = "size of the random matrix (default: ${DEFAULT-VALUE})", defaultValue = "8")
  int size;

  @Option(names = "--random", description = "near-idempotent (a random projection plus noise) or gaussian "
      + "(entries N(0, 1/n)) (default: ${DEFAULT-VALUE})", defaultValue = "near-idempotent")
  String random;

  @Option(names = "--noise", description = "noise scale of the near-idempotent matrix (default: ${DEFAULT-VALUE})",
      defaultValue = "0.1")
  double noise;

  @Option(names = "--seed", defaultValue = "1", description = "seed of the random matrix (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--order", defaultValue = "3", description = "corrector order 3..8; 3 is g(K) = 3K^2 - 2K^3 "
      + "(default: ${DEFAULT-VALUE})")
  int order;

  @Option(names = "--alphas", split = ",", description = "the free alphas alpha_2..alpha_{j-2} of the order-j corrector, "
      + "numbered as in the paper's Appendix A (order - 3 values)")
  double[] alphas;

  @Option(names = "--q", split = ",", description = "instead of --alphas: the coefficients q_0..q_{j-4} of q in "
      + "p(x) = 3x^2 - 2x^3 + x^2 (1 - x)^2 q(x)")
  double[] q;

  @Option(names = "--coefficients", split = ",", description = "instead of --order and --alphas: the raw coefficients "
      + "c_0..c_j of p(x) = sum c_k x^k (checked: p(0) = 0, p(1) = 1, p'(0) = p'(1) = 0)")
  double[] coefficients;

  @Option(names = "--gamma", defaultValue = "1", description = "step size in (0, 1] (default: ${DEFAULT-VALUE})")
  double gamma;

  @Option(names = "--steps", defaultValue = "50", description = "maximum iterations (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--tol", defaultValue = "1e-10", description = "stop when ||K^2 - K||_F < tol (default: ${DEFAULT-VALUE})")
  double tol;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    MatrixProjection projection;
    try {
      projection = new MatrixProjection(corrector(), gamma);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (steps < 1 || !(tol >= 0)) throw new ParameterException(spec.commandLine(), "need --steps >= 1 and --tol >= 0");
    double[][] k0 = matrix != null ? readCsv(matrix) : randomMatrix();
    out.printf(Locale.ROOT, "matrix %dx%d, corrector %s, gamma %s%n", k0.length, k0.length, projection.corrector(), gamma);
    out.println("eigenvalues before: " + Eigenvalues.compute(k0));
    MatrixProjection.Result r = projection.run(k0, steps, tol);
    out.println("iteration  ||K^2 - K||_F");
    for (int i = 0; i < r.errors().length; i++) out.printf(Locale.ROOT, "%9d  %.6e%n", i, r.errors()[i]);
    out.println("status: " + r.status() + " after " + r.steps() + " iterations");
    out.println("eigenvalues after:  " + Eigenvalues.compute(r.matrix()));
    return r.status() == MatrixProjection.Status.DIVERGED ? 1 : 0;
  }

  private CorrectorFamily corrector() {
    int given = (alphas != null ? 1 : 0) + (q != null ? 1 : 0) + (coefficients != null ? 1 : 0);
    if (given > 1) throw new IllegalArgumentException("give at most one of --alphas, --q and --coefficients");
    if (coefficients != null) return CorrectorFamily.ofCoefficients(coefficients);
    if (q != null) return CorrectorFamily.ofQ(order, q);
    return CorrectorFamily.of(order, alphas != null ? alphas : new double[0]);
  }

  private double[][] randomMatrix() {
    if (size < 1 || size > 512) throw new ParameterException(spec.commandLine(), "--size must be in 1..512");
    Random rnd = new Random(seed);
    int n = size;
    double[][] k = new double[n][n];
    switch (random.toLowerCase(Locale.ROOT)) {
      case "gaussian" -> {
        for (double[] row : k) for (int j = 0; j < n; j++) row[j] = rnd.nextGaussian() / Math.sqrt(n);
      }
      case "near-idempotent" -> {
        // P = A (B A)^-1 B would need an inverse; an orthogonal projection onto r random directions is simpler:
        // P = Q Q^T with Q the Gram-Schmidt basis of r Gaussian vectors, then K = P + noise E.
        int rank = Math.max(1, n / 2);
        double[][] q = new double[rank][n];
        for (int c = 0; c < rank; c++) {
          for (int i = 0; i < n; i++) q[c][i] = rnd.nextGaussian();
          for (int p = 0; p < c; p++) {
            double dot = 0;
            for (int i = 0; i < n; i++) dot += q[c][i] * q[p][i];
            for (int i = 0; i < n; i++) q[c][i] -= dot * q[p][i];
          }
          double norm = 0;
          for (int i = 0; i < n; i++) norm += q[c][i] * q[c][i];
          for (int i = 0; i < n; i++) q[c][i] /= Math.sqrt(norm);
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            double p = 0;
            for (int c = 0; c < rank; c++) p += q[c][i] * q[c][j];
            k[i][j] = p + noise * rnd.nextGaussian() / Math.sqrt(n);
          }
        }
      }
      default -> throw new ParameterException(spec.commandLine(), "--random must be near-idempotent or gaussian");
    }
    return k;
  }

  static double[][] readCsv(Path file) throws IOException {
    List<double[]> rows = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file)) {
      lineNo++;
      if (line.isBlank()) continue;
      String[] cells = line.trim().split("\\s*[,;\\s]\\s*");
      double[] row = new double[cells.length];
      for (int j = 0; j < cells.length; j++) {
        try {
          row[j] = Double.parseDouble(cells[j]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(file + ":" + lineNo + ": not a number: '" + cells[j] + "'");
        }
        if (!Double.isFinite(row[j])) throw new IllegalArgumentException(file + ":" + lineNo + ": non-finite value");
      }
      rows.add(row);
    }
    int n = rows.size();
    if (n == 0) throw new IllegalArgumentException(file + ": empty matrix");
    for (double[] row : rows) {
      if (row.length != n) throw new IllegalArgumentException(file + ": not square: " + n + " rows but a row of " + row.length);
    }
    return rows.toArray(new double[0][]);
  }
}
