package io.idemnet.cli;

import java.io.PrintWriter;
import java.util.Locale;

/**
 * A one-line progress bar with ETA on a terminal ({@code \r} updates at most 5 times a second);
 * without a terminal (a log file), a plain line every 10% of the run and at least once a minute.
 */
final class ProgressBar {
  private final PrintWriter out;
  private final long total;
  private final boolean terminal;
  private static final long LOG_INTERVAL_NANOS = 60_000_000_000L;
  private final long start = System.nanoTime();
  private long lastDraw;
  private int lastDecile = -1;

  ProgressBar(PrintWriter out, long total) {
    this.out = out;
    this.total = Math.max(1, total);
    this.terminal = System.console() != null;
  }

  void update(long done, String label) {
    long now = System.nanoTime();
    double frac = Math.min(1.0, (double) done / total);
    double elapsed = (now - start) / 1e9;
    String eta = done == 0 ? "?" : clock(elapsed / frac - elapsed);
    if (terminal) {
      if (now - lastDraw < 200_000_000L && done < total) return;
      lastDraw = now;
      int width = 30, filled = (int) Math.round(frac * width);
      out.printf(Locale.ROOT, "\r[%s%s] %3d%%  %s  elapsed %s  ETA %s   ", "#".repeat(filled), "-".repeat(width - filled),
          (int) (frac * 100), label, clock(elapsed), eta);
      if (done >= total) out.println();
    } else {
      int decile = (int) (frac * 10);
      if (decile != lastDecile || now - lastDraw >= LOG_INTERVAL_NANOS) {
        lastDecile = decile;
        lastDraw = now;
        out.printf(Locale.ROOT, "%3d%%  %s  elapsed %s  ETA %s%n", (int) (frac * 100), label, clock(elapsed), eta);
      }
    }
    out.flush();
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
