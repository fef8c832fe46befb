package io.idemnet.plot;

/**
 * A named line y over x with a shaded band from yLow to yHigh at every x (for example the median of
 * several runs with their minimum and maximum). The arrays are copied and must have equal
 * lengths. Points whose x or y is not plottable are skipped; where only yLow or yHigh is NaN or
 * infinite, the band has a gap; on a log y axis a yLow <= 0 is drawn down to the smallest positive
 * value of the chart. A null style means {@link Style#SOLID}.
 */
public record ErrorSeries(String name, double[] x, double[] y, double[] yLow, double[] yHigh, Style style) {
  public ErrorSeries {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException(
          "a series needs a non-blank name (got " + (name == null ? "null" : "'" + name + "'") + ")");
    }
    if (x == null || y == null || yLow == null || yHigh == null) {
      throw new IllegalArgumentException("series '" + name + "': x, y, yLow and yHigh must not be null");
    }
    if (x.length != y.length || x.length != yLow.length || x.length != yHigh.length) {
      throw new IllegalArgumentException("series '" + name + "': lengths differ (x " + x.length + ", y " + y.length
          + ", yLow " + yLow.length + ", yHigh " + yHigh.length + ")");
    }
    x = x.clone();
    y = y.clone();
    yLow = yLow.clone();
    yHigh = yHigh.clone();
    if (style == null) style = Style.SOLID;
  }
}
