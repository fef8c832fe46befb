package io.idemnet.sweep;

import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The driver's progress line: runs done out of the total (counting runs resumed from earlier
 * results), failures, elapsed time and an ETA from this session's rate. The rate is finished runs
 * per elapsed second with all executors working, so the ETA already accounts for the parallelism.
 */
final class SweepProgress {
  private final int total;
  private final int resumed;
  private final LongSupplier nanos;
  private final long start;
  private int computed;
  private int failed;

  SweepProgress(int total, int resumed, LongSupplier nanos) {
    this.total = total;
    this.resumed = resumed;
    this.nanos = nanos;
    this.start = nanos.getAsLong();
  }

  /** Records one finished task and returns the line to print. */
  synchronized String finished(boolean ok, String what) {
    if (ok) computed++;
    else failed++;
    return line() + "  [" + what + "]";
  }

  synchronized String line() {
    double elapsed = (nanos.getAsLong() - start) / 1e9;
    int finishedHere = computed + failed, remaining = total - resumed - finishedHere;
    String eta = finishedHere == 0 ? "?" : duration(elapsed / finishedHere * remaining);
    return String.format(Locale.ROOT, "sweep: %d/%d runs done%s, %d failed, elapsed %s, ETA %s", resumed + computed, total,
        resumed > 0 ? " (" + resumed + " resumed)" : "", failed, duration(elapsed), eta);
  }

  synchronized int computed() {
    return computed;
  }

  synchronized int failed() {
    return failed;
  }

  /** h:mm:ss, or m:ss under an hour. */
  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
