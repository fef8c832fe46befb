package io.idemnet.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The figures drawn directly with Java2D: bars with whiskers, and a heat map with trajectories. */
final class DrawnFigures {
  private DrawnFigures() {}

  static final int WIDTH = 800, HEIGHT = 600;
  private static final Color NO_VALUE = new Color(0xb4b4b4), OUTSIDE = new Color(0xf2f2f2);

  /** Screen position of a value on a linear axis [lo, hi] drawn from a to b (b < a for y). */
  private static double map(double v, double lo, double hi, double a, double b) {
    return a + (v - lo) / (hi - lo) * (b - a);
  }

  // ---- bars ---------------------------------------------------------------------------------

  static BufferedImage bars(String title, String yLabel, Map<String, double[]> samples) {
    List<String> names = new ArrayList<>(samples.keySet());
    int n = names.size();
    double[] mean = new double[n], min = new double[n], max = new double[n];
    int[] count = new int[n];
    int dropped = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
      double sum = 0, mn = Double.POSITIVE_INFINITY, mx = Double.NEGATIVE_INFINITY;
      for (double v : samples.get(names.get(i))) {
        if (!Double.isFinite(v)) {
          dropped++;
          continue;
        }
        sum += v;
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
        count[i]++;
      }
      if (count[i] > 0) {
        mean[i] = sum / count[i];
        min[i] = mn;
        max[i] = mx;
        lo = Math.min(lo, mn);
        hi = Math.max(hi, mx);
      }
    }
    if (hi - lo <= 1e-300) hi = lo + 1;
    double room = (hi - lo) * 0.09; // for the value labels above the whiskers
    double step = Draw.niceStep(hi - lo + room, 6);
    double axisLo = Math.floor((lo - (lo < 0 ? room : 0)) / step + 1e-9) * step, axisHi = Math.ceil((hi + (hi > 0 ? room : 0)) / step - 1e-9) * step;
    double[] ticks = Draw.ticks(axisLo, axisHi, step);

    BufferedImage img = Draw.image(WIDTH, HEIGHT);
    Graphics2D g = Draw.graphics(img);
    List<Color> colours = Palette.assign(names);

    g.setFont(Draw.font(13f, false));
    FontMetrics tf = g.getFontMetrics();
    int tickW = 0;
    for (double t : ticks) tickW = Math.max(tickW, tf.stringWidth(Draw.tick(t, step)));
    g.setFont(Draw.font(14f, false));
    FontMetrics cf = g.getFontMetrics();
    double left = 30 + (yLabel.isEmpty() ? 0 : 22) + tickW + 10, right = WIDTH - 30, top = 80;
    double slot = (right - left) / Math.max(1, n);
    int labelW = 0;
    for (String name : names) labelW = Math.max(labelW, cf.stringWidth(name));
    boolean rotate = labelW > slot - 10;
    double labelH = rotate ? Math.min(150, labelW * Math.sin(Math.toRadians(35)) + 20) : 22;
    double bottom = HEIGHT - 40 - labelH;

    header(g, title, "bar: mean; whiskers: minimum to maximum", WIDTH);
    // y axis: grid lines, tick labels, title.
    g.setFont(Draw.font(13f, false));
    for (double t : ticks) {
      double y = map(t, axisLo, axisHi, bottom, top);
      g.setColor(t == 0 ? Draw.AXIS : Draw.GRID);
      g.setStroke(new BasicStroke(1f));
      g.draw(new Line2D.Double(left, y, right, y));
      g.setColor(Draw.TEXT);
      Draw.right(g, Draw.tick(t, step), left - 8, y + (tf.getAscent() - tf.getDescent()) / 2.0);
    }
    if (!yLabel.isEmpty()) {
      g.setFont(Draw.font(15f, false));
      Draw.vertical(g, yLabel, 26, (top + bottom) / 2);
    }
    g.setColor(Draw.AXIS);
    g.draw(new Line2D.Double(left, top, left, bottom));

