package io.idemnet.experiments;

import io.idemnet.autograd.Parameter;
import io.idemnet.nn.Module;
import java.util.Collection;

/** All parameters (or all gradients) of a module laid end to end, in named-parameter order. */
final class ParameterVector {
  private ParameterVector() {}

  static long size(Module f) {
    long n = 0;
    for (Parameter p : f.parameters()) n += p.value().numel();
    return n;
  }

  static float[] values(Module f) {
    return concat(f.parameters(), false);
  }

  static float[] gradients(Module f) {
    return concat(f.parameters(), true);
  }

  private static float[] concat(Collection<Parameter> params, boolean grads) {
    long total = 0;
    for (Parameter p : params) total += p.value().numel();
    float[] out = new float[Math.toIntExact(total)];
    int at = 0;
    for (Parameter p : params) {
      float[] part = grads ? p.grad().toArray() : p.value().toArray();
      System.arraycopy(part, 0, out, at, part.length);
      at += part.length;
    }
    return out;
  }

  /** Overwrites the module's parameters from a vector laid out as {@link #values}. */
  static void assign(Module f, float[] v) {
    int at = 0;
    for (Parameter p : f.parameters()) {
      int n = Math.toIntExact(p.value().numel());
      float[] part = new float[n];
      System.arraycopy(v, at, part, 0, n);
      p.value().copyFrom(part);
      at += n;
    }
    if (at != v.length) throw new IllegalArgumentException("vector of " + v.length + " values for " + at + " parameters");
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
    return s;
  }

  static double norm(float[] a) {
    return Math.sqrt(dot(a, a));
  }

  /** |cos| of the angle between a and b (0 when either is zero). */
  static double absCosine(float[] a, float[] b) {
    double na = norm(a), nb = norm(b);
    return na == 0 || nb == 0 ? 0 : Math.abs(dot(a, b)) / (na * nb);
  }
}
