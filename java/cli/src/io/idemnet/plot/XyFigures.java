package io.idemnet.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The figures drawn with XChart: line charts (with bands), grids of them and histograms. Only
 * plottable points reach XChart, and axis ranges are set here whenever XChart's own would be
 * degenerate, so XChart never sees a value it would reject.
 */
final class XyFigures {
  private XyFigures() {}

  static final int WIDTH = 800, HEIGHT = 600, PANEL_WIDTH = 520, PANEL_HEIGHT = 390;

  /** Beyond this many decades XChart's log axis labels (one per decade) collide. */
  private static final int FULL_DECADES = 14, PANEL_DECADES = 9;

  /** Font sizes of one chart. */
  record Fonts(float title, float axis, float ticks, float legend) {}

  static final Fonts FULL = new Fonts(19f, 15f, 13f, 14f), SMALL = new Fonts(15f, 13f, 12f, 13f);

  /** Hidden helper series (bands, outlines) get names no caller uses. */
  private static final String HIDDEN = "\u0001";

  /** Counts what could not be drawn, for a footnote. */
  static final class Notes {
    int dropped;
    String why = "NaN, infinite, or <= 0 on a log axis";
    final List<String> nothingToPlot = new ArrayList<>();

    String text() {
      List<String> parts = new ArrayList<>();
      if (dropped > 0) {
        parts.add(dropped + (dropped == 1 ? " point" : " points") + " not shown (" + why + ")");
      }
      if (!nothingToPlot.isEmpty()) {
        String names = String.join(", ", nothingToPlot);
        if (names.length() > 60) names = names.substring(0, 57) + "...";
        parts.add("nothing to plot for " + names);
      }
      return String.join("; ", parts);
    }
  }

  /** Points that can be drawn: finite, and > 0 on a log axis. */
  record Points(double[] x, double[] y, int dropped) {}

  static boolean ok(double v, boolean log) {
    return Double.isFinite(v) && (!log || v > 0);
  }

  static Points plottable(double[] x, double[] y, boolean logX, boolean logY) {
    int n = 0;
    for (int k = 0; k < x.length; k++) if (ok(x[k], logX) && ok(y[k], logY)) n++;
    double[] px = new double[n], py = new double[n];
    for (int k = 0, m = 0; k < x.length; k++) {
      if (ok(x[k], logX) && ok(y[k], logY)) {
        px[m] = x[k];
        py[m++] = y[k];
      }
    }
    return new Points(px, py, x.length - n);
  }

  /** The smallest and largest of values seen, for setting axis ranges. */
  static final class Range {
    double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;

    void add(double[] v) {
      for (double d : v) add(d);
    }

    void add(double d) {
      if (Double.isFinite(d)) {
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
    }

    boolean empty() {
      return min > max;
    }
  }

  static XYChart chart(int width, int height, String title, String xLabel, String yLabel, boolean logX, boolean logY,
      Fonts fonts, boolean legend) {
    XYChart chart = new XYChartBuilder().width(width).height(height).title(title).xAxisTitle(xLabel)
        .yAxisTitle(yLabel).build();
    XYStyler st = chart.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setPlotBackgroundColor(Color.WHITE);
    st.setChartFontColor(Draw.TEXT);
    st.setPlotBorderColor(Draw.AXIS);
    st.setPlotGridLinesColor(Draw.GRID);
    st.setPlotGridLinesStroke(new BasicStroke(1f));
    st.setChartTitleBoxVisible(false);
    st.setChartTitleFont(Draw.font(fonts.title(), true));
    st.setChartTitleVisible(title != null && !title.isEmpty());
    st.setAxisTitleFont(Draw.font(fonts.axis(), false));
    st.setAxisTickLabelsFont(Draw.font(fonts.ticks(), false));
    st.setAxisTickLabelsColor(Draw.TEXT);
    st.setAxisTickMarksColor(Draw.AXIS);
    st.setLegendFont(Draw.font(fonts.legend(), false));
    st.setLegendVisible(legend);
    st.setLegendPosition(LegendPosition.OutsideS);
    st.setLegendLayout(LegendLayout.Horizontal);
    st.setLegendBorderColor(Color.WHITE);
    st.setLegendBackgroundColor(Color.WHITE);
    st.setLegendSeriesLineLength(30);
    st.setChartPadding(14);
    st.setPlotMargin(6);
    st.setMarkerSize(7);
    st.setToolTipsEnabled(false);
    st.setAntiAlias(true);
    st.setXAxisLogarithmic(logX);
    st.setYAxisLogarithmic(logY);
    st.setDefaultSeriesRenderStyle(XYSeriesRenderStyle.Line);
    return chart;
  }

