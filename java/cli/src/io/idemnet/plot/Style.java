package io.idemnet.plot;

/**
 * How a series is drawn: {@link #SOLID} a solid line, {@link #DASHED} a dashed line (neither has
 * markers, except that a series with a single point gets one so that it shows), {@link #MARKERS} a
 * thin solid line with a circle at every point.
 */
public enum Style {
  SOLID, DASHED, MARKERS
}
