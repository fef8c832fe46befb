package io.idemnet.optim;

import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/** PyTorch's Adam (bias-corrected moments, L2 weight decay added to the gradient). */
public final class Adam extends Optimizer {
  private final float beta1, beta2, eps, weightDecay;
  private final Map<String, Tensor> state = new LinkedHashMap<>();

  /** Adam with PyTorch's formulas and meaning of each argument (weight decay added to the gradient). */
  public Adam(Map<String, Parameter> params, float learningRate, float beta1, float beta2, float eps, float weightDecay) {
    super(params, learningRate, 2);
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
      throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
    }
    if (!(eps > 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("need eps > 0 and weight decay >= 0");
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
    params.forEach((name, p) -> {
      state.put(name + ".exp_avg", p.backend().zeros(p.shape()));
      state.put(name + ".exp_avg_sq", p.backend().zeros(p.shape()));
    });
  }

  /** Adam with PyTorch's defaults besides the learning rate: betas (0.9, 0.999), eps 1e-8, no decay. */
  public Adam(Map<String, Parameter> params, float learningRate) {
    this(params, learningRate, 0.9f, 0.999f, 1e-8f, 0f);
  }

  /** {lr / (1 - beta1^t), 1 / sqrt(1 - beta2^t)}: they change every step, so every step writes them (8 bytes). */
  @Override
  protected void writeStepScalars() {
    if (stepScalars != null) {
      Backend.of(stepScalars).writeScalars(stepScalars, Backend.adamCoefficients(learningRate, beta1, beta2, steps));
    }
  }

  @Override
  protected void update(String name, Parameter p) {
    p.backend().adamUpdate(p.value(), p.grad(), state.get(name + ".exp_avg"), state.get(name + ".exp_avg_sq"),
        stepScalars, beta1, beta2, eps, weightDecay);
  }

  @Override
  public Map<String, Tensor> state() {
    return state;
  }
}
