package io.idemnet.ign;

import io.idemnet.autograd.Graph;
import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.io.AtomicFiles;
import io.idemnet.io.Checkpoints;
import io.idemnet.io.OutputFolder;
import io.idemnet.io.SafeTensors;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.optim.NonFiniteStepException;
import io.idemnet.optim.Optimizer;
import io.idemnet.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Trains an IGN on a data set scaled to [-1, 1]: every epoch writes a training checkpoint
 * ({@code checkpoint.safetensors}, atomic; resumable) and a PNG grid of z, f(z), f(f(z)) for a
 * fixed noise batch; every step appends its losses to {@code losses.csv}; after the last epoch,
 * the interpolation and out-of-distribution figures ({@link IgnFigures}).
 */
public final class IgnExperiment {
  /**
   * @param net the network (its image size must be the data's)
   * @param noise N(0, 1) or the data's per-frequency statistics ({@link FrequencyNoise})
   * @param fftImages the statistics use the first this many training images
   * @param figures write {@link IgnFigures} after the last epoch
   * @param mbNorm the N of the MB gradients (MB mode only)
   */
  public record Config(IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas, int epochs, int batch, float lr, float beta1,
      float beta2, float width, int maxStepsPerEpoch, long seed, Path outputDir, IgnNetworks.Net net, IgnNoise.Kind noise,
      int fftImages, boolean figures, IgnTrainer.MbNormalisation mbNorm) {
    public Config {
      java.util.Objects.requireNonNull(mbNorm, "MB normalisation");
    }

    /** MB normalised by the element count. */
    public Config(IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas, int epochs, int batch, float lr, float beta1, float beta2,
        float width, int maxStepsPerEpoch, long seed, Path outputDir, IgnNetworks.Net net, IgnNoise.Kind noise, int fftImages,
        boolean figures) {
      this(mode, lambdas, epochs, batch, lr, beta1, beta2, width, maxStepsPerEpoch, seed, outputDir, net, noise, fftImages,
          figures, IgnTrainer.MbNormalisation.ELEMENTS);
    }

    /** The 28x28 network with N(0, 1) noise, figures after training. */
    public Config(IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas, int epochs, int batch, float lr, float beta1, float beta2,
        float width, int maxStepsPerEpoch, long seed, Path outputDir) {
      this(mode, lambdas, epochs, batch, lr, beta1, beta2, width, maxStepsPerEpoch, seed, outputDir, IgnNetworks.Net.MNIST,
          IgnNoise.Kind.NORMAL, DEFAULT_FFT_IMAGES, true);
    }

    /** Steps per epoch on a data set of {@code size} images (whole batches only). */
    public int stepsPerEpoch(int size) {
      int whole = size / batch;
      return maxStepsPerEpoch > 0 ? Math.min(maxStepsPerEpoch, whole) : whole;
    }
  }

  /** The columns of {@code losses.csv}: per step, the measures of {@link IgnTrainer.Losses}. */
  public static final String LOSSES_HEADER = "epoch,step,rec_l1,idem_l1,tight_l1,idem_mse,tight_mse";

  private static final int LOSSES_COLUMNS = LOSSES_HEADER.split(",").length;

  /** Images the frequency statistics use unless told otherwise. */
  public static final int DEFAULT_FFT_IMAGES = 10_000;

  /** One training step's losses, with its epoch and step within the epoch. */
  public record StepLog(int epoch, int step, IgnTrainer.Losses losses) {}

  /** Steps in a row that may be skipped for a non-finite loss or gradient before a run stops, unless told otherwise. */
  public static final int DEFAULT_MAX_CONSECUTIVE_SKIPS = 10;

  private final Backend backend;
  private final Config config;
  private int maxConsecutiveSkips = DEFAULT_MAX_CONSECUTIVE_SKIPS;

  /** An experiment that trains on {@code backend} as {@code config} says. */
  public IgnExperiment(Backend backend, Config config) {
    this.backend = backend;
    this.config = config;
  }

  /** Called after each completed epoch (its checkpoint written) with the epoch and the run's {@code losses.csv}. */
  @FunctionalInterface
  public interface EpochListener {
    /** Called once epoch {@code epoch} is complete and checkpointed. */
    void epochDone(int epoch, Path lossesCsv) throws IOException;
  }

