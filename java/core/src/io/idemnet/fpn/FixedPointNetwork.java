package io.idemnet.fpn;

import io.idemnet.autograd.CustomFunction;
import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.nn.Module;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Fixed Point Network (Wu Fung, Heaton et al.): M(d) = S(u*), u* = T(u*; d) with
 * T(u; d) = R(u, Q(d)); u has Q's output shape ([N, n] for {@link LatentMap}, feature maps for
 * {@link ConvLatentMap}).
 *
 * <p>Forward: q = Q(d) is recorded; u* is found by iterating T from u = 0 <em>without a tape</em>
 * (a private graph whose buffers are recycled every iteration, so memory does not grow with the
 * iteration count) until the largest per-sample residual ||u_{k+1} - u_k|| is below the
 * tolerance or the iteration limit is reached. Then one application z = T(u*; q) is recorded
 * with u* held constant, and S(z) is the output.
 *
 * <p>Backward, by {@link BackwardMode}: {@code JFB} backpropagates through that one application
 * (Jacobian-free backprop); {@code NEUMANN} and {@code CG} first replace dL/dz = g by the
 * implicit-function gradient v = (I - J^T)^{-1} g, J = dT/du at u*, by the Neumann series or by
 * conjugate gradients on the normal equations, counting the Jacobian products. With
 * {@code explicitDepth} > 0 the network is instead the explicit twin: T applied that many times
 * from u = 0, all recorded.
 *
 * <p>Host traffic (docs/architecture.md, "Device-resident steps"): the plain iteration stays on
 * the device and makes one declared read per iteration, the residual norm that decides whether to
 * stop; the implicit backward makes one declared read per stopping test (a squared norm: NEUMANN
 * one per product, CG one per product plus one per iteration). Anderson acceleration stays on
 * the device too ({@link Backend#andersonRecord}, {@link Backend#andersonMix}) with the same one
 * read per iteration.
 */
public final class FixedPointNetwork implements Module {
  /** How the gradient reaches the parameters through the fixed point u*. */
  public enum BackwardMode {
    /** Jacobian-free backprop: through one application of T at u*. */
    JFB,
    /** The implicit gradient by the Neumann series (vector-Jacobian products). */
    NEUMANN,
    /** The implicit gradient by conjugate gradients on the normal equations (J and J^T products). */
    CG
  }

  /** Solver statistics of the last forward pass and (for the implicit modes) the Jacobian products of the last backward. */
  public record Stats(int iterations, double maxResidual, boolean converged, int vjpProducts) {}

  private final Module q;
  private final Latent r;
  private final Module s;
  private final Graph solver;
  private double tolerance = 1e-4;
  private int maxIterations = 50;
  private BackwardMode mode = BackwardMode.JFB;
  private int implicitProducts = 50;
  private double implicitTolerance = 1e-4;
  private int explicitDepth;
  private int andersonMemory = 1;
  // Anderson's history ([memory, ...u's shape], on the backend), kept between solves while the
  // memory and the batch shape stay the same; null for the plain iteration.
  private Tensor andersonImages, andersonResiduals;
  private int lastIterations;
  private double lastResidual;
  private int lastVjps;

  /** The network S(u*), u* = T(u*; Q(d)) with T given by the latent map {@code r}. */
  public FixedPointNetwork(Backend backend, Module q, Latent r, Module s) {
    this.q = q;
    this.r = r;
    this.s = s;
    this.solver = new Graph(backend);
  }

  /** Sets the forward solver's stopping rule: the largest per-sample residual ||T(u) - u|| below {@code tol}, or {@code maxIter} iterations; returns this. */
  public FixedPointNetwork tolerance(double tol, int maxIter) {
    if (!(tol > 0) || maxIter < 1) throw new IllegalArgumentException("need tolerance > 0 and at least one iteration");
    this.tolerance = tol;
    this.maxIterations = maxIter;
    return this;
  }

  /**
   * The Jacobian products that {@link BackwardMode#CG} may use for {@code iterations} conjugate
   * gradient iterations: one M product for the initial residual and one M^T product for the first
   * direction, then one M and one M^T product an iteration. Seed 004's baseline caps CG at 500
   * iterations ("We set a maximum of 500 CG iterations"), i.e. {@code cgProducts(500)} = 1002.
   */
  public static int cgProducts(int iterations) {
    if (iterations < 1) throw new IllegalArgumentException("need at least one CG iteration, got " + iterations);
    return Math.addExact(2, Math.multiplyExact(2, iterations));
  }

  /** The backward mode; for the implicit ones, the most Jacobian products and the relative tolerance. */
  public FixedPointNetwork backward(BackwardMode m, int maxProducts, double tol) {
    if (maxProducts < 1 || !(tol > 0)) throw new IllegalArgumentException("need at least one Jacobian product and tol > 0");
    if (m == BackwardMode.CG && maxProducts < 2) throw new IllegalArgumentException("conjugate gradients need at least 2 products");
    this.mode = m;
    this.implicitProducts = maxProducts;
    this.implicitTolerance = tol;
    return this;
  }

  /**
   * Anderson acceleration of the forward iteration with the last {@code memory} iterates per
   * sample (type II, undamped: each sample's next iterate is the combination of its last
   * {@code memory} images T(u_i) whose residuals combine to the least norm; see
   * {@link Backend#andersonMix}); 1 is the plain iteration u_{k+1} = T(u_k). At most
   * {@link Backend#ANDERSON_MAX_MEMORY}.
   */
  public FixedPointNetwork anderson(int memory) {
    if (memory < 1 || memory > Backend.ANDERSON_MAX_MEMORY) {
      throw new IllegalArgumentException("Anderson memory must be between 1 (plain iteration) and "
          + Backend.ANDERSON_MAX_MEMORY + ", got " + memory);
    }
    this.andersonMemory = memory;
    return this;
  }

  /** Makes this the explicit twin: depth applications of T from u = 0, all recorded (0: implicit). */
  public FixedPointNetwork explicitDepth(int depth) {
    if (depth < 0) throw new IllegalArgumentException("negative depth");
    this.explicitDepth = depth;
    return this;
  }

  /** The latent map R of T. */
  public Latent latentMap() {
    return r;
  }

  /** Buffers held by the tape-free solver (constant in the iteration count; for tests). */
  int solverBuffers() {
    return solver.workspace().size();
  }

  /**
   * Bytes held by the tape-free solver on its backend: its buffers plus Anderson's history when
   * accelerated; constant in the iteration count.
   */
  public long solverBytes() {
    long history = andersonImages == null ? 0 : 2 * andersonImages.numel() * Float.BYTES;
    return solver.workspace().bytes() + history;
  }

  /** Statistics of the last forward solve (iterations, residual). */
  public Stats lastStats() {
    return new Stats(lastIterations, lastResidual, lastResidual < tolerance, lastVjps);
  }

  @Override
  public Var forward(Graph graph, Var d) {
    Var qv = q.forward(graph, d);
    if (explicitDepth > 0) {
      Var u = graph.constant(zeros(graph, qv.shape()));
      for (int i = 0; i < explicitDepth; i++) u = r.apply(graph, u, qv);
      lastIterations = explicitDepth;
      lastResidual = Double.NaN;
      return s.forward(graph, u);
    }
    Tensor uStar = solve(graph, qv.value());
    Var z = r.apply(graph, graph.constant(uStar), qv);
    if (mode != BackwardMode.JFB) z = graph.apply(new ImplicitGradient(uStar, qv.value()), z);
    lastVjps = 0;
    return s.forward(graph, z);
  }

  private static Tensor zeros(Graph graph, int... shape) {
    Tensor t = graph.workspace().take(shape);
    graph.backend().fill(t, 0f);
    return t;
  }

  /**
   * Fixed-point iteration without a tape; the result lives in the caller graph's workspace. The
   * residual of iteration k is max over samples of ||T(u_k) - u_k||; the result is T(u_k) of the
   * first iterate whose residual is below the tolerance (or of the last one).
   */
  private Tensor solve(Graph graph, Tensor qValue) {
    Backend be = graph.backend();
    Tensor u = zeros(graph, qValue.shape());
    boolean accelerated = andersonMemory > 1;
    if (accelerated) ensureHistory(be, qValue.shape());
    else freeHistory();
    // Everything stays on the backend; the one read per iteration is the residual norm, which
    // decides whether to stop (plain: maxRowNorm of T(u) - u; Anderson: the same, from its record).
    Tensor diff = accelerated ? null : graph.workspace().take(qValue.shape());
    Tensor residual = graph.workspace().take(1);
    lastResidual = Double.POSITIVE_INFINITY;
    lastIterations = 0;
    for (int k = 0; k < maxIterations; k++) {
      solver.reset();
      Tensor next;
      try (Graph.Scope ng = solver.noGrad()) {
        next = r.apply(solver, solver.constant(u), solver.constant(qValue)).value();
      }
      lastIterations = k + 1;
      int slot = k % andersonMemory;
      if (accelerated) {
        be.andersonRecord(u, next, slot, andersonImages, andersonResiduals, residual);
      } else {
        be.sub(next, u, diff);
        be.maxRowNorm(diff, residual);
      }
      lastResidual = be.readScalar(residual); // the declared read: the solver decides whether to stop
      if (!Double.isFinite(lastResidual)) {
        throw new FixedPointDivergedException("fixed-point iteration diverged (non-finite residual at iteration " + (k + 1)
            + "); is T a contraction? gamma = " + r.gamma());
      }
      boolean converged = lastResidual < tolerance;
      if (!accelerated || converged || k + 1 == maxIterations) {
        be.copy(next, u);
      } else { // slots 0 .. min(k + 1, memory) - 1 hold this solve's last iterates; slot is the newest
        be.andersonMix(andersonImages, andersonResiduals, Math.min(k + 1, andersonMemory), slot, u);
      }
      if (converged) break;
    }
    return u;
  }

  /** Anderson's history for iterates of this shape, reused when it already fits. */
  private void ensureHistory(Backend be, int[] shape) {
    int[] historyShape = new int[shape.length + 1];
    historyShape[0] = andersonMemory;
    System.arraycopy(shape, 0, historyShape, 1, shape.length);
    if (andersonImages != null && andersonImages.owner() == be && andersonImages.hasShape(historyShape)) return;
    freeHistory();
    andersonImages = be.zeros(historyShape);
    andersonResiduals = be.zeros(historyShape);
  }

  private void freeHistory() {
    if (andersonImages != null) andersonImages.close();
    if (andersonResiduals != null) andersonResiduals.close();
    andersonImages = null;
    andersonResiduals = null;
  }

  /**
   * Identity forward; backward maps g to v = (I - J^T)^{-1} g, J = dT/du at u*, through
   * {@link Latent#linearize} (T is evaluated once; each product is one convolution or matrix
   * product). NEUMANN sums v = g + J^T g + (J^T)^2 g + ... until a term is below the tolerance
   * relative to g; CG solves M v = g, M = I - J^T, by conjugate gradients on the normal
   * equations M M^T y = g, v = M^T y (CGNE; one J^T and one J product an iteration) until
   * ||g - M v|| is below the tolerance relative to g. Both stop at the product limit.
   */
  private final class ImplicitGradient implements CustomFunction {
    private final Tensor uStar, qValue;

    ImplicitGradient(Tensor uStar, Tensor qValue) {
      this.uStar = uStar;
      this.qValue = qValue;
    }

    @Override
    public Tensor forward(Graph graph, Tensor... inputs) {
      Tensor out = graph.workspace().take(inputs[0].shape());
      graph.backend().copy(inputs[0], out);
      return out;
    }

    @Override
    public void backward(Graph graph, Tensor g, Tensor[] gradInputs) {
      if (gradInputs[0] == null) return;
      Latent.Linearization jac = r.linearize(graph, uStar, qValue);
      double gNorm = Math.sqrt(squaredNorm(graph, g));
      double stop = implicitTolerance * Math.max(gNorm, 1e-30);
      lastVjps = mode == BackwardMode.CG ? conjugateGradient(graph, jac, g, gradInputs[0], stop)
          : neumann(graph, jac, g, gradInputs[0], stop);
    }
  }

  private int neumann(Graph graph, Latent.Linearization jac, Tensor g, Tensor v, double stop) {
    Backend be = graph.backend();
    Tensor term = graph.workspace().take(g.shape()), next = graph.workspace().take(g.shape());
    be.copy(g, v);
    be.copy(g, term);
    int products = 0;
    while (products < implicitProducts) {
      jac.applyTransposed(term, next);
      products++;
      be.add(v, next, v);
      Tensor t = term;
      term = next;
      next = t;
      if (Math.sqrt(squaredNorm(graph, term)) <= stop) break;
    }
    return products;
  }

  /** ||t||^2 through a declared read of one scalar (the implicit solvers' stopping tests). */
  private static double squaredNorm(Graph graph, Tensor t) {
    Tensor out = graph.workspace().take(1);
    graph.backend().sumOfSquares(t, 1.0, out);
    return graph.backend().readScalar(out);
  }

  /**
   * CGNE for M v = g with M = I - J^T: conjugate gradients on M M^T y = g with v = M^T y,
   * iterated on v directly (Saad, "Iterative Methods for Sparse Linear Systems", Algorithm 8.5,
   * with his A = M). res = g - M v is the true residual; p is a combination of M^T residuals.
   */
  private int conjugateGradient(Graph graph, Latent.Linearization jac, Tensor g, Tensor v, double stop) {
    Backend be = graph.backend();
    Tensor res = graph.workspace().take(g.shape()), p = graph.workspace().take(g.shape());
    Tensor q = graph.workspace().take(g.shape()), tmp = graph.workspace().take(g.shape());
    be.copy(g, v); // v_0 = g, the Neumann series' first term
    int products = 0;
    applyM(jac, v, tmp, res, be); // res = g - M v_0
    be.sub(g, res, res);
    products++;
    double rr = squaredNorm(graph, res);
    if (Math.sqrt(rr) <= stop) return products;
    applyMT(jac, res, tmp, p, be); // p = M^T res
    products++;
    double zz = squaredNorm(graph, p);
    while (products + 2 <= implicitProducts && zz > 0) {
      double alpha = rr / zz; // ||res||^2 / ||p||^2
      be.axpy((float) alpha, p, v);
      applyM(jac, p, tmp, q, be); // q = M p
      be.axpy((float) -alpha, q, res);
      products++;
      double rrNew = squaredNorm(graph, res);
      if (Math.sqrt(rrNew) <= stop) break;
      applyMT(jac, res, tmp, q, be); // q = M^T res
      products++;
      double beta = rrNew / rr;
      be.scale(p, (float) beta, p);
      be.add(p, q, p);
      rr = rrNew;
      zz = squaredNorm(graph, p);
    }
    return products;
  }

  /** out = M x = (I - J^T) x. */
  private static void applyM(Latent.Linearization jac, Tensor x, Tensor tmp, Tensor out, Backend be) {
    jac.applyTransposed(x, tmp);
    be.sub(x, tmp, out);
  }

  /** out = M^T x = (I - J) x. */
  private static void applyMT(Latent.Linearization jac, Tensor x, Tensor tmp, Tensor out, Backend be) {
    jac.apply(x, tmp);
    be.sub(x, tmp, out);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    q.namedParameters().forEach((k, p) -> m.put("Q." + k, p));
    r.namedParameters().forEach((k, p) -> m.put("R." + k, p));
    s.namedParameters().forEach((k, p) -> m.put("S." + k, p));
    return m;
  }

  @Override
  public void close() {
    q.close();
    r.close();
    s.close();
    solver.close();
    freeHistory();
  }
}