  /**
   * Sets an axis range where XChart's own would be degenerate (one value, or a span too small to
   * label): a margin around the value instead.
   */
  static void guardRanges(XYChart chart, Range xr, Range yr, boolean logX, boolean logY) {
    XYStyler st = chart.getStyler();
    double[] x = guarded(xr, logX), y = guarded(yr, logY);
    if (x != null) {
      st.setXAxisMin(x[0]);
      st.setXAxisMax(x[1]);
    }
    if (y != null) {
      st.setYAxisMin(y[0]);
      st.setYAxisMax(y[1]);
    }
  }

  /**
   * XChart labels an axis whose values are all equally spaced (such as epochs 1..n) at data
   * values, densely and from the first one (1, 4, 7, ...); a hidden pair of unevenly placed
   * points makes it choose round ticks (0, 10, 20, ...) instead. (Log axes are labelled by
   * decades anyway.)
   */
  static void roundTicks(XYChart chart, Range xr, Range yr) {
    if (xr.empty() || yr.empty()) return;
    double x = xr.min, dx = Math.max(xr.max - xr.min, Math.abs(x) * 1e-6) * 1e-7 * Math.PI;
    double y = yr.max, dy = Math.max(yr.max - yr.min, Math.abs(y) * 1e-6) * 1e-7 * Math.PI;
    XYSeries s = chart.addSeries(HIDDEN + "ticks", new double[] {x, x + dx}, new double[] {y, y - dy});
    s.setLineStyle(SeriesLines.NONE);
    s.setMarker(SeriesMarkers.NONE);
    s.setShowInLegend(false);
  }

  /** On a log axis spanning less than about a decade and a half, label 2..9 times powers of ten too. */
  static void logLabels(XYChart chart, Range xr, Range yr, boolean logX, boolean logY) {
    if (logX && !xr.empty() && xr.max / xr.min < 30) chart.getStyler().setXAxisLogarithmicDecadeOnly(false);
    if (logY && !yr.empty() && yr.max / yr.min < 30) chart.getStyler().setYAxisLogarithmicDecadeOnly(false);
  }

  private static double[] guarded(Range r, boolean log) {
    if (r.empty()) return null;
    double lo = r.min, hi = r.max, scale = Math.max(Math.abs(lo), Math.abs(hi));
    if (log) {
      if (hi / lo > 1 + 1e-6) return null;
      return new double[] {lo / 2, hi * 2};
    }
    if (hi - lo > 1e-9 * scale && hi - lo > 1e-300) return null;
    double pad = scale > 0 ? scale * 0.1 : 1;
    return new double[] {lo - pad, hi + pad};
  }

  static XYSeries addLine(XYChart chart, String name, Points p, Color colour, Style style, float scale) {
    XYSeries s = chart.addSeries(name, p.x(), p.y());
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.Line);
    s.setLineColor(colour);
    s.setMarkerColor(colour);
    s.setLineStyle(Draw.stroke(style, scale));
    s.setMarker(style == Style.MARKERS || p.x().length == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    return s;
  }

  /** A filled polygon, not in the legend. */
  static void addPolygon(XYChart chart, String name, double[] x, double[] y, Color fill) {
    XYSeries s = chart.addSeries(HIDDEN + name, x, y);
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.PolygonArea);
    s.setFillColor(fill);
    s.setLineStyle(SeriesLines.NONE);
    s.setLineColor(Palette.withAlpha(fill, 0));
    s.setMarker(SeriesMarkers.NONE);
    s.setShowInLegend(false);
  }

  /**
   * Paints the chart; with a note, the chart leaves a strip at the bottom for it. Without any
   * data, says so in the middle of the (empty) plot.
   */
  static BufferedImage finish(XYChart chart, int width, int height, boolean any, Notes notes) {
    String note = notes.text();
    int strip = note.isEmpty() ? 0 : 16;
    if (!any) chart.getStyler().setLegendVisible(false);
    BufferedImage img = Draw.image(width, height);
    Graphics2D g = Draw.graphics(img);
    chart.paint(g, width, height - strip);
    if (!any) {
      g.setFont(Draw.font(16f, false));
      g.setColor(Draw.MUTED);
      Draw.centered(g, "no plottable data", width / 2.0, (height - strip) / 2.0);
    }
    g.dispose();
    Draw.footnote(img, note);
    return img;
  }

