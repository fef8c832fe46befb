package io.idemnet.plot;

/**
 * One line of a chart: points (x[k], y[k]), with a non-blank name for the legend. The arrays are
 * copied. NaN and infinite points, and on a log axis points with a coordinate <= 0, are skipped
 * when drawing. A null style means {@link Style#SOLID}.
 *
 * <p>The colour follows the name (see {@link Plots}): "MB" is always blue, "OB" always orange.
 */
public record Series(String name, double[] x, double[] y, Style style) {
  public Series {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(
          "a series needs a non-blank name (got " + (name == null ? "null" : "'" + name + "'") + ")");
    }
    if (x == null || y == null) {
      throw new IllegalArgumentException("series '" + name + "': x and y must not be null");
    }
    if (x.length != y.length) {
      throw new IllegalArgumentException("series '" + name + "': x has " + x.length + " values but y has "
          + y.length);
    }
    x = x.clone();
    y = y.clone();
    if (style == null) style = Style.SOLID;
  }
}
