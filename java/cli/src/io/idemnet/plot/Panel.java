package io.idemnet.plot;

import java.util.List;

/**
 * One small line chart of {@link Plots#grid}: e.g. MB against OB at one learning rate. The x axis
 * is linear; the y axis is logarithmic when {@code logY}. Null titles and labels mean none.
 */
public record Panel(String title, String xLabel, String yLabel, boolean logY, List<Series> series) {
  public Panel {
    if (series == null) throw new IllegalArgumentException("panel '" + title + "': series must not be null");
    for (Series s : series) {
      if (s == null) throw new IllegalArgumentException("panel '" + title + "': a series is null");
    }
    series = List.copyOf(series);
    title = title == null ? "" : title;
    xLabel = xLabel == null ? "" : xLabel;
    yLabel = yLabel == null ? "" : yLabel;
  }
}
