package io.idemnet.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.idemnet.autograd.Parameter;
import java.util.Map;
import java.util.function.DoubleSupplier;

/** Checks analytic parameter gradients against central differences of a loss. */
public final class FiniteDifferences {
  private FiniteDifferences() {}

  /**
   * For every element of every parameter: |(L(w + h) - L(w - h)) / 2h - grad| <= relTol max|grad|,
   * where grad is what the parameter's gradient tensor holds now. Parameters are restored.
   */
  public static void assertGradients(String what, Map<String, Parameter> params, DoubleSupplier loss, float h,
      double relTol) {
    for (Map.Entry<String, Parameter> e : params.entrySet()) {
      Parameter p = e.getValue();
      float[] w = p.value().toArray(), analytic = p.grad().toArray();
      double maxAbs = 1e-12;
      for (float g : analytic) maxAbs = Math.max(maxAbs, Math.abs(g));
      for (int i = 0; i < w.length; i++) {
        float saved = w[i];
        w[i] = saved + h;
        p.value().copyFrom(w);
        double plus = loss.getAsDouble();
        w[i] = saved - h;
        p.value().copyFrom(w);
        double minus = loss.getAsDouble();
        w[i] = saved;
        p.value().copyFrom(w);
        assertEquals((plus - minus) / (2 * h), analytic[i], relTol * maxAbs, what + ": d/d " + e.getKey() + "[" + i + "]");
      }
    }
  }
}
