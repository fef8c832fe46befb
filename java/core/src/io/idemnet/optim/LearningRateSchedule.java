package io.idemnet.optim;

/** The learning rate as a function of the step (or epoch) count, applied with {@link #apply}. */
@FunctionalInterface
public interface LearningRateSchedule {
  /** The learning rate at {@code step}. */
  float at(long step);

  /** Sets the optimizer's learning rate to {@link #at}{@code (step)}. */
  default void apply(Optimizer optimizer, long step) {
    optimizer.setLearningRate(at(step));
  }

  /** PyTorch's StepLR: base * gamma^(step / every). */
  static LearningRateSchedule step(float base, long every, float gamma) {
    if (every <= 0) throw new IllegalArgumentException("step schedule needs every > 0");
    return s -> (float) (base * Math.pow(gamma, Math.floorDiv(s, every)));
  }

  /** PyTorch's CosineAnnealingLR: min + (base - min)(1 + cos(pi t / total)) / 2, held at min after total. */
  static LearningRateSchedule cosine(float base, float min, long total) {
    if (total <= 0) throw new IllegalArgumentException("cosine schedule needs total > 0");
    return s -> {
      double t = Math.min(s, total);
      return (float) (min + (base - min) * (1 + Math.cos(Math.PI * t / total)) / 2);
    };
  }
}
