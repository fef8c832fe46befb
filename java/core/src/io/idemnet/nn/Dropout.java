package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import java.util.Map;

/**
 * PyTorch's {@code nn.Dropout}: in training mode each forward pass zeroes elements with
 * probability p and scales the rest by 1/(1 - p); in evaluation mode it is the identity. Masks
 * come from the counter-based generator with a fresh seed per forward pass, derived from the
 * module's seed and a call counter, so a run is reproducible from its seed.
 */
public final class Dropout implements Module {
  private final float p;
  private final long seed;
  private long calls;
  private boolean training = true;

  /** Dropout with probability {@code p}; masks derive from {@code seed} and a call counter. */
  public Dropout(float p, long seed) {
    if (!(p >= 0f && p <= 1f)) throw new IllegalArgumentException("Dropout: p must lie in [0, 1], got " + p);
    this.p = p;
    this.seed = seed;
  }

  /** The probability of zeroing an element. */
  public float p() {
    return p;
  }

  /** Whether elements are dropped (training) or passed through. */
  public boolean isTraining() {
    return training;
  }

  /** The next forward pass uses counter + 1 (see {@link #nextSeed()}). */
  @Override
  public void setRandomCounter(long counter) {
    calls = counter;
  }

  @Override
  public void train(boolean mode) {
    training = mode;
  }

  /**
   * The seed the next forward pass will use when the graph's random counter is 0 (SplitMix64 of the
   * module seed and the call count; with counter C the call count is C + calls).
   */
  public long nextSeed() {
    long z = seed + (calls + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Draws the mask of seed bits(module seed, C + calls), C the graph's
   * {@linkplain Graph#setRandomCounter random counter} (0 unless a training loop sets it; then this
   * is {@link #nextSeed()}). The call count stays on the host and the per-step counter on the
   * device, so a recorded step replays with new masks.
   */
  @Override
  public Var forward(Graph graph, Var x) {
    if (!training || p == 0f) return x;
    long offset = calls;
    calls++;
    return graph.dropout(x, p, seed, offset);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    return Map.of();
  }

  @Override
  public String toString() {
    return "Dropout(p=" + p + ")";
  }
}
