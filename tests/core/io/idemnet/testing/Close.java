package io.idemnet.testing;

import static org.junit.jupiter.api.Assertions.fail;

/** Elementwise comparison |got - ref| <= atol + rtol * |ref|, with NaN equal only to NaN. */
public final class Close {
  private Close() {}

  public static void assertClose(String what, float[] ref, float[] got, double atol, double rtol) {
    if (ref.length != got.length) fail(what + ": lengths differ: " + ref.length + " vs " + got.length);
    int worst = -1;
    double worstExcess = 0;
    int failures = 0;
    for (int i = 0; i < ref.length; i++) {
      if (Float.isNaN(ref[i]) || Float.isNaN(got[i])) {
        if (Float.isNaN(ref[i]) != Float.isNaN(got[i])) {
          fail(what + ": NaN mismatch at " + i + ": ref=" + ref[i] + " got=" + got[i]);
        }
        continue;
      }
      if (Float.isInfinite(ref[i]) || Float.isInfinite(got[i])) {
        if (ref[i] != got[i]) fail(what + ": infinity mismatch at " + i + ": ref=" + ref[i] + " got=" + got[i]);
        continue;
      }
      double err = Math.abs((double) got[i] - ref[i]);
      double tol = atol + rtol * Math.abs(ref[i]);
      if (err > tol) {
        failures++;
        if (err - tol > worstExcess) {
          worstExcess = err - tol;
          worst = i;
        }
      }
    }
    if (worst >= 0) {
      fail(String.format("%s: %d of %d elements outside atol=%.3g rtol=%.3g; worst at %d: ref=%.9g got=%.9g",
          what, failures, ref.length, atol, rtol, worst, ref[worst], got[worst]));
    }
  }

  public static void assertClose(String what, double ref, double got, double atol, double rtol) {
    if (Double.isNaN(ref) && Double.isNaN(got)) return;
    if (!(Math.abs(got - ref) <= atol + rtol * Math.abs(ref))) {
      fail(String.format("%s: ref=%.15g got=%.15g outside atol=%.3g rtol=%.3g", what, ref, got, atol, rtol));
    }
  }
}