  /** Something to hand to XChart once the axes are settled. */
  private enum Kind {
    BAND, ERROR_BAR, LINE
  }

  /** A line (in the legend), a filled band polygon or an error bar, in data coordinates. */
  private record Item(Kind kind, String name, double[] x, double[] y, Color colour, Style style, float scale) {}

  /**
   * Adds the items, bands first so that lines lie on top, after settling the axes: a log axis
   * spanning more decades than XChart can label legibly (it labels every decade) is drawn as a
   * linear axis of log10 values labelled at round decades.
   */
  private static void place(XYChart chart, List<Item> items, boolean logX, boolean logY, int maxDecades) {
    Range xr = new Range(), yr = new Range();
    for (Item it : items) {
      xr.add(it.x());
      yr.add(it.y());
    }
    boolean manualX = logX && tooManyDecades(xr, maxDecades), manualY = logY && tooManyDecades(yr, maxDecades);
    XYStyler st = chart.getStyler();
    if (manualX) {
      st.setXAxisLogarithmic(false);
      st.setXAxisDecimalPattern(DECADE_PATTERN);
    }
    if (manualY) {
      st.setYAxisLogarithmic(false);
      st.setYAxisDecimalPattern(DECADE_PATTERN);
    }
    Range txr = new Range(), tyr = new Range();
    for (Kind kind : Kind.values()) {
      for (Item it : items) {
        if (it.kind() != kind) continue;
        double[] x = manualX ? log10(it.x()) : it.x(), y = manualY ? log10(it.y()) : it.y();
        txr.add(x);
        tyr.add(y);
        switch (kind) {
          case BAND -> addPolygon(chart, it.name(), x, y, it.colour());
          case ERROR_BAR -> {
            XYSeries bar = chart.addSeries(HIDDEN + it.name(), x, y);
            bar.setLineColor(it.colour());
            bar.setLineStyle(new BasicStroke(1.5f));
            bar.setMarker(SeriesMarkers.NONE);
            bar.setShowInLegend(false);
          }
          case LINE -> addLine(chart, it.name(), new Points(x, y, 0), it.colour(), it.style(), it.scale());
        }
      }
    }
    guardRanges(chart, txr, tyr, logX && !manualX, logY && !manualY);
    roundTicks(chart, txr, tyr);
    logLabels(chart, xr, yr, logX && !manualX, logY && !manualY);
    if (logX && !manualX && guarded(txr, true) == null) setRange(st, true, logAxisRange(xr.min, xr.max));
    if (logY && !manualY && guarded(tyr, true) == null) setRange(st, false, logAxisRange(yr.min, yr.max));
  }

  private static void setRange(XYStyler st, boolean x, double[] range) {
    if (x) {
      st.setXAxisMin(range[0]);
      st.setXAxisMax(range[1]);
    } else {
      st.setYAxisMin(range[0]);
      st.setYAxisMax(range[1]);
    }
  }

  /**
   * The range of a log axis over data in [min, max] (0 < min < max): widened to the nearest
   * values XChart labels, k 10^n (k = 1..9; k = 1 only from a range of 30x on, see
   * {@link #logLabels}), so that at least two labelled ticks lie on the axis and both ends are
   * round. (Left to itself, XChart labels a narrow axis such as 1.0e-4..1.4e-4 at its two ends
   * with one significant digit each: "1E-4" twice.) The ends are moved out by a relative 1e-9 so
   * that rounding cannot drop the end ticks.
   */
  static double[] logAxisRange(double min, double max) {
    boolean decadesOnly = max / min >= 30;
    return new double[] {roundDown(min, decadesOnly) * (1 - 1e-9), roundUp(max, decadesOnly) * (1 + 1e-9)};
  }

