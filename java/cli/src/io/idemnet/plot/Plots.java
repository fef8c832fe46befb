package io.idemnet.plot;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;

/**
 * PNG figures for the experiments, drawn headless (XChart for line charts and histograms, plain
 * Java2D for bars and heat maps).
 *
 * <p>Common rules:
 *
 * <ul>
 *   <li>Images are about 800 x 600 pixels; a {@link #grid} is 520 x 390 per panel.
 *   <li>NaN and infinite points are skipped, and so are points <= 0 on a log axis; a grey
 *       footnote in the corner says how many were not shown. A chart with nothing drawable still
 *       gets written, saying "no plottable data".
 *   <li>A log axis is labelled at every decade; one spanning more than 14 decades (9 in a grid
 *       panel; e.g. a diverging run) is drawn as an axis of log10 values with labels such as
 *       1E-5, 1E0, 1E5, so that the labels do not collide.
 *   <li>Colours follow the series name, the same in every figure: "MB" (or a name starting with
 *       the word MB, such as "MB train") blue, "OB" orange, other names hashed into eight more
 *       colours (distinct within one figure as long as there are at most eight such names).
 *   <li>Empty lists or maps, null arguments, series with unequal lengths and duplicate names give
 *       an {@link IllegalArgumentException} that names the culprit.
 *   <li>The file is written atomically: to a temporary file in the same folder, then moved over
 *       the target. Missing parent folders are created.
 *   <li>Titles and labels may be null or empty (none drawn).
 * </ul>
 */
public final class Plots {
  static {
    if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    // With its disk cache ImageIO registers a shutdown hook per stream, which fails once the JVM
    // is shutting down: the figures of an interrupted `compare` are written exactly then.
    javax.imageio.ImageIO.setUseCache(false);
  }

  private Plots() {}

  /** Line charts of y over x; either axis may be logarithmic. */
  public static void lines(Path png, String title, String xLabel, String yLabel, boolean logX, boolean logY,
      List<Series> series) throws IOException {
    checkPath(png);
    checkSeries(series, Series::name);
    write(XyFigures.lines(text(title), text(xLabel), text(yLabel), logX, logY, series), png);
  }

  /**
   * Lines with a shaded band from yLow to yHigh each (e.g. the median over runs with the minimum
   * and maximum). Bands are drawn under all lines; the legend shows a grey swatch labelled
   * {@code bandLegend}, which says what the bands are (e.g. "shaded: min to max over runs").
   */
  public static void linesWithBands(Path png, String title, String xLabel, String yLabel, boolean logX,
      boolean logY, List<ErrorSeries> series, String bandLegend) throws IOException {
    checkPath(png);
    checkSeries(series, ErrorSeries::name);
    checkBandLegend(bandLegend);
    write(XyFigures.bands(text(title), text(xLabel), text(yLabel), logX, logY, series, text(bandLegend)), png);
  }

  private static void checkBandLegend(String bandLegend) {
    if (bandLegend == null || bandLegend.isBlank()) {
      throw new IllegalArgumentException("shaded bands need a legend entry saying what they show, e.g. \"shaded: min to max"
          + " over runs\"");
    }
  }

  /**
   * Several small line charts in one image, {@code columns} to a row (e.g. one per learning
   * rate), under a common title and one legend for all panels (a name keeps one colour across
   * the panels; its legend entry shows the style of its first appearance).
   */
  public static void grid(Path png, String title, int columns, List<Panel> panels) throws IOException {
    grid(png, title, columns, panels, null);
  }

  /**
   * {@link #grid(Path, String, int, List)} for panels with shaded bands: the shared legend gets a
   * grey swatch labelled {@code bandLegend}, which says what the bands are (required when any panel
   * has bands).
   */
  public static void grid(Path png, String title, int columns, List<Panel> panels, String bandLegend) throws IOException {
    checkPath(png);
    if (columns < 1) throw new IllegalArgumentException("columns must be >= 1, got " + columns);
    if (panels == null || panels.isEmpty()) throw new IllegalArgumentException("grid needs at least one panel");
    for (int k = 0; k < panels.size(); k++) {
      Panel p = panels.get(k);
      if (p == null) throw new IllegalArgumentException("panel " + k + " is null");
      try {
        checkSeries(p.series(), Series::name);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("panel " + k + " '" + p.title() + "': " + e.getMessage(), e);
      }
    }
    if (panels.stream().anyMatch(p -> !p.bands().isEmpty())) checkBandLegend(bandLegend);
    write(XyFigures.grid(text(title), columns, panels, bandLegend == null ? null : text(bandLegend)), png);
  }

