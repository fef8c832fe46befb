package io.idemnet.optim;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** PyTorch's SGD (momentum without dampening or Nesterov; L2 weight decay). */
public final class Sgd extends Optimizer {
  private final float momentum, weightDecay;
  private final Map<String, Tensor> velocity = new LinkedHashMap<>();
  private float writtenRate = Float.NaN;

  /** SGD with PyTorch's formulas for momentum and weight decay. */
  public Sgd(Map<String, Parameter> params, float learningRate, float momentum, float weightDecay) {
    super(params, learningRate, 1);
    if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
    if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    if (momentum != 0f) {
      params.forEach((name, p) -> velocity.put(name + ".momentum_buffer", p.backend().zeros(p.shape())));
    }
  }

  /** Plain SGD: no momentum, no weight decay. */
  public Sgd(Map<String, Parameter> params, float learningRate) {
    this(params, learningRate, 0f, 0f);
  }

  /** The learning rate, written (4 bytes) only when it differs from the last one written. */
  @Override
  protected void writeStepScalars() {
    if (stepScalars == null || Float.floatToIntBits(learningRate) == Float.floatToIntBits(writtenRate)) return;
    Backend.of(stepScalars).writeScalars(stepScalars, learningRate);
    writtenRate = learningRate;
  }

  @Override
  protected void update(String name, Parameter p) {
    p.backend().sgdUpdate(p.value(), p.grad(), velocity.get(name + ".momentum_buffer"), stepScalars, momentum,
        weightDecay);
  }

  @Override
  public Map<String, Tensor> state() {
    return velocity;
  }
}
