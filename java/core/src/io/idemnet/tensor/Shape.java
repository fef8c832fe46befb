package io.idemnet.tensor;

import java.util.Arrays;

/** Static helpers for shapes (int arrays, row-major). */
public final class Shape {
  private Shape() {}

  /** Number of elements; throws for a negative dimension or an element count past 2^62. */
  public static long numel(int... shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** The shape as text, e.g. {@code [2, 3]}. */
  public static String toString(int... shape) {
    return Arrays.toString(shape);
  }
}
