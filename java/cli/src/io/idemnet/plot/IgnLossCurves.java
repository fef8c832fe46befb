package io.idemnet.plot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The loss curves of an IGN run: reads {@code losses.csv} (epoch,step,rec_l1,idem_l1,tight_l1,
 * optionally followed by idem_mse,tight_mse) and plots the L1 columns the three terms over the training steps (log y), each as the running mean over the
 * last {@code window} steps so that the trend is visible through the per-batch noise.
 */
public final class IgnLossCurves {
  private IgnLossCurves() {}

  public static void write(Path csv, Path png, int window) throws IOException {
    if (window < 1) throw new IllegalArgumentException("window must be >= 1");
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    List<double[]> rows = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String line = lines.get(i).trim();
      if (line.isEmpty()) continue;
      String[] f = line.split(",");
      if (f.length != 5 && f.length != 7) throw new IOException(csv + " line " + (i + 1) + ": expected 5 or 7 fields, got " + f.length);
      try {
        rows.add(new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4])});
      } catch (NumberFormatException e) {
        throw new IOException(csv + " line " + (i + 1) + ": not a number: " + e.getMessage(), e);
      }
    }
    if (rows.isEmpty()) throw new IOException(csv + " has no loss rows");
    String[] names = {"rec |f(x) - x|", "idem |f(f(z)) - f(z)|", "tight |f(f'(z)) - f'(z)|"};
    List<Series> series = new ArrayList<>();
    for (int term = 0; term < 3; term++) {
      double[] x = new double[rows.size()], y = new double[rows.size()];
      // Running mean over the finite values in the window: a skipped step's NaN leaves a gap of one
      // value, not a NaN that would run on through every later mean.
      double sum = 0;
      int finite = 0;
      for (int k = 0; k < rows.size(); k++) {
        double in = rows.get(k)[term];
        if (Double.isFinite(in)) {
          sum += in;
          finite++;
        }
        if (k >= window) {
          double out = rows.get(k - window)[term];
          if (Double.isFinite(out)) {
            sum -= out;
            finite--;
          }
        }
        x[k] = k + 1;
        y[k] = finite == 0 ? Double.NaN : sum / finite;
      }
      series.add(new Series(names[term], x, y, Style.SOLID));
    }
    Plots.lines(png, "IGN losses (mean L1, running mean over " + window + " steps)", "training step", "mean L1",
        false, true, series);
  }
}
