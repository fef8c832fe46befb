package io.idemnet.nn;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.autograd.Var;
import io.idemnet.backend.Backend;
import io.idemnet.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code nn.BatchNorm2d} over [N, C, H, W]: parameters {@code weight} (gamma, ones) and
 * {@code bias} (beta, zeros) when affine; buffers {@code running_mean} (zeros) and
 * {@code running_var} (ones). In training mode (the default) each forward pass normalizes with
 * the batch statistics and updates the running ones with {@code momentum} (unbiased variance);
 * in evaluation mode the running statistics are used. PyTorch's {@code num_batches_tracked}
 * buffer is not kept (it only matters for momentum = None).
 */
public final class BatchNorm2d implements Module {
  private final int features;
  private final float eps, momentum;
  private final Parameter weight, bias;
  private final Tensor runningMean, runningVar;
  private boolean training = true;

  /** PyTorch's defaults: eps 1e-5, momentum 0.1, affine. */
  public BatchNorm2d(Backend backend, int numFeatures) {
    this(backend, numFeatures, 1e-5f, 0.1f, true);
  }

  /** Batch normalisation over {@code numFeatures} channels with PyTorch's meaning of {@code eps}, {@code momentum} and {@code affine} (learned weight and bias). */
  public BatchNorm2d(Backend backend, int numFeatures, float eps, float momentum, boolean affine) {
    if (numFeatures <= 0) throw new IllegalArgumentException("BatchNorm2d: numFeatures must be positive, got " + numFeatures);
    if (!(eps > 0) || !(momentum >= 0 && momentum <= 1)) {
      throw new IllegalArgumentException("BatchNorm2d: need eps > 0 and 0 <= momentum <= 1, got " + eps + ", " + momentum);
    }
    this.features = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? new Parameter(backend.full(1f, numFeatures)) : null;
    this.bias = affine ? new Parameter(backend.zeros(numFeatures)) : null;
    this.runningMean = backend.zeros(numFeatures);
    this.runningVar = backend.full(1f, numFeatures);
  }

  /** The number of channels. */
  public int numFeatures() {
    return features;
  }

  /** Whether batch statistics are used (training) rather than the running ones. */
  public boolean isTraining() {
    return training;
  }

  @Override
  public void train(boolean mode) {
    training = mode;
  }

  /** gamma, or null without affine transform. */
  public Parameter weight() {
    return weight;
  }

  /** beta, or null without affine transform. */
  public Parameter bias() {
    return bias;
  }

  /** The running mean per channel. */
  public Tensor runningMean() {
    return runningMean;
  }

  /** The running (unbiased) variance per channel. */
  public Tensor runningVar() {
    return runningVar;
  }

  @Override
  public Var forward(Graph graph, Var x) {
    return graph.batchNorm2d(x, weight == null ? null : graph.param(weight), bias == null ? null : graph.param(bias),
        runningMean, runningVar, training, momentum, eps);
  }

  @Override
  public Map<String, Parameter> namedParameters() {
    Map<String, Parameter> m = new LinkedHashMap<>();
    if (weight != null) {
      m.put("weight", weight);
      m.put("bias", bias);
    }
    return m;
  }

  @Override
  public Map<String, Tensor> namedBuffers() {
    Map<String, Tensor> m = new LinkedHashMap<>();
    m.put("running_mean", runningMean);
    m.put("running_var", runningVar);
    return m;
  }

  @Override
  public void close() {
    namedParameters().values().forEach(Parameter::close);
    runningMean.close();
    runningVar.close();
  }

  @Override
  public String toString() {
    return "BatchNorm2d(" + features + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (weight != null) + ")";
  }
}
