package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.io.Checkpoints;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Trains an IGN on a data set scaled to [-1, 1]: every epoch writes a training checkpoint
 * ({@code checkpoint.safetensors}, atomic; resumable) and a PNG grid of z, f(z), f(f(z)) for a
 * fixed noise batch; every step appends its losses to {@code losses.csv}.
 */
public final class IgnExperiment {
  public record Config(IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas, int epochs, int batch, float lr, float beta1,
      float beta2, float width, int maxStepsPerEpoch, long seed, Path outputDir) {}

  public record StepLog(int epoch, int step, IgnTrainer.Losses losses) {}

  private final Backend backend;
  private final Config config;

  public IgnExperiment(Backend backend, Config config) {
    this.backend = backend;
    this.config = config;
  }

  /** Trains (resuming from {@code resume} when it is not null); returns the last epoch completed. */
  public int run(Dataset data, Path resume, Consumer<StepLog> onStep, BooleanSupplier stop) throws IOException {
    Path out = config.outputDir();
    Files.createDirectories(out);
    Path csv = out.resolve("losses.csv");
    try (Sequential f = IgnNetworks.mnist(backend, data.channels(), config.width(), config.seed());
        Adam adam = new Adam(f.namedParameters(), config.lr(), config.beta1(), config.beta2(), 1e-8f, 0f);
        Tensor x = backend.zeros(config.batch(), data.channels(), data.height(), data.width());
        Tensor z = backend.zeros(config.batch(), data.channels(), data.height(), data.width());
        Tensor z0 = backend.zeros(8, data.channels(), data.height(), data.width())) {
      int startEpoch = 1;
      if (resume != null) {
        Map<String, String> meta = Checkpoints.loadTraining(resume, f, adam);
        startEpoch = Integer.parseInt(meta.getOrDefault("epoch", "0")) + 1;
      } else {
        Files.writeString(csv, "epoch,step,rec_l1,idem_l1,tight_l1\n", StandardCharsets.UTF_8);
      }
      backend.randomNormal(z0, config.seed() ^ 0x1E, 0f, 1f);
      IgnTrainer trainer = new IgnTrainer(backend, f, adam, config.mode(), config.lambdas());
      int lastDone = startEpoch - 1;
      for (int epoch = startEpoch; epoch <= config.epochs(); epoch++) {
        StringBuilder rows = new StringBuilder();
        int step = 0;
        for (Dataset.Batch b : data.batches(config.batch(), config.seed() + epoch, true)) {
          if (stop.getAsBoolean() || (config.maxStepsPerEpoch() > 0 && step >= config.maxStepsPerEpoch())) break;
          x.copyFrom(b.images());
          // Noise depends only on (seed, epoch, step): a resumed run draws what the uninterrupted one would.
          backend.randomNormal(z, config.seed() * 1_000_003L + epoch * 100_003L + step, 0f, 1f);
          IgnTrainer.Losses l = trainer.step(x, z, epoch * 1_000_000L + step);
          rows.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f%n", epoch, step, l.rec(), l.idem(), l.tight()));
          onStep.accept(new StepLog(epoch, step, l));
          step++;
        }
        Files.writeString(csv, rows.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        if (stop.getAsBoolean()) break;
        Checkpoints.saveTraining(out.resolve("checkpoint.safetensors"), f, adam,
            Map.of("epoch", Integer.toString(epoch), "mode", config.mode().name()));
        writeGrid(trainer.graph(), f, z0, data, out.resolve(String.format(Locale.ROOT, "samples_epoch%03d.png", epoch)));
        lastDone = epoch;
      }
      return lastDone;
    }
  }

  /** z, f(z), f(f(z)) in evaluation mode (running BatchNorm statistics, no dropout). */
  static void writeGrid(Graph graph, Sequential f, Tensor z0, Dataset data, Path png) throws IOException {
    f.eval();
    try (Graph.Scope s = graph.noGrad()) {
      graph.reset();
      var fz = f.forward(graph, graph.constant(z0));
      var ffz = f.forward(graph, fz);
      ImageGrid.write(png, new float[][] {z0.toArray(), fz.value().toArray(), ffz.value().toArray()}, z0.dim(0),
          data.height(), data.width(), 3);
    } finally {
      f.train(true);
    }
  }
}
