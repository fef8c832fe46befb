package io.idemnet.io;

import io.idemnet.autograd.Parameter;
import io.idemnet.nn.Module;
import io.idemnet.optim.Optimizer;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Modules and optimizer state in safetensors files. A model file holds exactly the module's
 * parameters and buffers (BatchNorm's {@code running_mean} / {@code running_var}) under PyTorch's
 * {@code state_dict} names (PyTorch's int64 {@code num_batches_tracked} is not written: load such
 * a file into a BatchNorm model with {@code strict=False}), so {@code safetensors.torch.load_file} +
 * {@code load_state_dict} reads it into the same {@code nn.Sequential}, and the reverse. A
 * training checkpoint adds the optimizer's state under {@code optimizer.<name>} and the step count
 * and learning rate in the metadata. Writes are atomic; a load validates the whole file against
 * the module first and leaves everything untouched when anything is wrong.
 */
public final class Checkpoints {
  private static final String OPTIMIZER_PREFIX = "optimizer.";

  private Checkpoints() {}

  /** Writes the module's parameters and buffers under PyTorch's names (atomically). */
  public static void saveModel(Path file, Module module) throws IOException {
    SafeTensors.write(file, parameterValues(module), Map.of("format", "pt", "producer", "idemnet"));
  }

  /** Loads every parameter; the file must hold exactly the module's names and shapes. */
  public static void loadModel(Path file, Module module) throws IOException {
    SafeTensors.loadInto(file, parameterValues(module), true);
  }

  /** Writes the module, the optimizer's state, step count and learning rate, and {@code metadata} (atomically), so that training can resume from the file. */
  public static void saveTraining(Path file, Module module, Optimizer optimizer, Map<String, String> metadata)
      throws IOException {
    Map<String, Tensor> all = parameterValues(module);
    optimizer.state().forEach((name, t) -> all.put(OPTIMIZER_PREFIX + name, t));
    Map<String, String> meta = new LinkedHashMap<>(metadata);
    meta.put("producer", "idemnet");
    meta.put("optimizer.steps", Long.toString(optimizer.steps()));
    meta.put("optimizer.lr", Float.toString(optimizer.learningRate()));
    SafeTensors.write(file, all, meta);
  }

  /** Restores module, optimizer state, step count and learning rate; returns the file's metadata. */
  public static Map<String, String> loadTraining(Path file, Module module, Optimizer optimizer) throws IOException {
    Map<String, String> meta = SafeTensors.readMetadata(file);
    long steps;
    float lr;
    try {
      steps = Long.parseLong(meta.getOrDefault("optimizer.steps", ""));
      lr = Float.parseFloat(meta.getOrDefault("optimizer.lr", ""));
    } catch (NumberFormatException e) {
      throw new CheckpointException(file, "not a training checkpoint: metadata lacks optimizer.steps / optimizer.lr");
    }
    Map<String, Tensor> all = parameterValues(module);
    optimizer.state().forEach((name, t) -> all.put(OPTIMIZER_PREFIX + name, t));
    SafeTensors.loadInto(file, all, true);
    optimizer.setSteps(steps);
    optimizer.setLearningRate(lr);
    return meta;
  }

  /** Parameters and buffers (BatchNorm's running statistics) under their PyTorch names. */
  private static Map<String, Tensor> parameterValues(Module module) {
    Map<String, Tensor> m = new LinkedHashMap<>();
    for (Map.Entry<String, Parameter> e : module.namedParameters().entrySet()) m.put(e.getKey(), e.getValue().value());
    m.putAll(module.namedBuffers());
    return m;
  }
}
