package io.idemnet.sweep;

import io.idemnet.experiments.CompareResult.RunResult;
import java.util.Map;

/**
 * A finished task: the MB and the OB run of one pair, and, for run 0 of a comparison with the PCA
 * figure, the parameter-path files {@code compare} keeps under its folder's {@code paths/} (by
 * file name, as opaque bytes: the driver writes them there for the trajectory).
 */
public record SweepPair(RunResult mb, RunResult ob, Map<String, byte[]> paths) {
  public SweepPair {
    paths = Map.copyOf(paths);
  }
}
