package io.idemnet.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every figure kind writes a real PNG; awkward data does not throw; bad input does, clearly. */
class PlotsTest {
  private static final double NAN = Double.NaN, INF = Double.POSITIVE_INFINITY;

  @TempDir
  Path dir;

  /** Reads the PNG back: a real image, not one flat colour, and nothing left beside it. */
  private static BufferedImage assertPng(Path png, int minWidth, int minHeight) throws IOException {
    assertTrue(Files.isRegularFile(png), png + " was not written");
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, png + " is not a readable image");
    assertTrue(img.getWidth() >= minWidth && img.getHeight() >= minHeight,
        png + " is " + img.getWidth() + "x" + img.getHeight());
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) colours.add(img.getRGB(x, y));
    }
    assertTrue(colours.size() > 10, png + " has only " + colours.size() + " colours");
    assertNoTempFiles(png.getParent());
    return img;
  }

  private static void assertNoTempFiles(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      List<Path> left = files.filter(p -> p.getFileName().toString().endsWith(".tmp")
          || p.getFileName().toString().startsWith(".")).toList();
      assertTrue(left.isEmpty(), "temporary files left behind: " + left);
    }
  }

  private static void assertBad(String expectedInMessage, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage() != null && e.getMessage().contains(expectedInMessage),
        "message '" + e.getMessage() + "' should mention '" + expectedInMessage + "'");
  }

  // ---- example data, loosely like the paper's experiments ------------------------------------

  private static double[] epochs(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) x[i] = i + 1;
    return x;
  }

  /** An idempotent error that decays like exp(-rate * epoch) with some noise. */
  private static double[] decay(int n, double start, double rate, long seed) {
    Random r = new Random(seed);
    double[] y = new double[n];
    for (int i = 0; i < n; i++) y[i] = start * Math.exp(-rate * i) * (1 + 0.15 * r.nextGaussian());
    return y;
  }

  private static List<Series> mbVsOb() {
    return List.of(new Series("MB", epochs(50), decay(50, 1, 0.25, 1), Style.SOLID),
        new Series("OB", epochs(50), decay(50, 1, 0.08, 2), Style.DASHED));
  }

  private static List<ErrorSeries> bandsOverRuns() {
    List<ErrorSeries> out = new ArrayList<>();
    String[] names = {"MB", "OB"};
    double[] rates = {0.25, 0.08};
    for (int a = 0; a < 2; a++) {
      int n = 40, runs = 5;
      double[][] y = new double[runs][];
      for (int r = 0; r < runs; r++) y[r] = decay(n, 1, rates[a] * (0.8 + 0.1 * r), 10 * a + r);
      double[] med = new double[n], lo = new double[n], hi = new double[n];
      for (int i = 0; i < n; i++) {
        double[] col = new double[runs];
        for (int r = 0; r < runs; r++) col[r] = y[r][i];
        java.util.Arrays.sort(col);
        med[i] = col[runs / 2];
        lo[i] = col[0];
        hi[i] = col[runs - 1];
      }
      out.add(new ErrorSeries(names[a], epochs(n), med, lo, hi, a == 0 ? Style.SOLID : Style.DASHED));
    }
    return out;
  }

  private static List<Panel> panelsPerLearningRate() {
    List<Panel> panels = new ArrayList<>();
    double[] lrs = {1e-3, 1e-2, 1e-1, 1};
    for (int k = 0; k < lrs.length; k++) {
      double lr = lrs[k];
      double[] mb = decay(60, 1, 0.02 + 0.3 * Math.sqrt(lr), 100 + k), ob = decay(60, 1, 0.01 + 0.1 * Math.sqrt(lr), 200 + k);
      if (lr == 1) ob[30] = INF; // a diverging run
      panels.add(new Panel("lr = " + lr, "epoch", "idempotent error", true,
          List.of(new Series("MB", epochs(60), mb, Style.SOLID), new Series("OB", epochs(60), ob, Style.SOLID))));
    }
    return panels;
  }

  private static Map<String, double[]> errorSamples() {
    Random r = new Random(7);
    double[] mb = new double[400], ob = new double[400];
    for (int i = 0; i < 400; i++) {
      mb[i] = Math.exp(-3 + 0.5 * r.nextGaussian());
      ob[i] = Math.exp(-2 + 0.6 * r.nextGaussian());
    }
    Map<String, double[]> m = new LinkedHashMap<>();
    m.put("MB", mb);
    m.put("OB", ob);
    return m;
  }

  private static Map<String, double[]> secondsPerEpoch() {
    Map<String, double[]> m = new LinkedHashMap<>();
    m.put("MB", new double[] {1.21, 1.19, 1.25, 1.22, 1.30});
    m.put("OB", new double[] {1.84, 1.90, 1.79, 1.88, 1.86});
    m.put("MB (reference backend)", new double[] {5.1, 5.4, 5.0});
    return m;
  }

  /** A valley-shaped loss on a 41 x 31 grid with two descent paths, one leaving the grid. */
  private record Surface(double[] xs, double[] ys, double[][] z, List<Series> paths) {}

  private static Surface surface() {
    int nx = 41, ny = 31;
    double[] xs = new double[nx], ys = new double[ny];
    for (int j = 0; j < nx; j++) xs[j] = -2 + 4.0 * j / (nx - 1);
    for (int i = 0; i < ny; i++) ys[i] = -1.5 + 3.0 * i / (ny - 1);
    double[][] z = new double[ny][nx];
    for (int i = 0; i < ny; i++) {
      for (int j = 0; j < nx; j++) z[i][j] = loss(xs[j], ys[i]);
    }
    z[ny / 2][nx / 2] = 0; // exactly zero at the minimum: must be fine on a log scale
    List<Series> paths = new ArrayList<>();
    double[][] starts = {{-1.8, 1.3}, {1.9, -1.4}};
    double[] rates = {0.08, 0.03};
    String[] names = {"MB", "OB"};
    for (int p = 0; p < 2; p++) {
      int steps = 30;
      double[] x = new double[steps], y = new double[steps];
      double a = starts[p][0], b = starts[p][1];
      for (int t = 0; t < steps; t++) {
        x[t] = a;
        y[t] = b;
        double ga = 2 * a + 1.5 * Math.cos(3 * a), gb = 12 * b;
        a -= rates[p] * ga;
        b -= rates[p] * gb * 0.1;
      }
      paths.add(new Series(names[p], x, y, p == 0 ? Style.MARKERS : Style.DASHED));
    }
    paths.add(new Series("outside", new double[] {1.5, 2.2, 2.6}, new double[] {1.2, 1.6, 1.9}, Style.SOLID));
    return new Surface(xs, ys, z, paths);
  }

  private static double loss(double a, double b) {
    return a * a + 6 * b * b + 0.5 * Math.sin(3 * a) + 0.45;
  }

  // ---- every kind writes a PNG --------------------------------------------------------------

  @Test
  void linesWritesAPng() throws IOException {
    Path png = dir.resolve("a/b/lines.png"); // parent folders are created
    Plots.lines(png, "Idempotent error", "epoch", "error", false, true, mbVsOb());
    BufferedImage img = assertPng(png, 700, 500);
    assertEquals(800, img.getWidth());
    assertEquals(600, img.getHeight());
  }

  @Test
  void linesOverwritesAnExistingFile() throws IOException {
    Path png = dir.resolve("lines.png");
    Files.writeString(png, "not a png");
    Plots.lines(png, "t", "x", "y", false, false, mbVsOb());
    assertPng(png, 700, 500);
  }

  @Test
  void logAxesSkipZerosNegativesNaNAndInfinities() throws IOException {
    double[] x = {0, 1, 2, 3, 4, 5, 6};
    double[] y = {1, 0, -1, NAN, INF, 1e-3, 1e-6};
    List<Series> s = List.of(new Series("MB", x, y, Style.MARKERS),
        new Series("all bad", new double[] {1, 2}, new double[] {0, -5}, Style.SOLID));
    Plots.lines(dir.resolve("loglog.png"), "log-log", "x", "y", true, true, s);
    assertPng(dir.resolve("loglog.png"), 700, 500);
    Plots.lines(dir.resolve("nothing.png"), "nothing", "x", "y", true, true,
        List.of(new Series("none", new double[] {-1, 0}, new double[] {NAN, 0}, Style.SOLID)));
    assertPng(dir.resolve("nothing.png"), 700, 500);
    Plots.lines(dir.resolve("empty.png"), null, null, null, false, false,
        List.of(new Series("empty", new double[0], new double[0], null)));
    assertPng(dir.resolve("empty.png"), 700, 500);
  }

  @Test
  void logAxesSpanningManyDecades() throws IOException {
    double[] x = epochs(60), mb = new double[60], ob = new double[60];
    for (int i = 0; i < 60; i++) {
      mb[i] = Math.exp(-0.3 * i);
      ob[i] = Math.exp(1.15 * i); // a diverging run: 1 to 1e30
    }
    List<Series> s = List.of(new Series("MB", x, mb, Style.SOLID), new Series("OB", x, ob, Style.SOLID));
    Plots.lines(dir.resolve("wide.png"), "diverging", "epoch", "loss", false, true, s);
    assertPng(dir.resolve("wide.png"), 700, 500);
    Plots.grid(dir.resolve("widegrid.png"), "diverging", 2, List.of(new Panel("a", "epoch", "loss", true, s)));
    assertPng(dir.resolve("widegrid.png"), 400, 300);
    double[] lo = mb.clone(), hi = ob.clone();
    Plots.linesWithBands(dir.resolve("wideband.png"), "diverging", "epoch", "loss", false, true,
        List.of(new ErrorSeries("MB", x, mb, lo, hi, Style.SOLID)), "shaded: MB to OB");
    assertPng(dir.resolve("wideband.png"), 700, 500);
  }

  @Test
  void degenerateRangesDoNotThrow() throws IOException {
    Plots.lines(dir.resolve("const.png"), "constant", "x", "y", false, false,
        List.of(new Series("c", new double[] {1, 2, 3}, new double[] {1, 1 + 1e-15, 1}, Style.SOLID),
            new Series("one point", new double[] {2}, new double[] {1}, Style.SOLID)));
    assertPng(dir.resolve("const.png"), 700, 500);
    Plots.lines(dir.resolve("constlog.png"), "constant", "x", "y", true, true,
        List.of(new Series("c", new double[] {5, 5}, new double[] {3, 3}, Style.DASHED)));
    assertPng(dir.resolve("constlog.png"), 700, 500);
  }

  /**
   * A log axis must carry at least two distinct labelled ticks, however narrow its range. XChart
   * labels a log axis at the values k 10^n on it (k = 1 only from a range of 30x on), and with
   * fewer than two of those at its ends, with one significant digit each (fig7's lr 0.001 panel,
   * 1.0e-4 to 1.4e-4, read "1E-4" twice). The axis range is therefore widened to such values:
   * checked here for the ranges of fig7's panels and others around them, along with what the
   * widening may cost (at most 2x at either end, 10x for decade axes).
   */
  @Test
  void logAxesSpanAtLeastTwoLabelledTicks() {
    double[][] ranges = {{1.0e-4, 1.4e-4}, {8.6e-5, 1.07e-4}, {3.9e-5, 1.1e-4}, {0.107, 0.16}, {2.5e-3, 4.6e-3},
        {0.0990, 0.1010}, {1.00001e-4, 1.00002e-4}, {9.1e-5, 9.2e-5}, {3e-7, 5e-7}, {2000, 2500}, {1e4, 1.3e4},
        {1e-10, 0.15}, {5e-4, 0.12}, {0.0011, 0.05}, {0.5, 0.9}, {12.5, 13.5}, {0.001, 0.1}, {1e-3, 1.0001e-3}};
    for (double[] r : ranges) {
      double min = r[0], max = r[1];
      double[] axis = XyFigures.logAxisRange(min, max);
      String what = "data " + min + ".." + max + ", axis " + axis[0] + ".." + axis[1];
      assertTrue(axis[0] <= min && axis[1] >= max, what + " holds the data");
      boolean decadesOnly = max / min >= 30;
      double worst = decadesOnly ? 10 : 2;
      assertTrue(axis[0] > min / worst && axis[1] < max * worst, what + " is not much wider than the data");
      List<Double> ticks = new java.util.ArrayList<>();
      for (int n = (int) Math.floor(Math.log10(axis[0])) - 1; n <= (int) Math.ceil(Math.log10(axis[1])); n++) {
        for (int k = 1; k <= (decadesOnly ? 1 : 9); k++) {
          double v = k * Math.pow(10, n);
          if (v >= axis[0] && v <= axis[1]) ticks.add(v);
        }
      }
      assertTrue(ticks.size() >= 2, what + ": ticks " + ticks);
    }
  }

  /** Shaded bands must say what they are: a grid of panels with bands needs its legend entry. */
  @Test
  void gridBandsAreExplainedInTheLegend() throws IOException {
    double[] x = {0, 1, 2, 3}, mid = {1e-4, 1.2e-4, 1.3e-4, 1.4e-4}, lo = {0.9e-4, 1.1e-4, 1.2e-4, 1.3e-4},
        hi = {1.1e-4, 1.3e-4, 1.4e-4, 1.5e-4};
    Panel p = new Panel("lr 0.001", "epoch", "idempotent error", true, List.of(new Series("MB", x, mid, Style.SOLID)),
        List.of(new ErrorSeries("MB", x, mid, lo, hi, Style.SOLID)));
    Path png = dir.resolve("gridbands.png");
    assertBad("shaded bands need a legend entry", () -> Plots.grid(png, "t", 1, List.of(p)));
    Plots.grid(png, "t", 1, List.of(p), "shaded: min to max over runs");
    assertPng(png, 400, 300);
  }

  @Test
  void linesWithBandsWritesAPng() throws IOException {
    Plots.linesWithBands(dir.resolve("bands.png"), "Median over 5 runs", "epoch", "error", false, true,
        bandsOverRuns(), "shaded: min to max over runs");
    assertPng(dir.resolve("bands.png"), 700, 500);
  }

  @Test
  void bandsOnLogAxesWithNonPositiveAndNaNBounds() throws IOException {
    double[] x = {1, 2, 3, 4, 5, 6};
    ErrorSeries s = new ErrorSeries("MB", x, new double[] {1, 0.5, NAN, 0.1, 0.05, 0.01},
        new double[] {0.5, -1, 0.1, 0, NAN, 0.005}, new double[] {2, 1, 0.5, 0.2, 0.1, INF}, Style.MARKERS);
    ErrorSeries lonely = new ErrorSeries("single", new double[] {3}, new double[] {0.3}, new double[] {0.2},
        new double[] {0.4}, Style.SOLID);
    Plots.linesWithBands(dir.resolve("bandslog.png"), "t", "x", "y", true, true, List.of(s, lonely), "shaded: range");
    assertPng(dir.resolve("bandslog.png"), 700, 500);
  }

  @Test
  void gridScalesWithPanels() throws IOException {
    Path png = dir.resolve("grid.png");
    Plots.grid(png, "MB vs OB per learning rate", 2, panelsPerLearningRate());
    BufferedImage img = assertPng(png, 1000, 700);
    assertEquals(2 * XyFigures.PANEL_WIDTH, img.getWidth());
    Plots.grid(dir.resolve("wide.png"), null, 9, panelsPerLearningRate()); // more columns than panels
    assertEquals(4 * XyFigures.PANEL_WIDTH, assertPng(dir.resolve("wide.png"), 1000, 300).getWidth());
  }

  @Test
  void histogramWritesAPng() throws IOException {
    Map<String, double[]> m = errorSamples();
    m.put("with NaN", new double[] {NAN, 0.1, 0.12, INF});
    m.put("empty", new double[0]);
    Plots.histogram(dir.resolve("hist.png"), "Idempotent error after training", "error", 30, m);
    assertPng(dir.resolve("hist.png"), 700, 500);
    Plots.histogram(dir.resolve("same.png"), "all equal", "v", 5, Map.of("A", new double[] {2, 2, 2}));
    assertPng(dir.resolve("same.png"), 700, 500);
    Plots.histogram(dir.resolve("none.png"), "nothing", "v", 5, Map.of("A", new double[] {NAN}));
    assertPng(dir.resolve("none.png"), 700, 500);
  }

  @Test
  void barsWritesAPng() throws IOException {
    Map<String, double[]> m = secondsPerEpoch();
    m.put("broken", new double[] {NAN});
    Plots.bars(dir.resolve("bars.png"), "Seconds per epoch", "seconds", m);
    assertPng(dir.resolve("bars.png"), 700, 500);
    Map<String, double[]> neg = new LinkedHashMap<>();
    neg.put("gain", new double[] {-1, 2, 0.5});
    neg.put("loss", new double[] {-3, -2});
    Plots.bars(dir.resolve("neg.png"), null, null, neg);
    assertPng(dir.resolve("neg.png"), 700, 500);
  }

  @Test
  void surfaceWithPathsWritesAPng() throws IOException {
    Surface s = surface();
    s.z()[3][4] = NAN;
    Plots.surfaceWithPaths(dir.resolve("surface.png"), "Loss on the PCA plane", "PC 1", "PC 2", s.xs(), s.ys(),
        s.z(), true, s.paths());
    assertPng(dir.resolve("surface.png"), 700, 500);
    Plots.surfaceWithPaths(dir.resolve("flat.png"), "flat", "a", "b", new double[] {0, 1}, new double[] {0, 1},
        new double[][] {{0, 0}, {0, 0}}, true, List.of());
    assertPng(dir.resolve("flat.png"), 700, 500);
  }

  // ---- bad input ----------------------------------------------------------------------------

  @Test
  void badInputIsRejectedWithAUsefulMessage() {
    Path png = dir.resolve("bad.png");
    double[] two = {1, 2};
    assertBad("empty", () -> Plots.lines(png, "t", "x", "y", false, false, List.of()));
    assertBad("'OB'", () -> new Series("OB", two, new double[] {1}, Style.SOLID));
    assertBad("non-blank name", () -> new Series(" ", two, two, Style.SOLID));
    assertBad("non-blank name", () -> new ErrorSeries(null, two, two, two, two, Style.SOLID));
    assertBad("'MB'", () -> new ErrorSeries("MB", two, two, two, new double[3], Style.SOLID));
    assertBad("duplicate series name 'MB'", () -> Plots.lines(png, "t", "x", "y", false, false,
        List.of(new Series("MB", two, two, Style.SOLID), new Series("MB", two, two, Style.DASHED))));
    assertBad("empty", () -> Plots.linesWithBands(png, "t", "x", "y", false, false, List.of(), "shaded: range"));
    assertBad("shaded bands need a legend entry", () -> Plots.linesWithBands(png, "t", "x", "y", false, false,
        bandsOverRuns(), " "));
    assertBad("columns", () -> Plots.grid(png, "t", 0, panelsPerLearningRate()));
    assertBad("panel", () -> Plots.grid(png, "t", 2, List.of()));
    assertBad("panel 1 'second'", () -> Plots.grid(png, "t", 2,
        List.of(new Panel("first", "x", "y", false, List.of(new Series("MB", two, two, Style.SOLID))),
            new Panel("second", "x", "y", false, List.of()))));
    assertBad("bins", () -> Plots.histogram(png, "t", "x", 0, errorSamples()));
    assertBad("empty", () -> Plots.histogram(png, "t", "x", 10, Map.of()));
    assertBad("empty", () -> Plots.bars(png, "t", "y", Map.of()));
    Map<String, double[]> nullValues = new LinkedHashMap<>();
    nullValues.put("MB", null);
    assertBad("'MB'", () -> Plots.bars(png, "t", "y", nullValues));
    Surface s = surface();
    assertBad("strictly increasing", () -> Plots.surfaceWithPaths(png, "t", "x", "y", new double[] {0, 2, 1},
        s.ys(), s.z(), false, List.of()));
    assertBad("z row 0", () -> Plots.surfaceWithPaths(png, "t", "x", "y", new double[] {0, 1}, s.ys(), s.z(),
        false, List.of()));
    assertBad("rows", () -> Plots.surfaceWithPaths(png, "t", "x", "y", s.xs(), new double[] {0, 1}, s.z(), false,
        List.of()));
    assertBad("paths", () -> Plots.surfaceWithPaths(png, "t", "x", "y", s.xs(), s.ys(), s.z(), false, null));
    assertBad("output path", () -> Plots.lines(null, "t", "x", "y", false, false, mbVsOb()));
    assertTrue(Files.notExists(png), "nothing is written for bad input");
  }

  // ---- colours --------------------------------------------------------------------------------

  @Test
  void coloursFollowTheName() {
    List<Color> a = Palette.assign(List.of("MB", "OB", "lr=0.1"));
    List<Color> b = Palette.assign(List.of("lr=0.1", "OB", "MB train", "MB"));
    assertEquals(Palette.MB, a.get(0));
    assertEquals(Palette.OB, a.get(1));
    assertEquals(a.get(2), b.get(0));
    assertEquals(Palette.MB, b.get(2));
    assertEquals(Palette.OB, b.get(1));
    assertEquals(null, Palette.fixed("MBA"));
    // Distinct names stay distinct within one figure, up to eight of them.
    List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h");
    assertEquals(8, new HashSet<>(Palette.assign(names)).size());
    assertNotEquals(Palette.MB, Palette.assign(List.of("x")).get(0));
  }

  @Test
  void tickLabelsAreShort() {
    assertEquals("0.25", Draw.tick(0.25, 0.25));
    assertEquals("-0.5", Draw.tick(-0.5, 0.5));
    assertEquals("0", Draw.tick(0, 0.1));
    assertEquals("1.5e-4", Draw.tick(1.5e-4, 5e-5));
    assertEquals("2e6", Draw.tick(2e6, 1e6));
    assertEquals("0.0123", Draw.number(0.012345));
    assertEquals("1e-4", Draw.power(-4));
    assertEquals("0.01", Draw.power(-2));
  }

  // ---- examples to look at ------------------------------------------------------------------

  /** One figure of each kind in target/plot-examples/ (not checked in), for a human to look at. */
  @Test
  void writeExamples() throws IOException {
    Path out = Path.of("target", "plot-examples");
    Plots.lines(out.resolve("lines.png"), "Idempotent error, MB vs OB", "epoch", "idempotent error", false, true,
        mbVsOb());
    Plots.linesWithBands(out.resolve("bands.png"), "Median and range over 5 runs", "epoch", "idempotent error",
        false, true, bandsOverRuns(), "shaded: min to max over runs");
    Plots.grid(out.resolve("grid.png"), "Idempotent error per learning rate", 2, panelsPerLearningRate());
    Plots.histogram(out.resolve("histogram.png"), "Idempotent error on test points", "error", 30, errorSamples());
    Plots.bars(out.resolve("bars.png"), "Seconds per epoch", "seconds", secondsPerEpoch());
    Surface s = surface();
    Plots.surfaceWithPaths(out.resolve("surface.png"), "Loss on the plane of the first two principal components",
        "PC 1", "PC 2", s.xs(), s.ys(), s.z(), true, s.paths());
    for (String f : List.of("lines", "bands", "grid", "histogram", "bars", "surface")) {
      assertPng(out.resolve(f + ".png"), 700, 500);
    }
  }
}