  /**
   * Overlaid histograms of several groups (e.g. "MB" and "OB"), with common bins spanning all
   * finite values; each group's legend entry gives its number of values. Groups are drawn in the
   * map's iteration order (use a LinkedHashMap to choose it).
   */
  public static void histogram(Path png, String title, String xLabel, int bins, Map<String, double[]> samples)
      throws IOException {
    checkPath(png);
    if (bins < 1 || bins > 10_000) throw new IllegalArgumentException("bins must be in [1, 10000], got " + bins);
    checkSamples(samples);
    write(XyFigures.histogram(text(title), text(xLabel), bins, samples), png);
  }

  /**
   * One bar per group: the mean, with whiskers from the minimum to the maximum (e.g. seconds per
   * epoch per algorithm). Groups in the map's iteration order; a group without finite values is
   * marked "no data".
   */
  public static void bars(Path png, String title, String yLabel, Map<String, double[]> samples) throws IOException {
    checkPath(png);
    checkSamples(samples);
    write(DrawnFigures.bars(text(title), text(yLabel), samples), png);
  }

  /**
   * A heat map of z[i][j] at (xs[j], ys[i]) (bilinear between grid points, viridis colours, a
   * colour bar; log10 colour scale when {@code logZ}, with values <= 0 coloured as the smallest
   * positive), with trajectories drawn over it, each starting at an open circle and ending at a
   * cross: e.g. a loss surface on the plane of the first two principal components with the
   * parameter paths of MB and OB. xs and ys must be strictly increasing with at least two values
   * each. The axes widen to include trajectories that leave the grid (light grey there). NaN or
   * infinite z are grey. {@code paths} may be empty.
   */
  public static void surfaceWithPaths(Path png, String title, String xLabel, String yLabel, double[] xs,
      double[] ys, double[][] z, boolean logZ, List<Series> paths) throws IOException {
    checkPath(png);
    checkAxis("xs", xs);
    checkAxis("ys", ys);
    if (z == null) throw new IllegalArgumentException("z must not be null");
    if (z.length != ys.length) {
      throw new IllegalArgumentException("z has " + z.length + " rows but ys has " + ys.length + " values");
    }
    for (int i = 0; i < z.length; i++) {
      if (z[i] == null || z[i].length != xs.length) {
        throw new IllegalArgumentException("z row " + i + " has " + (z[i] == null ? "no" : z[i].length)
            + " values but xs has " + xs.length);
      }
    }
    if (paths == null) throw new IllegalArgumentException("paths must not be null (use List.of() for none)");
    if (!paths.isEmpty()) checkSeries(paths, Series::name);
    write(DrawnFigures.surface(text(title), text(xLabel), text(yLabel), xs, ys, z, logZ, paths), png);
  }

  // ---- checks ---------------------------------------------------------------------------------

  private static String text(String s) {
    return s == null ? "" : s;
  }

  private static void checkPath(Path png) {
    if (png == null) throw new IllegalArgumentException("the output path must not be null");
    if (png.getFileName() == null) throw new IllegalArgumentException("the output path has no file name: " + png);
  }

  private static <T> void checkSeries(List<T> series, java.util.function.Function<T, String> name) {
    if (series == null || series.isEmpty()) throw new IllegalArgumentException("no series to plot (empty list)");
    Set<String> seen = new HashSet<>();
    for (int k = 0; k < series.size(); k++) {
      T s = series.get(k);
      if (s == null) throw new IllegalArgumentException("series " + k + " is null");
      if (!seen.add(name.apply(s))) {
        throw new IllegalArgumentException("duplicate series name '" + name.apply(s) + "'");
      }
    }
  }

  private static void checkSamples(Map<String, double[]> samples) {
    if (samples == null || samples.isEmpty()) throw new IllegalArgumentException("no groups to plot (empty map)");
    samples.forEach((name, v) -> {
      if (name == null) throw new IllegalArgumentException("a group has a null name");
      if (v == null) throw new IllegalArgumentException("group '" + name + "' has null values");
    });
  }

  private static void checkAxis(String what, double[] a) {
    if (a == null) throw new IllegalArgumentException(what + " must not be null");
    if (a.length < 2) throw new IllegalArgumentException(what + " needs at least 2 values, got " + a.length);
    for (int k = 0; k < a.length; k++) {
      if (!Double.isFinite(a[k])) throw new IllegalArgumentException(what + "[" + k + "] is " + a[k]);
      if (k > 0 && !(a[k] > a[k - 1])) {
        throw new IllegalArgumentException(what + " must be strictly increasing, but " + what + "[" + (k - 1) + "] = "
            + a[k - 1] + " and " + what + "[" + k + "] = " + a[k]);
      }
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Writes to a temporary file beside the target, then moves it over the target atomically. */
  static void write(BufferedImage img, Path png) throws IOException {
    Path target = png.toAbsolutePath();
    Files.createDirectories(target.getParent());
    io.idemnet.io.AtomicFiles.write(target, out -> {
      if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer available in this JVM");
    });
  }
}