  /**
   * A step whose losses or gradients are NaN or infinite updates nothing and is skipped; after
   * {@code n} such steps in a row the run stops with a {@link NonFiniteStepException}, keeping the
   * last checkpoint it wrote. With 0 the first such step stops it. Returns this.
   */
  public IgnExperiment maxConsecutiveSkips(int n) {
    if (n < 0) throw new IllegalArgumentException("the number of skipped steps allowed must be >= 0, got " + n);
    this.maxConsecutiveSkips = n;
    return this;
  }

  /** {@link #run(Dataset, Path, Consumer, EpochListener, BooleanSupplier)} with nothing to do after an epoch. */
  public int run(Dataset data, Path resume, Consumer<StepLog> onStep, BooleanSupplier stop) throws IOException {
    return run(data, resume, onStep, (epoch, csv) -> {}, stop);
  }

  /**
   * Trains (resuming from {@code resume} when it is not null); returns the last epoch completed.
   * {@code onEpoch} is where a caller adds its own per-epoch outputs (the CLI plots the loss curves).
   * The output folder is claimed first ({@link OutputFolder}: locked against a second run, stale
   * temporary files of killed runs removed). On resume, {@code losses.csv} is cut back to the
   * checkpoint's epoch, so that rows a killed run logged after its last checkpoint are not doubled.
   *
   * @throws NonFiniteStepException when too many steps in a row had a non-finite loss or gradient
   *     (see {@link #maxConsecutiveSkips}); the last checkpoint written stays as it was
   */
  public int run(Dataset data, Path resume, Consumer<StepLog> onStep, EpochListener onEpoch, BooleanSupplier stop)
      throws IOException {
    config.net().checkImages(data.channels(), data.height(), data.width());
    if (data.size() < config.batch()) {
      throw new IllegalArgumentException("batch " + config.batch() + " is larger than the data set (" + data.size() + " images)");
    }
    Path out = config.outputDir();
    try (OutputFolder claim = OutputFolder.claim(out)) {
      return run(data, resume, onStep, onEpoch, stop, out);
    }
  }