  /** The largest k 10^n <= v (k = 1..9, or k = 1 with decadesOnly). */
  private static double roundDown(double v, boolean decadesOnly) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    if (p > v) p /= 10; // log10 rounded up across a power of ten
    if (decadesOnly) return p;
    double k = Math.floor(v / p * (1 + 1e-12));
    return Math.max(1, Math.min(9, k)) * p;
  }

  /** The smallest k 10^n >= v (k = 1..10, or k in {1, 10} with decadesOnly). */
  private static double roundUp(double v, boolean decadesOnly) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    if (p > v) p /= 10;
    if (decadesOnly) return v <= p * (1 + 1e-12) ? p : 10 * p;
    double k = Math.ceil(v / p * (1 - 1e-12));
    return Math.max(1, Math.min(10, k)) * p;
  }

  private static boolean tooManyDecades(Range r, int maxDecades) {
    return !r.empty() && Math.log10(r.max) - Math.log10(r.min) > maxDecades;
  }

  private static double[] log10(double[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) out[i] = Math.log10(v[i]);
    return out;
  }

  /**
   * Tick labels of a linear axis of log10 values: the value k is shown as "1E" + k. (XChart's own
   * label callback is no use here: with one set it places ticks at the data's extremes only.)
   */
  private static final String DECADE_PATTERN = "'1E'0.#;'1E-'0.#";

  /** Adds the series of one chart; returns whether any point was added. */
  private static boolean addAll(XYChart chart, List<Series> series, Map<String, Color> colours, boolean logX,
      boolean logY, float scale, int maxDecades, Notes notes) {
    return addAll(chart, series, List.of(), colours, logX, logY, scale, maxDecades, notes);
  }

  /** Adds the bands (in the colours of the same-named series) and the series of one chart. */
  private static boolean addAll(XYChart chart, List<Series> series, List<ErrorSeries> bands, Map<String, Color> colours,
      boolean logX, boolean logY, float scale, int maxDecades, Notes notes) {
    List<Item> items = new ArrayList<>();
    double floor = positiveFloor(bands);
    for (ErrorSeries b : bands) addBandItems(items, b, colours.getOrDefault(b.name(), BAND_SWATCH), logX, logY, floor);
    for (Series s : series) {
      Points p = plottable(s.x(), s.y(), logX, logY);
      notes.dropped += p.dropped();
      if (p.x().length == 0) {
        notes.nothingToPlot.add(s.name());
        continue;
      }
      items.add(new Item(Kind.LINE, s.name(), p.x(), p.y(), colours.get(s.name()), s.style(), scale));
    }
    place(chart, items, logX, logY, maxDecades);
    return !items.isEmpty();
  }

  static Map<String, Color> colours(List<String> names) {
    List<Color> c = Palette.assign(names);
    Map<String, Color> out = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) out.putIfAbsent(names.get(i), c.get(i));
    return out;
  }

  static BufferedImage lines(String title, String xLabel, String yLabel, boolean logX, boolean logY,
      List<Series> series) {
    XYChart chart = chart(WIDTH, HEIGHT, title, xLabel, yLabel, logX, logY, FULL, true);
    Notes notes = new Notes();
    boolean any = addAll(chart, series, colours(series.stream().map(Series::name).toList()), logX, logY, 1f,
        FULL_DECADES, notes);
    return finish(chart, WIDTH, HEIGHT, any, notes);
  }

  static BufferedImage bands(String title, String xLabel, String yLabel, boolean logX, boolean logY,
      List<ErrorSeries> series, String bandLegend) {
    XYChart chart = chart(WIDTH, HEIGHT, title, xLabel, yLabel, logX, logY, FULL, true);
    Map<String, Color> colours = colours(series.stream().map(ErrorSeries::name).toList());
    Notes notes = new Notes();
    // On a log axis a band reaching down to <= 0 stops at the smallest positive value shown.
    double floor = positiveFloor(series);
    List<Item> items = new ArrayList<>();
    boolean anyLine = false;
    for (ErrorSeries s : series) {
      Color c = colours.get(s.name());
      Points p = plottable(s.x(), s.y(), logX, logY);
      notes.dropped += p.dropped();
      addBandItems(items, s, c, logX, logY, floor);
      if (p.x().length == 0) {
        notes.nothingToPlot.add(s.name());
        continue;
      }
      items.add(new Item(Kind.LINE, s.name(), p.x(), p.y(), c, s.style(), 1f));
      anyLine = true;
    }
    place(chart, items, logX, logY, FULL_DECADES);
    if (anyLine) bandLegendEntry(chart, bandLegend, items);
    else chart.getStyler().setLegendVisible(false); // bands alone have no legend entries
    return finish(chart, WIDTH, HEIGHT, !items.isEmpty(), notes);
  }

  /** The smallest positive value of any series (where a band reaching down to <= 0 stops on a log axis). */
  private static double positiveFloor(List<ErrorSeries> series) {
    Range positive = new Range();
    for (ErrorSeries s : series) {
      for (double[] v : List.of(s.y(), s.yLow(), s.yHigh())) for (double d : v) if (d > 0) positive.add(d);
    }
    return positive.empty() ? 1 : positive.min;
  }

  /** The shaded band of a series: one polygon per run of drawable points (an error bar for a lone point). */
  private static void addBandItems(List<Item> items, ErrorSeries s, Color c, boolean logX, boolean logY, double floor) {
    int n = s.x().length, bandNo = 0;
    for (int start = 0; start < n;) {
      if (!bandOk(s, start, logX, logY)) {
        start++;
        continue;
      }
      int end = start;
      while (end + 1 < n && bandOk(s, end + 1, logX, logY)) end++;
      int m = end - start + 1;
      double[] bx = new double[2 * m], by = new double[2 * m];
      for (int k = 0; k < m; k++) {
        int i = start + k;
        double lo = Math.min(s.yLow()[i], s.yHigh()[i]), hi = Math.max(s.yLow()[i], s.yHigh()[i]);
        if (logY && lo <= 0) lo = floor;
        bx[k] = s.x()[i];
        by[k] = hi;
        bx[2 * m - 1 - k] = s.x()[i];
        by[2 * m - 1 - k] = lo;
      }
      String name = s.name() + " band " + bandNo++;
      items.add(m == 1 ? new Item(Kind.ERROR_BAR, name, bx, by, c, Style.SOLID, 1f) // a lone point: an error bar
          : new Item(Kind.BAND, name, bx, by, Palette.withAlpha(c, BAND_ALPHA), Style.SOLID, 1f));
      start = end + 1;
    }
  }

  /** Opacity of a band's fill (and of its legend swatch). */
  static final double BAND_ALPHA = 0.22;

  private static boolean bandOk(ErrorSeries s, int i, boolean logX, boolean logY) {
    double lo = s.yLow()[i], hi = s.yHigh()[i];
    return ok(s.x()[i], logX) && Double.isFinite(lo) && Double.isFinite(hi) && (!logY || Math.max(lo, hi) > 0);
  }

  /**
   * A legend entry that says what the shaded bands are: a grey swatch, drawn in the legend only
   * (its polygon has no area, at a point of the first line, so the axes do not change).
   */
  private static void bandLegendEntry(XYChart chart, String label, List<Item> items) {
    boolean anyBand = items.stream().anyMatch(it -> it.kind() != Kind.LINE);
    Item line = items.stream().filter(it -> it.kind() == Kind.LINE).findFirst().orElse(null);
    if (!anyBand || line == null) return;
    XYSeries s = chart.addSeries(label, new double[] {line.x()[0], line.x()[0], line.x()[0]},
        new double[] {line.y()[0], line.y()[0], line.y()[0]});
    s.setXYSeriesRenderStyle(XYSeriesRenderStyle.PolygonArea);
    s.setFillColor(Palette.withAlpha(BAND_SWATCH, BAND_ALPHA * 2));
    s.setLineStyle(SeriesLines.NONE);
    s.setLineColor(Palette.withAlpha(BAND_SWATCH, 0));
    s.setMarker(SeriesMarkers.NONE);
  }

  /** The neutral colour of the legend's band swatch (bands take their series' colours). */
  static final Color BAND_SWATCH = new Color(0x777777);

  static BufferedImage grid(String title, int columns, List<Panel> panels, String bandLegend) {
    int cols = Math.min(columns, panels.size()), rows = (panels.size() + cols - 1) / cols;
    int width = cols * PANEL_WIDTH;
    List<String> names = new ArrayList<>();
    Map<String, Style> styles = new LinkedHashMap<>();
    for (Panel p : panels) {
      for (Series s : p.series()) {
        names.add(s.name());
        styles.putIfAbsent(s.name(), s.style());
      }
    }
    Map<String, Color> colours = colours(names);
    List<Draw.Entry> legend = new ArrayList<>();
    styles.forEach((name, style) -> legend.add(new Draw.Entry(name, colours.get(name), style)));
    if (panels.stream().anyMatch(p -> !p.bands().isEmpty())) {
      legend.add(new Draw.Entry(bandLegend, Palette.withAlpha(BAND_SWATCH, BAND_ALPHA * 2), Style.SOLID, Draw.Symbol.BAND));
    }

    // Title and a shared legend on top, then the panels.
    BufferedImage probe = Draw.image(1, 1);
    Graphics2D pg = Draw.graphics(probe);
    pg.setFont(Draw.font(FULL.legend(), false));
    int legendH = Draw.legendHeight(pg, legend, width - 40);
    pg.dispose();
    boolean hasTitle = title != null && !title.isEmpty();
    int top = (hasTitle ? 44 : 10) + legendH + 6;
    int height = top + rows * PANEL_HEIGHT;
    BufferedImage img = Draw.image(width, height);
    Graphics2D g = Draw.graphics(img);
    if (hasTitle) {
      g.setFont(Draw.font(21f, true));
      g.setColor(Draw.TEXT);
      Draw.centered(g, title, width / 2.0, 32);
    }
    g.setFont(Draw.font(FULL.legend(), false));
    Draw.legendRows(g, legend, 20, width - 40, (hasTitle ? 44 : 10) + (g.getFontMetrics().getHeight() + 8) / 2.0);
    for (int k = 0; k < panels.size(); k++) {
      Panel p = panels.get(k);
      int x0 = (k % cols) * PANEL_WIDTH, y0 = top + (k / cols) * PANEL_HEIGHT;
      XYChart chart = chart(PANEL_WIDTH, PANEL_HEIGHT, p.title(), p.xLabel(), p.yLabel(), false, p.logY(), SMALL, false);
      Notes notes = new Notes();
      boolean any = addAll(chart, p.series(), p.bands(), colours, false, p.logY(), 0.9f, PANEL_DECADES, notes);
      BufferedImage panel = finish(chart, PANEL_WIDTH, PANEL_HEIGHT, any, notes);
      g.drawImage(panel, x0, y0, null);
    }
    g.dispose();
    return img;
  }

  static BufferedImage histogram(String title, String xLabel, int bins, Map<String, double[]> samples) {
    XYChart chart = chart(WIDTH, HEIGHT, title, xLabel, "count", false, false, FULL, true);
    List<String> names = new ArrayList<>(samples.keySet());
    Map<String, Color> colours = colours(names);
    Range r = new Range();
    samples.values().forEach(r::add);
    Notes notes = new Notes();
    notes.why = "NaN or infinite";
    if (r.empty()) {
      names.forEach(notes.nothingToPlot::add);
      return finish(chart, WIDTH, HEIGHT, false, notes);
    }
    double lo = r.min, hi = r.max;
    if (!(hi - lo > 1e-12 * Math.max(1, Math.abs(lo)))) {
      double pad = Math.max(Math.abs(lo) * 0.05, 0.5);
      lo -= pad;
      hi += pad;
    }
    double width = (hi - lo) / bins;
    int maxCount = 0;
    List<Item> items = new ArrayList<>();
    for (String name : names) {
      double[] v = samples.get(name);
      int[] counts = new int[bins];
      int n = 0;
      for (double d : v) {
        if (!Double.isFinite(d)) {
          notes.dropped++;
          continue;
        }
        int b = (int) Math.floor((d - lo) / width);
        counts[Math.max(0, Math.min(bins - 1, b))]++;
        n++;
      }
      if (n == 0) {
        notes.nothingToPlot.add(name);
        continue;
      }
      // The outline of the bars as one closed step polygon.
      double[] x = new double[2 * bins + 2], y = new double[2 * bins + 2];
      x[0] = lo;
      y[0] = 0;
      for (int b = 0; b < bins; b++) {
        x[2 * b + 1] = lo + b * width;
        y[2 * b + 1] = counts[b];
        x[2 * b + 2] = b == bins - 1 ? hi : lo + (b + 1) * width;
        y[2 * b + 2] = counts[b];
        maxCount = Math.max(maxCount, counts[b]);
      }
      x[2 * bins + 1] = hi;
      y[2 * bins + 1] = 0;
      Color c = colours.get(name);
      items.add(new Item(Kind.BAND, name + " fill", x, y, Palette.withAlpha(c, 0.30), Style.SOLID, 1f));
      items.add(new Item(Kind.LINE, name + " (n=" + n + ")", x, y, c, Style.SOLID, 0.8f));
    }
    place(chart, items, false, false, FULL_DECADES);
    XYStyler st = chart.getStyler();
    st.setYAxisMin(0.0);
    st.setYAxisMax(Math.max(1, maxCount) * 1.05);
    st.setXAxisMin(lo);
    st.setXAxisMax(hi);
    return finish(chart, WIDTH, HEIGHT, true, notes);
  }
}
