package io.idemnet.plot;

import java.util.List;

/**
 * One small line chart of {@link Plots#grid}: e.g. MB against OB at one learning rate. The x axis
 * is linear; the y axis is logarithmic when {@code logY}. Null titles and labels mean none.
 * {@code bands} are drawn as shaded bands only (yLow to yHigh, under the lines), each in the
 * colour of the series of the same name; their lines are the {@code series}.
 */
public record Panel(String title, String xLabel, String yLabel, boolean logY, List<Series> series,
    List<ErrorSeries> bands) {
  public Panel {
    if (series == null) throw new IllegalArgumentException("panel '" + title + "': series must not be null");
    for (Series s : series) {
      if (s == null) throw new IllegalArgumentException("panel '" + title + "': a series is null");
    }
    if (bands == null) throw new IllegalArgumentException("panel '" + title + "': bands must not be null (use List.of())");
    for (ErrorSeries b : bands) {
      if (b == null) throw new IllegalArgumentException("panel '" + title + "': a band is null");
    }
    series = List.copyOf(series);
    bands = List.copyOf(bands);
    title = title == null ? "" : title;
    xLabel = xLabel == null ? "" : xLabel;
    yLabel = yLabel == null ? "" : yLabel;
  }

  /** A panel of lines without bands. */
  public Panel(String title, String xLabel, String yLabel, boolean logY, List<Series> series) {
    this(title, xLabel, yLabel, logY, series, List.of());
  }
}