  private int run(Dataset data, Path resume, Consumer<StepLog> onStep, EpochListener onEpoch, BooleanSupplier stop, Path out)
      throws IOException {
    Path csv = out.resolve("losses.csv");
    Path checkpoint = out.resolve("checkpoint.safetensors");
    IgnNoise noise = config.noise() == IgnNoise.Kind.FFT
        ? new FrequencyNoise(backend, FrequencyNoise.Statistics.of(data, config.fftImages()))
        : IgnNoise.normal(backend);
    try (Sequential f = config.net().build(backend, data.channels(), config.width(), config.seed());
        Adam adam = new Adam(f.namedParameters(), config.lr(), config.beta1(), config.beta2(), 1e-8f, 0f);
        Tensor x = backend.zeros(config.batch(), data.channels(), data.height(), data.width());
        Tensor z = backend.zeros(config.batch(), data.channels(), data.height(), data.width());
        Tensor z0 = backend.zeros(8, data.channels(), data.height(), data.width())) {
      adam.nonFinitePolicy(maxConsecutiveSkips == 0 ? Optimizer.NonFinitePolicy.FAIL : Optimizer.NonFinitePolicy.SKIP);
      int startEpoch = 1;
      if (resume != null) {
        Map<String, String> meta = Checkpoints.loadTraining(resume, f, adam);
        startEpoch = Integer.parseInt(meta.getOrDefault("epoch", "0")) + 1;
      }
      if (resume != null && Files.exists(csv)) { // a resumed run appends to the folder's losses.csv
        String header = Files.readAllLines(csv, StandardCharsets.UTF_8).stream().findFirst().orElse("");
        if (!header.equals(LOSSES_HEADER)) {
          throw new IllegalArgumentException(csv + " has the columns '" + header + "', not '" + LOSSES_HEADER
              + "'; resume into another --out folder (a fresh folder starts its own losses.csv)");
        }
        cutLog(csv, startEpoch - 1);
      } else {
        Files.writeString(csv, LOSSES_HEADER + "\n", StandardCharsets.UTF_8);
      }
      noise.sample(z0, config.seed() ^ 0x1E);
      int lastDone = startEpoch - 1;
      try (IgnTrainer trainer = new IgnTrainer(backend, f, adam, config.mode(), config.lambdas(), config.mbNorm())) {
      for (int epoch = startEpoch; epoch <= config.epochs(); epoch++) {
        StringBuilder rows = new StringBuilder();
        int step = 0;
        for (Dataset.Batch b : data.batches(config.batch(), config.seed() + epoch, true)) {
          if (stop.getAsBoolean() || (config.maxStepsPerEpoch() > 0 && step >= config.maxStepsPerEpoch())) break;
          x.copyFrom(b.images());
          // Noise depends only on (seed, epoch, step): a resumed run draws what the uninterrupted one would.
          noise.sample(z, config.seed() * 1_000_003L + epoch * 100_003L + step);
          try {
            trainer.step(x, z, epoch * 1_000_000L + step);
          } catch (NonFiniteStepException e) {
            throw stopped(epoch, step, e.getMessage(), checkpoint, lastDone);
          }
          IgnTrainer.Losses l = trainer.losses(); // declared reads: the losses are logged every step
          if (!trainer.lastStepApplied() && adam.consecutiveSkips() >= maxConsecutiveSkips) {
            throw stopped(epoch, step, adam.consecutiveSkips() + " steps in a row had a non-finite loss or gradient and"
                + " were skipped", checkpoint, lastDone);
          }
          rows.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6g,%.6g%n", epoch, step, l.rec(), l.idem(), l.tight(),
              l.idemMse(), l.tightMse()));
          onStep.accept(new StepLog(epoch, step, l));
          step++;
        }
        Files.writeString(csv, rows.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        if (stop.getAsBoolean()) break;
        Checkpoints.saveTraining(checkpoint, f, adam, metadata(epoch, data));
        writeGrid(trainer.graph(), f, z0, data, out.resolve(String.format(Locale.ROOT, "samples_epoch%03d.png", epoch)));
        onEpoch.epochDone(epoch, csv);
        lastDone = epoch;
      }
      }
      if (config.figures() && lastDone == config.epochs() && !stop.getAsBoolean()) {
        IgnFigures.write(backend, f, data, noise, IgnFigures.Options.defaults(config.seed()), out);
      }
      return lastDone;
    }
  }

  /** The exception that stops a run whose steps keep failing, saying what is kept. */
  private static NonFiniteStepException stopped(int epoch, int step, String why, Path checkpoint, int lastDone) {
    String kept = lastDone >= 1 && Files.isRegularFile(checkpoint)
        ? "the last checkpoint, " + checkpoint + " (epoch " + lastDone + "), is kept; resume from it, e.g. with a lower --lr"
        : "no checkpoint was written by this run";
    return new NonFiniteStepException("stopped at epoch " + epoch + " step " + step + ": " + why + " (the training diverged,"
        + " or the data holds NaN or infinite values); " + kept);
  }

  /**
   * Rewrites {@code losses.csv} (atomically) without the rows of epochs after {@code lastEpoch} and
   * without lines a kill cut short, so that it agrees with the checkpoint a run resumes from.
   */
  static void cutLog(Path csv, int lastEpoch) throws IOException {
    String text = Files.readString(csv, StandardCharsets.UTF_8);
    List<String> lines = new java.util.ArrayList<>(List.of(text.split("\n", -1)));
    lines.remove(lines.size() - 1); // after the last newline: empty, or a line a kill cut short
    StringBuilder kept = new StringBuilder(LOSSES_HEADER).append('\n');
    for (int i = 1; i < lines.size(); i++) {
      String[] f = lines.get(i).split(",", -1);
      try {
        if (f.length == LOSSES_COLUMNS && Integer.parseInt(f[0]) <= lastEpoch) kept.append(lines.get(i)).append('\n');
      } catch (NumberFormatException e) {
        // not a row of ours: dropped
      }
    }
    AtomicFiles.writeString(csv, kept.toString());
  }

  /**
   * What a checkpoint records besides the tensors: enough to rebuild the network
   * ({@link #loadNetwork}) and to tell how it was trained.
   */
  private Map<String, String> metadata(int epoch, Dataset data) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("epoch", Integer.toString(epoch));
    m.putAll(lossMetadata(config.mode(), config.lambdas(), config.mbNorm()));
    m.put("net", config.net().cliName());
    m.put("width", Float.toString(config.width()));
    m.put("channels", Integer.toString(data.channels()));
    m.put("image_size", Integer.toString(data.height()));
    m.put("noise", config.noise().name().toLowerCase(Locale.ROOT));
    m.put("seed", Long.toString(config.seed()));
    return m;
  }

  /** The checkpoint metadata that records the loss: mode, lambdas, tightness clamp and MB normalisation. */
  public static Map<String, String> lossMetadata(IgnTrainer.Mode mode, IgnTrainer.Lambdas lambdas,
      IgnTrainer.MbNormalisation mbNorm) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("mode", mode.name());
    m.put("lambdas", lambdas.rec() + "," + lambdas.idem() + "," + lambdas.tight());
    m.put("tight_clamp", Float.toString(lambdas.tightClamp()));
    m.put("mb_norm", mbNorm.cliName());
    return m;
  }

  /**
   * The loss recorded in checkpoint metadata, in words (checkpoints written before the clamp or
   * the MB normalisation were recorded have a clamp of 0 and N = the element count).
   */
  public static String describeLoss(Map<String, String> meta) {
    return meta.get("mode") + ", lambdas " + meta.get("lambdas") + ", tightness clamp " + meta.getOrDefault("tight_clamp", "0.0")
        + ", MB normalisation " + meta.getOrDefault("mb_norm", "elements");
  }

  /**
   * Builds the network a training checkpoint of this class was written for (its {@code net},
   * {@code width} and {@code channels} metadata; a non-null argument overrides the file's, for
   * checkpoints written before these were recorded) and loads its parameters and BatchNorm
   * statistics. The caller closes the result (which closes the network).
   *
   * @throws java.nio.file.NoSuchFileException naming the file when it does not exist
   * @throws IllegalArgumentException when the metadata is missing or unreadable and not overridden
   */
  public static Trained loadNetwork(Backend backend, Path checkpoint, IgnNetworks.Net net, Float width, Integer channels)
      throws IOException {
    if (!Files.isRegularFile(checkpoint)) throw new java.nio.file.NoSuchFileException(checkpoint.toString(), null, "no checkpoint file");
    Map<String, String> meta = SafeTensors.readMetadata(checkpoint);
    IgnNetworks.Net n = net != null ? net : IgnNetworks.Net.parse(required(meta, "net", checkpoint, "--net"));
    float w;
    int c;
    try {
      w = width != null ? width : Float.parseFloat(required(meta, "width", checkpoint, "--width"));
      c = channels != null ? channels : Integer.parseInt(required(meta, "channels", checkpoint, "--channels"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("checkpoint " + checkpoint + ": unreadable width/channels metadata: " + e.getMessage());
    }
    if (!(w > 0) || c < 1) throw new IllegalArgumentException("checkpoint " + checkpoint + ": need width > 0 and channels >= 1");
    Sequential f = n.build(backend, c, w, 0);
    try (Adam adam = new Adam(f.namedParameters(), 1e-4f)) {
      Checkpoints.loadTraining(checkpoint, f, adam);
    } catch (IOException | RuntimeException e) {
      f.close();
      throw e;
    }
    return new Trained(f, n, c, w);
  }

  /** A network loaded from a checkpoint, with what it was built from. */
  public record Trained(Sequential f, IgnNetworks.Net net, int channels, float width) implements AutoCloseable {
    @Override
    public void close() {
      f.close();
    }
  }

  private static String required(Map<String, String> meta, String key, Path file, String option) {
    String v = meta.get(key);
    if (v == null) throw new IllegalArgumentException("checkpoint " + file + " does not record '" + key + "'; give it with " + option);
    return v;
  }

  /** z, f(z), f(f(z)) in evaluation mode (running BatchNorm statistics, no dropout). */
  static void writeGrid(Graph graph, Sequential f, Tensor z0, Dataset data, Path png) throws IOException {
    f.eval();
    try (Graph.Scope s = graph.noGrad()) {
      graph.reset();
      var fz = f.forward(graph, graph.constant(z0));
      var ffz = f.forward(graph, fz);
      ImageGrid.write(png, new float[][] {z0.toArray(), fz.value().toArray(), ffz.value().toArray()}, z0.dim(0),
          data.channels(), data.height(), data.width(), IgnFigures.scale(data.height()));
    } finally {
      f.train(true);
    }
  }
}