    double barW = Math.min(slot * 0.6, 140), zero = map(0, axisLo, axisHi, bottom, top);
    for (int i = 0; i < n; i++) {
      double cx = left + (i + 0.5) * slot;
      Color c = colours.get(i);
      if (count[i] > 0) {
        double ym = map(mean[i], axisLo, axisHi, bottom, top);
        Rectangle2D bar = new Rectangle2D.Double(cx - barW / 2, Math.min(ym, zero), barW, Math.abs(ym - zero));
        g.setColor(Palette.withAlpha(c, 0.85));
        g.fill(bar);
        g.setColor(c.darker());
        g.setStroke(new BasicStroke(1.2f));
        g.draw(bar);
        double y0 = map(min[i], axisLo, axisHi, bottom, top), y1 = map(max[i], axisLo, axisHi, bottom, top);
        double cap = Math.max(8, barW * 0.28);
        g.setColor(Draw.TEXT);
        g.setStroke(new BasicStroke(1.8f));
        g.draw(new Line2D.Double(cx, y0, cx, y1));
        g.draw(new Line2D.Double(cx - cap / 2, y0, cx + cap / 2, y0));
        g.draw(new Line2D.Double(cx - cap / 2, y1, cx + cap / 2, y1));
        g.setFont(Draw.font(13f, true));
        if (mean[i] >= 0) Draw.centered(g, Draw.number(mean[i]), cx, Math.min(y1, ym) - 8);
        else Draw.centered(g, Draw.number(mean[i]), cx, Math.max(y0, ym) + 8 + g.getFontMetrics().getAscent());
      } else {
        g.setFont(Draw.font(13f, false));
        g.setColor(Draw.MUTED);
        Draw.centered(g, "no data", cx, zero - 8);
      }
      // category label and sample count
      g.setFont(Draw.font(14f, false));
      g.setColor(Draw.TEXT);
      String name = names.get(i);
      if (rotate) {
        AffineTransform saved = g.getTransform();
        g.translate(cx, bottom + 18);
        g.rotate(-Math.toRadians(35));
        Draw.right(g, name, 0, 0);
        g.setTransform(saved);
      } else {
        Draw.centered(g, name, cx, bottom + 22);
      }
      g.setFont(Draw.font(12f, false));
      g.setColor(Draw.MUTED);
      if (!rotate) Draw.centered(g, "n=" + count[i], cx, bottom + 40);
    }
    g.dispose();
    if (dropped > 0) Draw.footnote(img, dropped + (dropped == 1 ? " value" : " values") + " not counted (NaN or infinite)");
    return img;
  }

  private static void header(Graphics2D g, String title, String subtitle, int width) {
    g.setColor(Draw.TEXT);
    g.setFont(Draw.font(19f, true));
    if (!title.isEmpty()) Draw.centered(g, title, width / 2.0, 32);
    if (subtitle != null) {
      g.setFont(Draw.font(12f, false));
      g.setColor(Draw.MUTED);
      Draw.centered(g, subtitle, width / 2.0, title.isEmpty() ? 30 : 54);
    }
  }

  // ---- heat map with trajectories ---------------------------------------------------------------

  static BufferedImage surface(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[][] z,
      boolean logZ, List<Series> paths) {
    List<String> notes = new ArrayList<>();
    // Colour scale: s = z or log10(z); non-positive z on a log scale take the smallest positive.
    double minPos = Double.POSITIVE_INFINITY;
    int nonFinite = 0, nonPositive = 0;
    for (double[] row : z) {
      for (double v : row) {
        if (!Double.isFinite(v)) nonFinite++;
        else if (v > 0) minPos = Math.min(minPos, v);
        else nonPositive++;
      }
    }
    boolean log = logZ && minPos < Double.POSITIVE_INFINITY;
    if (logZ && !log && nonPositive > 0) notes.add("no positive values: linear colour scale");
    if (log && nonPositive > 0) {
      notes.add(nonPositive + (nonPositive == 1 ? " value" : " values") + " <= 0 coloured as the smallest positive");
    }
    if (nonFinite > 0) notes.add(nonFinite + (nonFinite == 1 ? " NaN/infinite value" : " NaN/infinite values") + " in grey");
    double[][] s = new double[ys.length][xs.length];
    double sLo = Double.POSITIVE_INFINITY, sHi = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < ys.length; i++) {
      for (int j = 0; j < xs.length; j++) {
        double v = z[i][j];
        double t = !Double.isFinite(v) ? Double.NaN : log ? Math.log10(Math.max(v, minPos)) : v;
        s[i][j] = t;
        if (!Double.isNaN(t)) {
          sLo = Math.min(sLo, t);
          sHi = Math.max(sHi, t);
        }
      }
    }
    boolean haveZ = sLo <= sHi;
    if (!haveZ) {
      sLo = 0;
      sHi = 1;
    } else if (!(sHi - sLo > 1e-12 * Math.max(1, Math.abs(sLo)))) {
      sLo -= 0.5;
      sHi += 0.5;
    }

    // Data range: the grid, widened to the trajectories.
    double xLo = xs[0], xHi = xs[xs.length - 1], yLo = ys[0], yHi = ys[ys.length - 1];
    List<XyFigures.Points> pts = new ArrayList<>();
    int dropped = 0;
    for (Series p : paths) {
      XyFigures.Points q = XyFigures.plottable(p.x(), p.y(), false, false);
      pts.add(q);
      dropped += q.dropped();
      for (int k = 0; k < q.x().length; k++) {
        xLo = Math.min(xLo, q.x()[k]);
        xHi = Math.max(xHi, q.x()[k]);
        yLo = Math.min(yLo, q.y()[k]);
        yHi = Math.max(yHi, q.y()[k]);
      }
    }
    if (dropped > 0) notes.add(dropped + " trajectory points not shown (NaN or infinite)");
    if (xLo < xs[0] || xHi > xs[xs.length - 1]) {
      double pad = (xHi - xLo) * 0.03;
      xLo -= pad;
      xHi += pad;
    }
    if (yLo < ys[0] || yHi > ys[ys.length - 1]) {
      double pad = (yHi - yLo) * 0.03;
      yLo -= pad;
      yHi += pad;
    }
    double xStep = Draw.niceStep(xHi - xLo, 6), yStep = Draw.niceStep(yHi - yLo, 6);
    double[] xTicks = Draw.ticks(xLo, xHi, xStep), yTicks = Draw.ticks(yLo, yHi, yStep);

    BufferedImage img = Draw.image(WIDTH, HEIGHT);
    Graphics2D g = Draw.graphics(img);
    List<Color> colours = Palette.assign(paths.stream().map(Series::name).toList());

    // Layout.
    header(g, title, null, WIDTH);
    double top = title.isEmpty() ? 20 : 50;
    if (!paths.isEmpty()) {
      List<Draw.Entry> legend = new ArrayList<>();
      for (int k = 0; k < paths.size(); k++) {
        legend.add(new Draw.Entry(paths.get(k).name(), colours.get(k), paths.get(k).style()));
      }
      legend.add(new Draw.Entry("start", Draw.AXIS, Style.SOLID, Draw.Symbol.START));
      legend.add(new Draw.Entry("end", Draw.AXIS, Style.SOLID, Draw.Symbol.END));
      g.setFont(Draw.font(14f, false));
      int h = Draw.legendHeight(g, legend, WIDTH - 60);
      Draw.legendRows(g, legend, 30, WIDTH - 60, top + (g.getFontMetrics().getHeight() + 8) / 2.0);
      top += h + 4;
    } else {
      top += 10;
    }
    g.setFont(Draw.font(13f, false));
    FontMetrics tf = g.getFontMetrics();
    int tickW = 0;
    for (double t : yTicks) tickW = Math.max(tickW, tf.stringWidth(Draw.tick(t, yStep)));
    double left = 24 + (yLabel.isEmpty() ? 0 : 22) + tickW + 10, right = WIDTH - 130;
    double bottom = HEIGHT - (xLabel.isEmpty() ? 42 : 68);
    int pw = (int) Math.round(right - left), ph = (int) Math.round(bottom - top);
    right = left + pw;
    bottom = top + ph;

    // The heat map, one pixel at a time, bilinear between grid points.
    BufferedImage heat = new BufferedImage(pw, ph, BufferedImage.TYPE_INT_RGB);
    int[] col = new int[pw], row = new int[ph];
    double[] fx = new double[pw], fy = new double[ph];
    for (int px = 0; px < pw; px++) {
      double x = xLo + (px + 0.5) / pw * (xHi - xLo);
      col[px] = cell(xs, x);
      if (col[px] >= 0) fx[px] = (x - xs[col[px]]) / (xs[col[px] + 1] - xs[col[px]]);
    }
    for (int py = 0; py < ph; py++) {
      double y = yHi - (py + 0.5) / ph * (yHi - yLo);
      row[py] = cell(ys, y);
      if (row[py] >= 0) fy[py] = (y - ys[row[py]]) / (ys[row[py] + 1] - ys[row[py]]);
    }
    for (int py = 0; py < ph; py++) {
      for (int px = 0; px < pw; px++) {
        int i = row[py], j = col[px];
        int rgb;
        if (i < 0 || j < 0) {
          rgb = OUTSIDE.getRGB();
        } else {
          double a = s[i][j], b = s[i][j + 1], c = s[i + 1][j], d = s[i + 1][j + 1];
          double v = (a * (1 - fx[px]) + b * fx[px]) * (1 - fy[py]) + (c * (1 - fx[px]) + d * fx[px]) * fy[py];
          if (Double.isNaN(v)) v = s[fy[py] < 0.5 ? i : i + 1][fx[px] < 0.5 ? j : j + 1]; // nearest next to a gap
          rgb = Double.isNaN(v) ? NO_VALUE.getRGB() : Palette.viridis((v - sLo) / (sHi - sLo)).getRGB();
        }
        heat.setRGB(px, py, rgb);
      }
    }
    g.drawImage(heat, (int) left, (int) top, null);

    // Axes: ticks outside the plot, labels, frame.
    g.setStroke(new BasicStroke(1f));
    g.setFont(Draw.font(13f, false));
    for (double t : xTicks) {
      double x = map(t, xLo, xHi, left, right);
      g.setColor(Draw.AXIS);
      g.draw(new Line2D.Double(x, bottom, x, bottom + 5));
      g.setColor(Draw.TEXT);
      Draw.centered(g, Draw.tick(t, xStep), x, bottom + 8 + tf.getAscent());
    }
    for (double t : yTicks) {
      double y = map(t, yLo, yHi, bottom, top);
      g.setColor(Draw.AXIS);
      g.draw(new Line2D.Double(left - 5, y, left, y));
      g.setColor(Draw.TEXT);
      Draw.right(g, Draw.tick(t, yStep), left - 8, y + (tf.getAscent() - tf.getDescent()) / 2.0);
    }
    g.setFont(Draw.font(15f, false));
    if (!xLabel.isEmpty()) Draw.centered(g, xLabel, (left + right) / 2, HEIGHT - 22);
    if (!yLabel.isEmpty()) Draw.vertical(g, yLabel, 22, (top + bottom) / 2);
    g.setColor(Draw.AXIS);
    g.draw(new Rectangle2D.Double(left, top, pw, ph));

    // Trajectories: a white halo under each line so it reads on any colour.
    Shape clip = g.getClip();
    g.setClip(new Rectangle2D.Double(left, top, pw, ph));
    for (int k = 0; k < paths.size(); k++) {
      XyFigures.Points q = pts.get(k);
      int m = q.x().length;
      if (m == 0) continue;
      double[] sx = new double[m], sy = new double[m];
      Path2D.Double line = new Path2D.Double();
      for (int t = 0; t < m; t++) {
        sx[t] = map(q.x()[t], xLo, xHi, left, right);
        sy[t] = map(q.y()[t], yLo, yHi, bottom, top);
        if (t == 0) line.moveTo(sx[t], sy[t]);
        else line.lineTo(sx[t], sy[t]);
      }
      Style style = paths.get(k).style();
      BasicStroke stroke = Draw.stroke(style, 1.1f);
      g.setColor(new Color(255, 255, 255, 170));
      g.setStroke(new BasicStroke(stroke.getLineWidth() + 3f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      g.draw(line);
      g.setColor(colours.get(k));
      g.setStroke(stroke);
      g.draw(line);
      if (style == Style.MARKERS) {
        for (int t = 0; t < m; t++) g.fill(new Ellipse2D.Double(sx[t] - 2.5, sy[t] - 2.5, 5, 5));
      }
      Draw.startMarker(g, colours.get(k), sx[0], sy[0]);
      Draw.endMarker(g, colours.get(k), sx[m - 1], sy[m - 1]);
    }
    g.setClip(clip);

    // Colour bar.
    double bx = right + 28, bw = 18;
    for (int py = 0; py < ph; py++) {
      g.setColor(Palette.viridis(1 - (py + 0.5) / ph));
      g.fill(new Rectangle2D.Double(bx, top + py, bw, 1));
    }
    g.setColor(Draw.AXIS);
    g.setStroke(new BasicStroke(1f));
    g.draw(new Rectangle2D.Double(bx, top, bw, ph));
    if (haveZ) {
      g.setFont(Draw.font(13f, false));
      for (double[] tick : colourTicks(sLo, sHi, log)) {
        double y = map(tick[0], sLo, sHi, bottom, top);
        g.setColor(Draw.AXIS);
        g.draw(new Line2D.Double(bx + bw, y, bx + bw + 5, y));
        g.setColor(Draw.TEXT);
        g.drawString(colourLabel(tick), (float) (bx + bw + 8),
            (float) (y + (tf.getAscent() - tf.getDescent()) / 2.0));
      }
    }
    if (log) {
      g.setFont(Draw.font(12f, false));
      g.setColor(Draw.MUTED);
      Draw.centered(g, "log scale", bx + bw / 2 + 14, bottom + 8 + tf.getAscent());
    }
    g.dispose();
    Draw.footnote(img, String.join("; ", notes));
    return img;
  }

  /** Index j with a[j] <= v <= a[j + 1] (a increasing), or -1 outside. */
  private static int cell(double[] a, double v) {
    if (v < a[0] || v > a[a.length - 1]) return -1;
    int lo = 0, hi = a.length - 1;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (a[mid] <= v) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Colour bar ticks as {position on the scale, value}: powers of ten on a log scale spanning a
   * decade or more, else round values (mapped through log10 on a log scale).
   */
  private static List<double[]> colourTicks(double sLo, double sHi, boolean log) {
    List<double[]> out = new ArrayList<>();
    if (log && sHi - sLo >= 3) {
      int first = (int) Math.ceil(sLo - 1e-9), last = (int) Math.floor(sHi + 1e-9);
      int every = Math.max(1, (int) Math.ceil((last - first + 1) / 8.0));
      for (int k = first; k <= last; k += every) out.add(new double[] {k, Math.pow(10, k)});
      return out;
    }
    if (log && sHi - sLo >= 0.7) { // 1, 2 and 5 times powers of ten
      for (int k = (int) Math.floor(sLo) - 1; k <= (int) Math.ceil(sHi); k++) {
        for (double m : new double[] {1, 2, 5}) {
          double v = m * Math.pow(10, k), p = Math.log10(v);
          if (p >= sLo - 1e-9 && p <= sHi + 1e-9) out.add(new double[] {p, v, v / m});
        }
      }
      return out;
    }
    double lo = log ? Math.pow(10, sLo) : sLo, hi = log ? Math.pow(10, sHi) : sHi;
    double step = Draw.niceStep(hi - lo, 6);
    for (double v : Draw.ticks(lo, hi, step)) {
      if (log && v <= 0) continue;
      out.add(new double[] {log ? Math.log10(v) : v, v, step});
    }
    return out;
  }

  private static String colourLabel(double[] tick) {
    if (tick.length == 3) return Draw.tick(tick[1], tick[2]);
    return Draw.power((int) Math.rint(tick[0]));
  }
}
