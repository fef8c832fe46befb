package io.idemnet.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.image.BufferedImage;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Java2D helpers shared by the figures: fonts, strokes, text, tick positions and number labels. */
final class Draw {
  private Draw() {}

  static final Color TEXT = new Color(0x222222);
  static final Color MUTED = new Color(0x666666);
  static final Color GRID = new Color(0xe3e3e3);
  static final Color AXIS = new Color(0x555555);

  static Font font(float size, boolean bold) {
    return new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, 1).deriveFont(size);
  }

  /** A white RGB image with a Graphics2D that antialiases shapes and text. */
  static BufferedImage image(int width, int height) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.dispose();
    return img;
  }

  static Graphics2D graphics(BufferedImage img) {
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    return g;
  }

  /** The line of a series in the given style. */
  static BasicStroke stroke(Style style, float scale) {
    return switch (style) {
      case SOLID -> new BasicStroke(2.2f * scale, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
      case DASHED -> new BasicStroke(2.2f * scale, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
          new float[] {9f * scale, 5f * scale}, 0f);
      case MARKERS -> new BasicStroke(1.4f * scale, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    };
  }

  static void centered(Graphics2D g, String s, double cx, double baseline) {
    g.drawString(s, (float) (cx - g.getFontMetrics().stringWidth(s) / 2.0), (float) baseline);
  }

  static void right(Graphics2D g, String s, double rightX, double baseline) {
    g.drawString(s, (float) (rightX - g.getFontMetrics().stringWidth(s)), (float) baseline);
  }

  /** Text rotated by -90 degrees (reading upwards), centred on (cx, cy). */
  static void vertical(Graphics2D g, String s, double cx, double cy) {
    AffineTransform saved = g.getTransform();
    g.translate(cx, cy);
    g.rotate(-Math.PI / 2);
    FontMetrics fm = g.getFontMetrics();
    g.drawString(s, -fm.stringWidth(s) / 2f, (fm.getAscent() - fm.getDescent()) / 2f);
    g.setTransform(saved);
  }

  /** A legend sample: a short line in the series' style (with a marker for MARKERS). */
  static void sample(Graphics2D g, Entry e, double x, double cy, double len) {
    Stroke saved = g.getStroke();
    g.setColor(e.color());
    switch (e.symbol()) {
      case LINE -> {
        g.setStroke(stroke(e.style(), 1f));
        g.draw(new Line2D.Double(x, cy, x + len, cy));
        if (e.style() == Style.MARKERS) g.fill(new Ellipse2D.Double(x + len / 2 - 3.5, cy - 3.5, 7, 7));
      }
      case BAND -> g.fill(new java.awt.geom.Rectangle2D.Double(x, cy - 6, len, 12));
      case START -> startMarker(g, e.color(), x + len / 2, cy);
      case END -> endMarker(g, e.color(), x + len / 2, cy);
    }
    g.setStroke(saved);
  }

  /** The start of a trajectory: an open circle. */
  static void startMarker(Graphics2D g, Color c, double cx, double cy) {
    Ellipse2D dot = new Ellipse2D.Double(cx - 6, cy - 6, 12, 12);
    g.setColor(Color.WHITE);
    g.fill(dot);
    g.setColor(c);
    g.setStroke(new BasicStroke(2.2f));
    g.draw(dot);
  }

  /** The end of a trajectory: a cross with a white halo. */
  static void endMarker(Graphics2D g, Color c, double cx, double cy) {
    double r = 6;
    for (int pass = 0; pass < 2; pass++) {
      g.setColor(pass == 0 ? new Color(255, 255, 255, 210) : c);
      g.setStroke(new BasicStroke(pass == 0 ? 5.5f : 2.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
      g.draw(new Line2D.Double(cx - r, cy - r, cx + r, cy + r));
      g.draw(new Line2D.Double(cx - r, cy + r, cx + r, cy - r));
    }
  }

  /** What a legend entry shows: a line sample, a filled swatch (a shaded band), a trajectory's start or end. */
  enum Symbol {
    LINE, BAND, START, END
  }

  /** One legend entry: a label and what to draw before it. */
  record Entry(String label, Color color, Style style, Symbol symbol) {
    Entry(String label, Color color, Style style) {
      this(label, color, style, Symbol.LINE);
    }
  }

  /**
   * Legend entries in rows centred on [left, left + width], starting at baseline-centre y;
   * returns the height used.
   */
  static int legendRows(Graphics2D g, List<Entry> entries, double left, double width, double y) {
    FontMetrics fm = g.getFontMetrics();
    int gap = 22, sampleLen = 30, rowH = fm.getHeight() + 8;
    List<List<Entry>> rows = new ArrayList<>();
    List<Integer> widths = new ArrayList<>();
    List<Entry> row = new ArrayList<>();
    int w = 0;
    for (Entry e : entries) {
      int ew = sampleLen + 6 + fm.stringWidth(e.label());
      if (!row.isEmpty() && w + gap + ew > width) {
        rows.add(row);
        widths.add(w);
        row = new ArrayList<>();
        w = 0;
      }
      w += (row.isEmpty() ? 0 : gap) + ew;
      row.add(e);
    }
    if (!row.isEmpty()) {
      rows.add(row);
      widths.add(w);
    }
    for (int r = 0; r < rows.size(); r++) {
      double x = left + (width - widths.get(r)) / 2.0, cy = y + r * rowH;
      for (Entry e : rows.get(r)) {
        sample(g, e, x, cy, sampleLen);
        g.setColor(TEXT);
        g.drawString(e.label(), (float) (x + sampleLen + 6), (float) (cy + (fm.getAscent() - fm.getDescent()) / 2.0));
        x += sampleLen + 6 + fm.stringWidth(e.label()) + gap;
      }
    }
    return rows.size() * rowH;
  }

  /** The height {@link #legendRows} will use. */
  static int legendHeight(Graphics2D g, List<Entry> entries, double width) {
    FontMetrics fm = g.getFontMetrics();
    int gap = 22, sampleLen = 30, rows = entries.isEmpty() ? 0 : 1, w = 0;
    for (Entry e : entries) {
      int ew = sampleLen + 6 + fm.stringWidth(e.label());
      if (w > 0 && w + gap + ew > width) {
        rows++;
        w = 0;
      }
      w += (w == 0 ? 0 : gap) + ew;
    }
    return rows * (fm.getHeight() + 8);
  }

  /** A small grey note at the bottom right corner of the image. */
  static void footnote(BufferedImage img, String note) {
    if (note == null || note.isEmpty()) return;
    Graphics2D g = graphics(img);
    g.setFont(font(11f, false));
    g.setColor(MUTED);
    right(g, note, img.getWidth() - 6, img.getHeight() - 4);
    g.dispose();
  }

  // ---- ticks and numbers --------------------------------------------------------------------

  /** A step of 1, 2, 2.5 or 5 times a power of ten giving about {@code target} intervals. */
  static double niceStep(double span, int target) {
    if (!(span > 0) || !Double.isFinite(span)) return 1;
    double raw = span / Math.max(1, target);
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double m = raw / p;
    double nice = m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10;
    return nice * p;
  }

  /** Multiples of the step within [lo, hi]. */
  static double[] ticks(double lo, double hi, double step) {
    List<Double> t = new ArrayList<>();
    double first = Math.ceil(lo / step - 1e-9);
    for (long k = (long) first; k * step <= hi + step * 1e-9 && t.size() < 200; k++) {
      double v = k * step;
      t.add(Math.abs(v) < step * 1e-9 ? 0.0 : v);
    }
    return t.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** A tick label: as many decimals as the step needs; scientific for very large or small. */
  static String tick(double v, double step) {
    if (v == 0) return "0";
    double a = Math.abs(v);
    if (a >= 1e5 || step < 1e-3) {
      int d = (int) Math.max(0, Math.floor(Math.log10(a)) - Math.floor(Math.log10(step) + 1e-9));
      return sci(v, Math.min(d, 6));
    }
    int decimals = 0;
    while (decimals < 10) {
      double s = step * Math.pow(10, decimals);
      if (Math.abs(s - Math.rint(s)) < 1e-6 * Math.max(1, s)) break;
      decimals++;
    }
    String s = String.format(Locale.ROOT, "%." + decimals + "f", v);
    return s.startsWith("-") && Double.parseDouble(s) == 0 ? s.substring(1) : s;
  }

  /** A value with 3 significant digits, e.g. 0.0123, 45.6, 1.23e-5. */
  static String number(double v) {
    if (Double.isNaN(v)) return "NaN";
    if (Double.isInfinite(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";
    double a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return sci(v, 2);
    return new BigDecimal(v).round(new MathContext(3)).stripTrailingZeros().toPlainString();
  }

  /** Scientific notation with a short exponent: 1.5e-4, 2e6. */
  static String sci(double v, int mantissaDecimals) {
    String s = String.format(Locale.ROOT, "%." + mantissaDecimals + "e", v);
    int e = s.indexOf('e');
    String mant = s.substring(0, e), exp = s.substring(e + 1);
    if (mant.contains(".")) mant = mant.replaceAll("0+$", "").replaceAll("\\.$", "");
    int ex = Integer.parseInt(exp.startsWith("+") ? exp.substring(1) : exp);
    return mant + "e" + ex;
  }

  /** A power of ten as a label: 0.01, 0.1, 1, 10, 100, else 1e-3 or 1e4. */
  static String power(int k) {
    if (k >= -2 && k <= 3) return number(Math.pow(10, k));
    return "1e" + k;
  }
}
