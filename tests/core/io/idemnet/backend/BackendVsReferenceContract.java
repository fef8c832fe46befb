package io.idemnet.backend;

import static io.idemnet.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.reference.ReferenceBackend;
import io.idemnet.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kernel of a candidate backend (cpu, cuda) against the plain-Java reference backend; a
 * subclass names the candidate. Inputs are N(0,1) unless said otherwise. Tolerances (|got - ref| <= atol + rtol |ref|) and why:
 * <ul>
 *   <li>add/sub/mul/scale/bias: one float rounding against double-then-round: atol 0, rtol 2^-23.
 *   <li>axpy: two roundings or one FMA: atol 1e-6, rtol 1e-6.
 *   <li>ReLU/LeakyReLU forward and backward: exact (a product of two floats is exact in double).
 *   <li>Tanh/Sigmoid: libm float functions are within a few ulp: atol 1e-7, rtol 1e-6;
 *       their backward (1 - y^2 cancels near |y| = 1): atol 1e-6, rtol 1e-6.
 *   <li>GEMM: the classical bound for any summation order, |err| <= k u (|A||B|)_ij + u |ref|,
 *       u = 2^-24, with (|A||B|) computed by the reference in double.
 *   <li>sum, sum of squares: both accumulate in double; only the order differs: atol 1e-12 sum|x|.
 *   <li>column sums (float result): rtol 1e-6, atol 1e-6 sqrt(rows).
 *   <li>corrector out: a few float roundings of O(|s| 30) terms: atol 1e-5 |s|, rtol 1e-6;
 *       its loss is a double sum: rtol 1e-10.
 *   <li>random streams: the same double formula in both; normal uses libm log/cos: atol/rtol 1e-6.
 * </ul>
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendVsReferenceContract {
  protected static final double U = Math.ulp(1.0f) / 2; // 2^-24
  protected static final Backend REF = new ReferenceBackend();
  /** The backend under test, made once per test class (after any assumption of the subclass). */
  protected Backend CPU;
  private final List<Tensor> open = new ArrayList<>();

  /** The backend to compare with the reference; may abort the class with an assumption. */
  protected abstract Backend createCandidate();

  @BeforeAll
  void createBackend() {
    CPU = createCandidate();
  }

  @AfterAll
  void closeAll() throws Exception {
    open.forEach(Tensor::close);
    open.clear();
    if (closeCandidate() && CPU instanceof AutoCloseable closeable) closeable.close();
  }

  /** Whether {@link #closeAll} closes the candidate (not when it is shared with other classes). */
  protected boolean closeCandidate() {
    return true;
  }

  protected Tensor track(Tensor t) {
    open.add(t);
    return t;
  }

  protected static float[] normal(Random rnd, long n) {
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
    return v;
  }

  /** The same data on both backends ({@code cpu} is the candidate's copy, whatever backend it is). */
  protected record Pair(Tensor ref, Tensor cpu) {}

  protected Pair pairOf(float[] data, int... shape) {
    return new Pair(track(REF.fromArray(data, shape)), track(CPU.fromArray(data, shape)));
  }

  protected Pair pairZeros(int... shape) {
    return new Pair(track(REF.zeros(shape)), track(CPU.zeros(shape)));
  }

  protected static Stream<Arguments> shapes() {
    return Stream.of(Arguments.of(0, 3), Arguments.of(1, 1), Arguments.of(5, 5), Arguments.of(3, 7),
        Arguments.of(1000, 5), Arguments.of(127, 129), Arguments.of(64, 1024), Arguments.of(257, 1031));
  }

  @ParameterizedTest(name = "{0}x{1}")
  @MethodSource("shapes")
  void elementwise(int rows, int cols) {
    Random rnd = new Random(31L * rows + cols);
    long n = (long) rows * cols;
    Pair a = pairOf(normal(rnd, n), rows, cols), b = pairOf(normal(rnd, n), rows, cols);
    Pair bias = pairOf(normal(rnd, cols), cols), out = pairZeros(rows, cols);
    double rtol1 = 2 * U;

    for (String op : new String[] {"add", "sub", "mul"}) {
      for (Backend be : new Backend[] {REF, CPU}) {
        Tensor x = be == REF ? a.ref : a.cpu, y = be == REF ? b.ref : b.cpu, o = be == REF ? out.ref : out.cpu;
        switch (op) {
          case "add" -> be.add(x, y, o);
          case "sub" -> be.sub(x, y, o);
          default -> be.mul(x, y, o);
        }
      }
      assertClose(op, out.ref.toArray(), out.cpu.toArray(), 0, rtol1);
    }
    REF.scale(a.ref, -0.37f, out.ref);
    CPU.scale(a.cpu, -0.37f, out.cpu);
    assertClose("scale", out.ref.toArray(), out.cpu.toArray(), 0, rtol1);

    REF.addBias(a.ref, bias.ref, out.ref);
    CPU.addBias(a.cpu, bias.cpu, out.cpu);
    assertClose("addBias", out.ref.toArray(), out.cpu.toArray(), 0, rtol1);

    REF.copy(b.ref, out.ref);
    CPU.copy(b.cpu, out.cpu);
    REF.axpy(1.7f, a.ref, out.ref);
    CPU.axpy(1.7f, a.cpu, out.cpu);
    assertClose("axpy", out.ref.toArray(), out.cpu.toArray(), 1e-6, 1e-6);

    REF.fill(out.ref, 2.5f);
    CPU.fill(out.cpu, 2.5f);
    assertArrayEquals(out.ref.toArray(), out.cpu.toArray(), "fill");
  }

  @ParameterizedTest(name = "{0}x{1}")
  @MethodSource("shapes")
  void activations(int rows, int cols) {
    Random rnd = new Random(7L * rows + cols);
    long n = (long) rows * cols;
    float[] xs = normal(rnd, n);
    for (int i = 0; i < xs.length; i += 11) xs[i] = 0f; // exercise the kink
    Pair x = pairOf(xs, rows, cols), dy = pairOf(normal(rnd, n), rows, cols);
    Pair y = pairZeros(rows, cols), dx = pairZeros(rows, cols);
    for (Activation act : new Activation[] {Activation.IDENTITY, Activation.RELU, Activation.leakyRelu(0.2f),
        Activation.TANH, Activation.SIGMOID}) {
      boolean smooth = act == Activation.TANH || act == Activation.SIGMOID;
      REF.activation(act, x.ref, y.ref);
      CPU.activation(act, x.cpu, y.cpu);
      assertClose(act + " forward", y.ref.toArray(), y.cpu.toArray(), smooth ? 1e-7 : 0, smooth ? 1e-6 : 0);
      // Backward from the same y on both sides so that only the backward kernel is compared.
      REF.upload(y.cpu.toArray(), y.ref);
      REF.activationBackward(act, x.ref, y.ref, dy.ref, dx.ref);
      CPU.activationBackward(act, x.cpu, y.cpu, dy.cpu, dx.cpu);
      assertClose(act + " backward", dx.ref.toArray(), dx.cpu.toArray(), smooth ? 1e-6 : 0, smooth ? 1e-6 : 0);
    }
  }

  @ParameterizedTest(name = "{0}x{1}")
  @MethodSource("shapes")
  void reductions(int rows, int cols) {
    Random rnd = new Random(3L * rows + cols);
    long n = (long) rows * cols;
    float[] data = normal(rnd, n);
    double sumAbs = 0;
    for (float v : data) sumAbs += Math.abs(v);
    Pair x = pairOf(data, rows, cols);
    assertClose("sum", REF.sum(x.ref), CPU.sum(x.cpu), 1e-12 * sumAbs, 0);
    assertClose("sumOfSquares", REF.sumOfSquares(x.ref), CPU.sumOfSquares(x.cpu), 1e-12 * sumAbs * 5, 1e-12);
    assertClose("mean", REF.mean(x.ref), CPU.mean(x.cpu), 1e-12 * sumAbs / Math.max(1, n), 0);

    Pair colSums = pairOf(normal(rnd, cols), cols);
    for (boolean accumulate : new boolean[] {false, true}) {
      REF.sumRows(x.ref, colSums.ref, accumulate);
      CPU.sumRows(x.cpu, colSums.cpu, accumulate);
      assertClose("sumRows accumulate=" + accumulate, colSums.ref.toArray(), colSums.cpu.toArray(),
          1e-6 * Math.sqrt(rows + 1), 1e-6);
    }
  }

  @ParameterizedTest(name = "{0}x{1}")
  @MethodSource("shapes")
  void corrector(int rows, int cols) {
    Random rnd = new Random(5L * rows + cols);
    long n = (long) rows * cols;
    Pair a = pairOf(normal(rnd, n), rows, cols), b = pairOf(normal(rnd, n), rows, cols);
    Pair c = pairOf(normal(rnd, n), rows, cols), out = pairZeros(rows, cols);
    for (float s : new float[] {1f, -1f / Math.max(1, rows)}) {
      for (boolean withLoss : new boolean[] {false, true}) {
        double lr = REF.corrector(s, a.ref, b.ref, c.ref, out.ref, withLoss);
        double lc = CPU.corrector(s, a.cpu, b.cpu, c.cpu, out.cpu, withLoss);
        assertClose("corrector out s=" + s, out.ref.toArray(), out.cpu.toArray(), 1e-5 * Math.abs(s), 1e-6);
        if (withLoss) assertClose("corrector loss", lr, lc, 0, 1e-10);
        else assertEquals(Double.NaN, lc, "corrector without loss returns NaN");
      }
    }
  }

  protected static Stream<Arguments> gemmShapes() {
    return Stream.of(Arguments.of(1, 1, 1), Arguments.of(5, 5, 5), Arguments.of(3, 1, 7), Arguments.of(1, 9, 4),
        Arguments.of(17, 33, 65), Arguments.of(128, 96, 40), Arguments.of(0, 4, 3), Arguments.of(4, 3, 0),
        Arguments.of(1000, 5, 5));
  }

  @ParameterizedTest(name = "m={0} n={1} k={2}")
  @MethodSource("gemmShapes")
  void gemmAllTranspositions(int m, int n, int k) {
    Random rnd = new Random(m * 1_000_003L + n * 1009L + k);
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        checkGemm(rnd, m, n, k, ta, tb, 0.75f, 0.5f);
        checkGemm(rnd, m, n, k, ta, tb, 1f, 0f);
      }
    }
  }

  /** The shape of B3's first layer at batch 1000: [1000 x 4096] times [4096 x 1024]. */
  @Test
  void gemmLarge() {
    checkGemm(new Random(42), 1000, 1024, 4096, false, true, 1f, 0f);
  }

  private void checkGemm(Random rnd, int m, int n, int k, boolean ta, boolean tb, float alpha, float beta) {
    int[] aShape = ta ? new int[] {k, m} : new int[] {m, k};
    int[] bShape = tb ? new int[] {n, k} : new int[] {k, n};
    float[] av = normal(rnd, (long) m * k), bv = normal(rnd, (long) k * n), cv = normal(rnd, (long) m * n);
    try (Tensor ar = REF.fromArray(av, aShape); Tensor br = REF.fromArray(bv, bShape);
        Tensor cr = REF.fromArray(cv, m, n); Tensor ac = CPU.fromArray(av, aShape);
        Tensor bc = CPU.fromArray(bv, bShape); Tensor cc = CPU.fromArray(cv, m, n)) {
      REF.gemm(ta, tb, alpha, ar, br, beta, cr);
      CPU.gemm(ta, tb, alpha, ac, bc, beta, cc);
      float[] ref = cr.toArray(), got = cc.toArray(), bound = absBound(av, bv, cv, aShape, bShape, m, n, ta, tb, alpha, beta);
      String what = String.format("gemm m=%d n=%d k=%d ta=%b tb=%b beta=%s", m, n, k, ta, tb, beta);
      for (int i = 0; i < ref.length; i++) {
        double tol = (k + 2) * U * bound[i] + U * Math.abs(ref[i]);
        if (!(Math.abs(got[i] - ref[i]) <= tol)) {
          assertClose(what + " at " + i, new float[] {ref[i]}, new float[] {got[i]}, tol, 0);
        }
      }
    }
  }

  /** |alpha| (|op(A)| |op(B)|) + |beta| |C|, computed by the reference backend. */
  private static float[] absBound(float[] av, float[] bv, float[] cv, int[] aShape, int[] bShape, int m, int n,
      boolean ta, boolean tb, float alpha, float beta) {
    float[] aa = av.clone(), ba = bv.clone(), ca = cv.clone();
    for (int i = 0; i < aa.length; i++) aa[i] = Math.abs(aa[i]);
    for (int i = 0; i < ba.length; i++) ba[i] = Math.abs(ba[i]);
    for (int i = 0; i < ca.length; i++) ca[i] = Math.abs(ca[i]);
    try (Tensor a = REF.fromArray(aa, aShape); Tensor b = REF.fromArray(ba, bShape); Tensor c = REF.fromArray(ca, m, n)) {
      REF.gemm(ta, tb, Math.abs(alpha), a, b, Math.abs(beta), c);
      return c.toArray();
    }
  }

  @Test
  void gemmBatched() {
    Random rnd = new Random(11);
    int batch = 3, m = 7, n = 5, k = 9;
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        int[] aShape = ta ? new int[] {batch, k, m} : new int[] {batch, m, k};
        int[] bShape = tb ? new int[] {batch, n, k} : new int[] {batch, k, n};
        Pair a = pairOf(normal(rnd, batch * m * k), aShape), b = pairOf(normal(rnd, batch * k * n), bShape);
        Pair c = pairOf(normal(rnd, batch * m * n), batch, m, n);
        REF.gemmBatched(ta, tb, 1.5f, a.ref, b.ref, 0.5f, c.ref);
        CPU.gemmBatched(ta, tb, 1.5f, a.cpu, b.cpu, 0.5f, c.cpu);
        // The GEMM bound (k + 2) u (|alpha| |A||B| + |beta| |C|), with |A||B| <= 3k and |C| <= 5 for
        // N(0,1) data of this size.
        double atol = (k + 2) * U * (1.5 * 3 * k + 0.5 * 5);
        assertClose("gemmBatched ta=" + ta + " tb=" + tb, c.ref.toArray(), c.cpu.toArray(), atol, U);
      }
    }
  }

  /** copyTo fills a caller's array with what toArray returns; a wrong length is refused, not half-copied. */
  @Test
  void copyToFillsAnArrayOfTheRightLength() {
    float[] data = normal(new Random(3), 12);
    Pair x = pairOf(data, 3, 4);
    float[] into = new float[12];
    x.cpu().copyTo(into);
    assertArrayEquals(data, into, 0f);
    float[] wrong = new float[11];
    assertThrows(IllegalArgumentException.class, () -> x.cpu().copyTo(wrong));
    assertArrayEquals(new float[11], wrong, 0f);
  }

  @Test
  void randomStreamsMatchAcrossBackends() {
    for (int n : new int[] {1, 5, 1001, 100_000}) {
      Pair u = pairZeros(n), g = pairZeros(n);
      REF.randomUniform(u.ref, 1234, -2f, 3f);
      CPU.randomUniform(u.cpu, 1234, -2f, 3f);
      assertClose("uniform n=" + n, u.ref.toArray(), u.cpu.toArray(), 1e-6, 1e-6);
      REF.randomNormal(g.ref, 99, 0.5f, 2f);
      CPU.randomNormal(g.cpu, 99, 0.5f, 2f);
      assertClose("normal n=" + n, g.ref.toArray(), g.cpu.toArray(), 1e-6, 1e-6);
    }
  }

  @Test
  void randomStreamsHaveTheRightMoments() {
    int n = 1_000_000;
    try (Tensor u = CPU.zeros(n); Tensor g = CPU.zeros(n); Tensor g2 = CPU.zeros(n)) {
      CPU.randomUniform(u, 7, 0f, 1f);
      CPU.randomNormal(g, 7, 0f, 1f);
      // mean of U(0,1): 1/2 with sd 1/sqrt(12 n); 6 sd margins.
      assertClose("uniform mean", 0.5, CPU.mean(u), 6 / Math.sqrt(12.0 * n), 0);
      assertClose("normal mean", 0.0, CPU.mean(g), 6 / Math.sqrt(n), 0);
      assertClose("normal variance", 1.0, CPU.sumOfSquares(g) / n, 6 * Math.sqrt(2.0 / n), 0);
      for (float v : u.toArray()) {
        if (!(v >= 0f && v < 1f)) throw new AssertionError("uniform value out of [0, 1): " + v);
      }
      CPU.randomNormal(g2, 8, 0f, 1f);
      assertFalse(java.util.Arrays.equals(g.toArray(), g2.toArray()), "different seeds give different streams");
      CPU.randomNormal(g2, 7, 0f, 1f);
      assertArrayEquals(g.toArray(), g2.toArray(), "the same seed gives the same stream");
    }
  }

  @Test
  void nanPropagatesTheSameWay() {
    float[] data = {1f, Float.NaN, -2f, Float.POSITIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY};
    Pair x = pairOf(data, 2, 3), y = pairZeros(2, 3), dx = pairZeros(2, 3);
    Pair ones = pairOf(new float[] {1, 1, 1, 1, 1, 1}, 2, 3);
    for (Activation act : new Activation[] {Activation.RELU, Activation.leakyRelu(0.1f), Activation.TANH, Activation.SIGMOID}) {
      REF.activation(act, x.ref, y.ref);
      CPU.activation(act, x.cpu, y.cpu);
      float[] got = y.cpu.toArray();
      assertClose(act + " with NaN/Inf", y.ref.toArray(), got, 1e-7, 1e-6);
      assertEquals(Float.NaN, got[1], act + "(NaN) must be NaN");
      REF.activationBackward(act, x.ref, y.ref, ones.ref, dx.ref);
      CPU.activationBackward(act, x.cpu, y.cpu, ones.cpu, dx.cpu);
      assertClose(act + " backward with NaN/Inf", dx.ref.toArray(), dx.cpu.toArray(), 1e-7, 1e-6);
    }
    assertEquals(Double.NaN, CPU.sum(x.cpu), "sum with NaN is NaN");
    assertFalse(CPU.isFinite(x.cpu));
    assertFalse(REF.isFinite(x.ref));
  }

  protected Stream<AliasingCases.Case> aliasingCases() {
    return AliasingCases.all().stream();
  }

  /**
   * Every operation with one tensor passed for two of its arguments: for each pair of arguments of
   * one shape of which at least one is written, the call must either be refused with an
   * IllegalArgumentException that leaves every argument untouched, or give what the reference gives
   * on separate copies of the same values. Two written arguments have no such meaning and must be
   * refused. The reference and the candidate must agree on which calls they refuse (the checks live
   * in Backend, shared by all). Tolerance: values lie in [-1.5, 1.5] and the longest sum has 18
   * terms (a 3x3 kernel over 2 channels), so float against double differs by at most about
   * 18 * 18 * 2^-24 = 2e-5: atol 1e-4 (an aliasing error is of order 1).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("aliasingCases")
  void aliasedArgumentsAreRefusedOrActAsSeparateCopies(AliasingCases.Case c) {
    List<AliasingCases.Slot> slots = c.slots();
    Random rnd = new Random(c.label().hashCode());
    float[][] data = new float[slots.size()][];
    for (int k = 0; k < data.length; k++) {
      AliasingCases.Slot s = slots.get(k);
      data[k] = new float[(int) io.idemnet.tensor.Shape.numel(s.shape())];
      for (int e = 0; e < data[k].length; e++) {
        data[k][e] = s.positive() ? 0.5f + rnd.nextFloat() : 2 * rnd.nextFloat() - 1;
      }
    }
    for (int i = 0; i < slots.size(); i++) {
      for (int j = i + 1; j < slots.size(); j++) {
        AliasingCases.Slot a = slots.get(i), b = slots.get(j);
        if (!java.util.Arrays.equals(a.shape(), b.shape()) || !(a.role().written() || b.role().written())) continue;
        String what = c.label() + " with " + a.name() + " = " + b.name();
        float[][] values = data.clone();
        values[j] = data[i];
        float[][] expected = new float[slots.size()][];
        double expectedScalar = runOnArguments(REF, c, values, -1, -1, expected);
        Boolean refusedByRef = null;
        for (Backend be : new Backend[] {REF, CPU}) {
          float[][] got = new float[slots.size()][];
          double scalar;
          boolean refused;
          try {
            scalar = runOnArguments(be, c, values, i, j, got);
            refused = false;
          } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("aliasing"), what + ": refusal names the aliasing: " + e.getMessage());
            scalar = Double.NaN;
            refused = true;
          }
          String on = what + " on " + be.name();
          if (a.role().written() && b.role().written()) assertTrue(refused, on + ": two outputs in one tensor must be refused");
          if (refusedByRef == null) refusedByRef = refused;
          else assertEquals(refusedByRef, refused, what + ": reference and " + be.name() + " must refuse the same calls");
          for (int k = 0; k < slots.size(); k++) {
            if (k == j) continue; // the same tensor as slot i
            String name = slots.get(k).name();
            if (refused) {
              assertArrayEquals(values[k], got[k], on + ": a refused call leaves " + name + " untouched");
              continue;
            }
            // The shared tensor ends as the written one of the pair would on separate copies.
            int writer = k == i && !a.role().written() ? j : k;
            float[] want = slots.get(writer).role().written() ? expected[writer] : values[k];
            assertClose(on + ": " + name, want, got[k], 1e-4, 1e-5);
          }
          if (!refused) assertClose(on + ": returned value", expectedScalar, scalar, 1e-4, 1e-5);
        }
      }
    }
  }

  /**
   * Runs the case on {@code be} with fresh tensors holding {@code values} (slot j gets slot i's
   * tensor when i >= 0) and leaves every argument's final contents in {@code finalValues}, also when
   * the call throws.
   */
  private static double runOnArguments(Backend be, AliasingCases.Case c, float[][] values, int i, int j,
      float[][] finalValues) {
    List<AliasingCases.Slot> slots = c.slots();
    Tensor[] args = new Tensor[slots.size()];
    try {
      for (int k = 0; k < args.length; k++) {
        args[k] = k == j && i >= 0 ? args[i] : be.fromArray(values[k], slots.get(k).shape());
      }
      try {
        return c.call().run(be, args);
      } finally {
        for (int k = 0; k < args.length; k++) finalValues[k] = args[k].toArray();
      }
    } finally {
      for (Tensor t : args) {
        if (t != null) t.close();
      }
    }
  }

  /**
   * Every public Backend operation that takes two or more tensors has an aliasing case, so a new
   * operation cannot skip the contract above.
   */
  @Test
  void everyOperationWithTwoTensorArgumentsHasAnAliasingCase() {
    java.util.Set<String> covered = new java.util.TreeSet<>();
    for (AliasingCases.Case c : AliasingCases.all()) covered.add(c.op());
    java.util.Set<String> missing = new java.util.TreeSet<>();
    for (java.lang.reflect.Method method : Backend.class.getMethods()) {
      long tensors = java.util.Arrays.stream(method.getParameterTypes()).filter(t -> t == Tensor.class).count();
      if (tensors >= 2 && !covered.contains(method.getName())) missing.add(method.getName());
    }
    assertTrue(missing.isEmpty(), "Backend operations without an aliasing case: " + missing);
  }

  /**
   * Optimizer updates over several steps. Tolerance: float arithmetic of a handful of terms per
   * step against double: atol 1e-6, rtol 1e-5 on weights of O(1) (Adam divides by sqrt(v) + eps, so
   * its relative error is a few ulp of the step, well inside this).
   */
  @ParameterizedTest(name = "momentum={0} weightDecay={1}")
  @org.junit.jupiter.params.provider.CsvSource({"0,0", "0.9,0", "0.9,0.01", "0,0.05"})
  void optimizerUpdates(float momentum, float weightDecay) {
    Random rnd = new Random(17);
    int n = 70_001; // above the parallel threshold, odd
    Pair w = pairOf(normal(rnd, n), n), v = pairZeros(n), m = pairZeros(n), v2 = pairZeros(n);
    Pair wa = pairOf(normal(rnd, n), n);
    for (int step = 1; step <= 5; step++) {
      Pair g = pairOf(normal(rnd, n), n);
      REF.sgdUpdate(w.ref, g.ref, v.ref, 0.1f, momentum, weightDecay);
      CPU.sgdUpdate(w.cpu, g.cpu, v.cpu, 0.1f, momentum, weightDecay);
      REF.adamUpdate(wa.ref, g.ref, m.ref, v2.ref, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, step);
      CPU.adamUpdate(wa.cpu, g.cpu, m.cpu, v2.cpu, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, step);
    }
    assertClose("sgd weights", w.ref.toArray(), w.cpu.toArray(), 1e-6, 1e-5);
    assertClose("sgd velocity", v.ref.toArray(), v.cpu.toArray(), 1e-6, 1e-5);
    assertClose("adam weights", wa.ref.toArray(), wa.cpu.toArray(), 1e-6, 1e-5);
    assertClose("adam first moment", m.ref.toArray(), m.cpu.toArray(), 1e-6, 1e-5);
    assertClose("adam second moment", v2.ref.toArray(), v2.cpu.toArray(), 1e-7, 1e-5);
  }

  // ------------------------------------------------------------------ device-resident step operations

  private float one(Backend be, Tensor t) {
    return be.readScalar(t);
  }

  /**
   * Losses and norms written to one-element tensors. Each is a double sum rounded once to float, so
   * only the summation order differs: rtol 2^-23 (one float rounding of nearly equal doubles) plus
   * 1e-12 of the sum of magnitudes; the fused gradients have the tolerances of their host twins.
   */
  @ParameterizedTest(name = "{0}x{1}")
  @MethodSource("shapes")
  void deviceLossesAndNorms(int rows, int cols) {
    Random rnd = new Random(7L * rows + cols);
    long n = (long) rows * cols;
    Pair a = pairOf(normal(rnd, n), rows, cols), b = pairOf(normal(rnd, n), rows, cols), c = pairOf(normal(rnd, n), rows, cols);
    Pair out = pairZeros(rows, cols), out2 = pairZeros(rows, cols), loss = pairZeros(1);
    double mag = 1e-12 * 10 * Math.max(1, n);
    double mean = 1.0 / Math.max(1, n);

    REF.sumOfSquares(a.ref, 0.25, loss.ref);
    CPU.sumOfSquares(a.cpu, 0.25, loss.cpu);
    assertClose("sumOfSquares to a tensor", one(REF, loss.ref), one(CPU, loss.cpu), mag, 2 * U);
    assertClose("sumOfSquares to a tensor = 0.25 sumOfSquares", 0.25 * CPU.sumOfSquares(a.cpu), one(CPU, loss.cpu), mag,
        2 * U);

    float s = -1f / Math.max(1, rows);
    REF.corrector(s, a.ref, b.ref, c.ref, out.ref, mean, loss.ref);
    CPU.corrector(s, a.cpu, b.cpu, c.cpu, out.cpu, mean, loss.cpu);
    assertClose("corrector out", out.ref.toArray(), out.cpu.toArray(), 1e-5 * Math.abs(s), 1e-6);
    assertClose("corrector loss", one(REF, loss.ref), one(CPU, loss.cpu), mag, 2 * U);
    CPU.corrector(s, a.cpu, b.cpu, c.cpu, out2.cpu, false);
    assertArrayEquals(out2.cpu.toArray(), out.cpu.toArray(), "the same corrector with and without the loss");

    REF.l1Loss(a.ref, b.ref, 0.5f, out.ref, mean, loss.ref);
    CPU.l1Loss(a.cpu, b.cpu, 0.5f, out.cpu, mean, loss.cpu);
    assertArrayEquals(out.ref.toArray(), out.cpu.toArray(), "l1 gradient: +-0.5 or 0, exact");
    assertClose("l1 loss", one(REF, loss.ref), one(CPU, loss.cpu), mag, 2 * U);
    CPU.l1Loss(a.cpu, b.cpu, 0f, null, 1.0, loss.cpu);
    double l1 = 0;
    float[] av = a.cpu.toArray(), bv = b.cpu.toArray();
    for (int i = 0; i < av.length; i++) l1 += Math.abs((double) av[i] - bv[i]);
    assertClose("l1 loss without a gradient", l1, one(CPU, loss.cpu), mag, 2 * U);

    if (rows > 0) {
      REF.maxRowNorm(a.ref, loss.ref);
      CPU.maxRowNorm(a.cpu, loss.cpu);
      assertClose("maxRowNorm", one(REF, loss.ref), one(CPU, loss.cpu), 0, 2 * U);
    }

    Pair factor = pairOf(new float[] {-1.75f}, 1);
    REF.scale(a.ref, factor.ref, 0.5f, out.ref);
    CPU.scale(a.cpu, factor.cpu, 0.5f, out.cpu);
    assertClose("scale by a tensor", out.ref.toArray(), out.cpu.toArray(), 0, 2 * U);
    CPU.scale(a.cpu, 0.5f * -1.75f, out2.cpu);
    assertArrayEquals(out2.cpu.toArray(), out.cpu.toArray(), "scale by a tensor = scale by the same float");
  }

  @Test
  void maxRowNormPropagatesNaNAndTakesTheLargestRow() {
    Pair x = pairOf(new float[] {3, 4, 0, 1, 1, 1}, 3, 2), out = pairZeros(1);
    CPU.maxRowNorm(x.cpu, out.cpu);
    assertEquals(5f, one(CPU, out.cpu), "rows (3,4), (0,1), (1,1): largest norm 5");
    Pair nan = pairOf(new float[] {3, 4, Float.NaN, 1, 1, 1}, 3, 2);
    CPU.maxRowNorm(nan.cpu, out.cpu);
    assertEquals(Float.NaN, one(CPU, out.cpu), "a NaN row makes the residual NaN");
  }

  /**
   * Anderson record and mix against the reference over several iterations of a random history
   * (each "image" a random vector, each iterate the candidate's previous mix). Record: images and residuals
   * bit for bit (a copy and one float subtraction on both sides), the norm as {@link Backend#maxRowNorm}
   * (2U). Mix: both are compared with sum_i alpha_i images[i] for weights alpha computed here by an
   * independent method (Cholesky on H + lambda I, in double). The candidate rounds alpha_i to float
   * (U each), each product (U) and each of the count - 1 sums (U), so it is within
   * (count + 1) U sum_i |alpha_i images[i]| of that combination; the reference rounds once (U |y|).
   * The weights themselves differ only by the Gram products' summation order, about 1e-16 cond(H)
   * relative; random residual histories here have cond(H) below 1e4, so 1e-9 sum_i |alpha_i
   * images[i]| covers that with room.
   */
  @ParameterizedTest(name = "memory={0} rows={1} cols={2}")
  @org.junit.jupiter.params.provider.CsvSource({"1,3,5", "2,2,3", "5,7,33", "5,130,2352", "16,4,40", "3,0,4"})
  void andersonRecordAndMix(int memory, int rows, int cols) {
    Random rnd = new Random(memory * 1000L + rows * 31L + cols);
    int n = rows * cols;
    Pair u = pairOf(normal(rnd, n), rows, cols), images = pairZeros(memory, rows, cols);
    Pair residuals = pairZeros(memory, rows, cols), norm = pairZeros(1);
    for (int k = 0; k < memory + 3; k++) {
      int slot = k % memory, count = Math.min(k + 1, memory);
      Pair t = pairOf(normal(rnd, n), rows, cols);
      REF.andersonRecord(u.ref, t.ref, slot, images.ref, residuals.ref, norm.ref);
      CPU.andersonRecord(u.cpu, t.cpu, slot, images.cpu, residuals.cpu, norm.cpu);
      assertArrayEquals(images.ref.toArray(), images.cpu.toArray(), "images after record " + k);
      assertArrayEquals(residuals.ref.toArray(), residuals.cpu.toArray(), "residuals after record " + k);
      assertClose("record norm " + k, one(REF, norm.ref), one(CPU, norm.cpu), 0, 2 * U);
      try (Tensor diff = CPU.zeros(rows, cols); Tensor max = CPU.zeros(1)) {
        CPU.sub(t.cpu, u.cpu, diff);
        CPU.maxRowNorm(diff, max);
        assertEquals(one(CPU, max), one(CPU, norm.cpu), "the record's norm is maxRowNorm(t - u)");
      }
      REF.andersonMix(images.ref, residuals.ref, count, slot, u.ref);
      CPU.andersonMix(images.cpu, residuals.cpu, count, slot, u.cpu);
      float[] img = images.cpu.toArray(), res = residuals.cpu.toArray(), got = u.cpu.toArray(), want = u.ref.toArray();
      for (int r = 0; r < rows; r++) {
        double[] alpha = choleskyAndersonWeights(res, r, rows, cols, count);
        for (int c = 0; c < cols; c++) {
          double combination = 0, magnitude = 0;
          for (int i = 0; i < count; i++) {
            double term = alpha[i] * img[i * n + r * cols + c];
            combination += term;
            magnitude += Math.abs(term);
          }
          String what = "mix " + k + " row " + r + " col " + c;
          assertEquals(combination, got[r * cols + c], (count + 1) * U * magnitude + 1e-9 * magnitude, what);
          assertEquals(combination, want[r * cols + c], U * Math.abs(combination) + 1e-9 * magnitude, what + " (reference)");
        }
      }
      u.ref.copyFrom(got); // both record the same iterate next, so their histories stay equal bit for bit
    }
  }

  /** alpha = (H + 1e-10 trace / k I)^{-1} 1 / sum by Cholesky, H the row's Gram matrix of slots [0, k). */
  private static double[] choleskyAndersonWeights(float[] res, int row, int rows, int cols, int k) {
    int n = rows * cols;
    double[][] h = new double[k][k];
    double trace = 0;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        for (int c = 0; c < cols; c++) h[i][j] += (double) res[i * n + row * cols + c] * res[j * n + row * cols + c];
      }
      trace += h[i][i];
    }
    for (int i = 0; i < k; i++) h[i][i] += 1e-10 * trace / k;
    double[][] l = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j <= i; j++) {
        double s = h[i][j];
        for (int p = 0; p < j; p++) s -= l[i][p] * l[j][p];
        l[i][j] = i == j ? Math.sqrt(s) : s / l[j][j];
      }
    }
    double[] y = new double[k], x = new double[k];
    for (int i = 0; i < k; i++) {
      double s = 1;
      for (int p = 0; p < i; p++) s -= l[i][p] * y[p];
      y[i] = s / l[i][i];
    }
    double sum = 0;
    for (int i = k - 1; i >= 0; i--) {
      double s = y[i];
      for (int p = i + 1; p < k; p++) s -= l[p][i] * x[p];
      x[i] = s / l[i][i];
      sum += x[i];
    }
    for (int i = 0; i < k; i++) x[i] /= sum;
    return x;
  }

  /**
   * Rows without usable weights take the newest image exactly: all residuals 0 (trace 0), or a
   * non-finite residual (trace not finite). Other rows are mixed as usual.
   */
  @Test
  void andersonMixFallsBackToTheNewestImage() {
    int memory = 3, rows = 3, cols = 4, n = rows * cols;
    Random rnd = new Random(5);
    float[] img = normal(rnd, (long) memory * n), res = normal(rnd, (long) memory * n);
    for (int i = 0; i < memory; i++) {
      for (int c = 0; c < cols; c++) {
        res[i * n + c] = 0; // row 0: every residual 0
        if (i == 1) res[i * n + cols + c] = Float.POSITIVE_INFINITY; // row 1: an infinite residual
      }
    }
    Pair images = pairOf(img, memory, rows, cols), residuals = pairOf(res, memory, rows, cols), next = pairZeros(rows, cols);
    REF.andersonMix(images.ref, residuals.ref, 3, 1, next.ref);
    CPU.andersonMix(images.cpu, residuals.cpu, 3, 1, next.cpu);
    float[] want = java.util.Arrays.copyOfRange(img, n, n + 2 * cols); // slot 1, rows 0 and 1
    assertArrayEquals(want, java.util.Arrays.copyOf(next.cpu.toArray(), 2 * cols), "rows 0 and 1 take the newest image");
    assertArrayEquals(want, java.util.Arrays.copyOf(next.ref.toArray(), 2 * cols), "the same on the reference");
    float[] row2 = java.util.Arrays.copyOfRange(next.cpu.toArray(), 2 * cols, n);
    assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(img, n + 2 * cols, 2 * n), row2), "row 2 is mixed");
  }

  /** Cross-entropy: per-row double arithmetic on both sides, then one rounding: rtol 1e-6, atol 1e-7. */
  @ParameterizedTest(name = "rows={0} classes={1}")
  @org.junit.jupiter.params.provider.CsvSource({"1,1", "3,10", "128,10", "1000,10", "37,129"})
  void softmaxCrossEntropy(int rows, int classes) {
    Random rnd = new Random(rows * 31L + classes);
    float[] z = normal(rnd, (long) rows * classes);
    for (int i = 0; i < z.length; i++) z[i] *= 4;
    float[] labels = new float[rows];
    for (int i = 0; i < rows; i++) labels[i] = rnd.nextInt(classes);
    Pair logits = pairOf(z, rows, classes), lab = pairOf(labels, rows), loss = pairZeros(1), grad = pairZeros(rows, classes);
    REF.softmaxCrossEntropy(logits.ref, lab.ref, loss.ref, grad.ref);
    CPU.softmaxCrossEntropy(logits.cpu, lab.cpu, loss.cpu, grad.cpu);
    assertClose("cross-entropy loss", one(REF, loss.ref), one(CPU, loss.cpu), 1e-7, 1e-6);
    assertClose("cross-entropy gradient", grad.ref.toArray(), grad.cpu.toArray(), 1e-7, 1e-6);
    // The loss by hand for row 0, in double.
    double max = Double.NEGATIVE_INFINITY, sum = 0, total = 0;
    for (int r = 0; r < rows; r++) {
      max = Double.NEGATIVE_INFINITY;
      sum = 0;
      for (int j = 0; j < classes; j++) max = Math.max(max, z[r * classes + j]);
      for (int j = 0; j < classes; j++) sum += Math.exp(z[r * classes + j] - max);
      total += max + Math.log(sum) - z[r * classes + (int) labels[r]];
    }
    assertClose("cross-entropy loss by hand", total / rows, one(CPU, loss.cpu), 1e-7, 1e-6);
  }

  @Test
  void crossEntropyOfABadLabelIsNaN() {
    Pair logits = pairOf(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), loss = pairZeros(1), grad = pairZeros(2, 3);
    for (float bad : new float[] {3f, -1f, 0.5f, Float.NaN}) {
      Pair lab = pairOf(new float[] {0f, bad}, 2);
      CPU.softmaxCrossEntropy(logits.cpu, lab.cpu, loss.cpu, grad.cpu);
      assertEquals(Float.NaN, one(CPU, loss.cpu), "label " + bad);
      float[] g = grad.cpu.toArray();
      assertFalse(Float.isNaN(g[0]), "the good row's gradient is kept");
      assertEquals(Float.NaN, g[3], "the bad row's gradient is NaN");
    }
  }

  /**
   * The scheduled optimizer updates read their scalars from tensors: against the reference with the
   * tolerances of {@link #optimizerUpdates}, and on the candidate equal bit for bit to the updates
   * that take the scalars as arguments (the same float arithmetic).
   */
  @ParameterizedTest(name = "momentum={0} weightDecay={1}")
  @org.junit.jupiter.params.provider.CsvSource({"0,0", "0.9,0", "0.9,0.01", "0,0.05"})
  void scheduledOptimizerUpdates(float momentum, float weightDecay) {
    Random rnd = new Random(23);
    int n = 70_001;
    float[] w0 = normal(rnd, n);
    Pair w = pairOf(w0, n), v = pairZeros(n), wa = pairOf(w0, n), m = pairZeros(n), va = pairZeros(n);
    Pair lr = pairZeros(1), coeff = pairZeros(2);
    try (Tensor wHost = CPU.fromArray(w0, n); Tensor vHost = CPU.zeros(n); Tensor waHost = CPU.fromArray(w0, n);
        Tensor mHost = CPU.zeros(n); Tensor vaHost = CPU.zeros(n)) {
      for (int step = 1; step <= 5; step++) {
        Pair g = pairOf(normal(rnd, n), n);
        float rate = 0.1f / step;
        REF.writeScalars(lr.ref, rate);
        CPU.writeScalars(lr.cpu, rate);
        float[] c = Backend.adamCoefficients(1e-2f, 0.9f, 0.999f, step);
        REF.writeScalars(coeff.ref, c);
        CPU.writeScalars(coeff.cpu, c);
        REF.sgdUpdate(w.ref, g.ref, v.ref, lr.ref, momentum, weightDecay);
        CPU.sgdUpdate(w.cpu, g.cpu, v.cpu, lr.cpu, momentum, weightDecay);
        CPU.sgdUpdate(wHost, g.cpu, vHost, rate, momentum, weightDecay);
        REF.adamUpdate(wa.ref, g.ref, m.ref, va.ref, coeff.ref, 0.9f, 0.999f, 1e-8f, weightDecay);
        CPU.adamUpdate(wa.cpu, g.cpu, m.cpu, va.cpu, coeff.cpu, 0.9f, 0.999f, 1e-8f, weightDecay);
        CPU.adamUpdate(waHost, g.cpu, mHost, vaHost, 1e-2f, 0.9f, 0.999f, 1e-8f, weightDecay, step);
      }
      assertClose("scheduled sgd", w.ref.toArray(), w.cpu.toArray(), 1e-6, 1e-5);
      assertClose("scheduled adam", wa.ref.toArray(), wa.cpu.toArray(), 1e-6, 1e-5);
      assertClose("scheduled adam moments", va.ref.toArray(), va.cpu.toArray(), 1e-7, 1e-5);
      assertArrayEquals(wHost.toArray(), w.cpu.toArray(), "sgd: scheduled = with the rate as an argument");
      assertArrayEquals(waHost.toArray(), wa.cpu.toArray(), "adam: scheduled = with the step as an argument");
    }
  }

  /** Dropout with a device counter draws exactly the mask of seed bits(seed, C + offset). */
  @Test
  void countedDropoutIsDropoutWithTheCountersSeed() {
    Random rnd = new Random(41);
    int n = 50_001;
    long seed = 77, offset = (3L << 40) + 5;
    long counter = (12345L << 4) + (1L << 30);
    Pair x = pairOf(normal(rnd, n), n), y = pairZeros(n), yPlain = pairZeros(n), c = pairZeros(2);
    REF.writeScalars(c.ref, Backend.counterScalars(counter));
    CPU.writeScalars(c.cpu, Backend.counterScalars(counter));
    REF.dropout(x.ref, 0.3f, seed, c.ref, offset, y.ref);
    CPU.dropout(x.cpu, 0.3f, seed, c.cpu, offset, y.cpu);
    // bits(seed, i) is the SplitMix64 step of the counter-based stream (idemnet.h).
    long z = seed + (counter + offset + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    long bits = z ^ (z >>> 31);
    CPU.dropout(x.cpu, 0.3f, bits, yPlain.cpu);
    assertArrayEquals(yPlain.cpu.toArray(), y.cpu.toArray(), "the counted mask is the plain mask of bits(seed, C + offset)");
    assertArrayEquals(y.ref.toArray(), y.cpu.toArray(), "masks equal the reference's, bit for bit");
    CPU.dropoutBackward(y.cpu, 0.3f, seed, c.cpu, offset, yPlain.cpu);
    float[] yv = y.cpu.toArray(), back = yPlain.cpu.toArray();
    for (int i = 0; i < n; i++) {
      if ((yv[i] == 0f) != (back[i] == 0f)) throw new AssertionError("backward mask differs at " + i);
    }
  }

  @Test
  void tightClampWeightsFollowTheFormula() {
    float[][] cases = {{0.2f, 0.3f, 1.5f}, {0.05f, 0.9f, 1.5f}, {0f, 0.3f, 1.5f}, {0.2f, 0.3f, 0f}};
    for (float[] k : cases) {
      Pair rec = pairOf(new float[] {k[0]}, 1), tight = pairOf(new float[] {k[1]}, 1);
      Pair wr = pairZeros(1), wt = pairZeros(1);
      REF.tightClampWeights(rec.ref, tight.ref, 20f, 2.5f, k[2], wr.ref, wt.ref);
      CPU.tightClampWeights(rec.cpu, tight.cpu, 20f, 2.5f, k[2], wr.cpu, wt.cpu);
      double expRec = 20, expTight = 2.5;
      if (k[2] != 0 && k[0] > 0) {
        double u = (double) k[1] / (k[2] * (double) k[0]), t = Math.tanh(u), sech2 = 1 - t * t;
        expRec = 20 - 2.5 * k[2] * (t - u * sech2);
        expTight = 2.5 * sech2;
      }
      // Double arithmetic with libm tanh on both sides, rounded once to float.
      assertClose("weight on rec " + java.util.Arrays.toString(k), expRec, one(CPU, wr.cpu), 0, 2 * U);
      assertClose("weight on tight " + java.util.Arrays.toString(k), expTight, one(CPU, wt.cpu), 1e-9, 2 * U);
      assertClose("reference weight on rec", one(REF, wr.ref), one(CPU, wr.cpu), 0, 2 * U);
    }
  }

  @Test
  void deviceOperationsRejectBadShapes() {
    Pair a = pairZeros(2, 3), two = pairZeros(2), loss = pairZeros(1);
    assertThrows(IllegalArgumentException.class, () -> CPU.sumOfSquares(a.cpu, 1.0, two.cpu));
    assertThrows(IllegalArgumentException.class, () -> CPU.l1Loss(a.cpu, a.cpu, 1f, two.cpu, 1.0, loss.cpu));
    assertThrows(IllegalArgumentException.class, () -> CPU.softmaxCrossEntropy(a.cpu, loss.cpu, loss.cpu, null));
    assertThrows(IllegalArgumentException.class, () -> CPU.scale(a.cpu, two.cpu, 1f, a.cpu));
    assertThrows(IllegalArgumentException.class, () -> CPU.dropout(a.cpu, 0.5f, 1, loss.cpu, 0, a.cpu));
    assertThrows(IllegalArgumentException.class, () -> CPU.readScalar(a.cpu));
    assertThrows(IllegalArgumentException.class, () -> CPU.writeScalars(two.cpu, 1f));
    assertThrows(IllegalArgumentException.class, () -> Backend.counterScalars(1L << 48));
  }
}
