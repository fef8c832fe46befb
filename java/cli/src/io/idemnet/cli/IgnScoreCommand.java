package io.idemnet.cli;

import io.idemnet.backend.Backend;
import io.idemnet.data.Dataset;
import io.idemnet.data.NpmMnist;
import io.idemnet.ign.DigitClassifier;
import io.idemnet.ign.FrequencyNoise;
import io.idemnet.ign.IgnExperiment;
import io.idemnet.ign.IgnNoise;
import io.idemnet.ign.IgnScore;
import io.idemnet.io.SafeTensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "ign-score", mixinStandardHelpOptions = true,
    description = "Score 'idemnet ign' checkpoints of a 28x28 network for \"generates digits\" with an ign-classifier model: "
        + "Frechet distance of classifier features of f(z) and f(f(z)) to held-out digits (and real vs real), class "
        + "histograms and their entropy, PSNR of f(degraded x) per Appendix F degradation. Appends one CSV row per checkpoint.")
final class IgnScoreCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--checkpoint", required = true, description = "checkpoint.safetensors written by 'idemnet ign' (repeatable)")
  List<Path> checkpoints;

  @Option(names = "--label", description = "the run's name in the CSV (default: the checkpoint's folder name)")
  String label;

  @Option(names = "--classifier", required = true, description = "the model written by 'idemnet ign-classifier'")
  Path classifier;

  @Mixin DataDirOption dataDir;

  @Option(names = "--samples", defaultValue = "" + IgnScore.DEFAULT_SAMPLES,
      description = "noise samples and real images per set (default: ${DEFAULT-VALUE}; at most half the 2,000 held-out digits)")
  int samples;

  @Option(names = "--seed", defaultValue = "7", description = "draws z and the degradation noise (default: ${DEFAULT-VALUE})")
  long seed;

  @Mixin BackendOptions backendOptions;

  @Option(names = "--out", required = true, description = "CSV to append to (created with a header)")
  Path out;

  /** Columns before the scores: what was scored. */
  static final List<String> RUN_COLUMNS = List.of("run", "epoch", "steps", "net", "width", "mode", "mb_norm", "lambdas",
      "tight_clamp", "classifier_test_acc");

  @Override
  public Integer call() throws IOException {
    CommandLine cl = spec.commandLine();
    if (samples < 2) throw new ParameterException(cl, "need --samples >= 2");
    if (!Files.isRegularFile(classifier)) throw new ParameterException(cl, "no classifier at " + classifier);
    for (Path c : checkpoints) if (!Files.isRegularFile(c)) throw new ParameterException(cl, "no checkpoint at " + c);
    List<String> columns = new ArrayList<>(RUN_COLUMNS);
    columns.addAll(IgnScore.COLUMNS);
    String header = String.join(",", columns);
    if (Files.exists(out)) {
      String first = Files.readAllLines(out, StandardCharsets.UTF_8).stream().findFirst().orElse("");
      if (!first.equals(header)) throw new ParameterException(cl, out + " has other columns than ign-score writes; use another --out");
    }
    Dataset all = NpmMnist.load(dataDir.npmMnist()).toPlusMinusOne();
    Dataset heldOut = NpmMnist.testSplit(all);
    String classifierAcc = DigitClassifier.metadata(classifier).getOrDefault("test_accuracy", "");
    try (Backend be = backendOptions.open(cl); DigitClassifier c = DigitClassifier.load(be, classifier)) {
      for (Path ckpt : checkpoints) {
        Map<String, String> meta = SafeTensors.readMetadata(ckpt);
        try (IgnExperiment.Trained t = IgnExperiment.loadNetwork(be, ckpt, null, null, null)) {
          if (t.net().imageSize() != 28 || t.channels() != 1) {
            throw new ParameterException(cl, ckpt + " is a " + t.net().cliName() + " network for " + t.channels()
                + "-channel images; ign-score scores 1x28x28 digit networks");
          }
          IgnNoise noise = "fft".equals(meta.get("noise"))
              ? new FrequencyNoise(be, FrequencyNoise.Statistics.of(NpmMnist.trainSplit(all), IgnExperiment.DEFAULT_FFT_IMAGES))
              : IgnNoise.normal(be);
          Map<String, String> scores = IgnScore.score(be, t.f(), c, heldOut, noise, samples, seed);
          String name = label != null ? label : ckpt.toAbsolutePath().getParent().getFileName().toString();
          List<String> values = new ArrayList<>(List.of(name, meta.getOrDefault("epoch", ""), meta.getOrDefault("optimizer.steps", ""),
              t.net().cliName(), Float.toString(t.width()), meta.getOrDefault("mode", ""), meta.getOrDefault("mb_norm", "elements"),
              "\"" + meta.getOrDefault("lambdas", "") + "\"", meta.getOrDefault("tight_clamp", "0.0"), classifierAcc));
          for (String col : IgnScore.COLUMNS) values.add(scores.get(col));
          if (!Files.exists(out)) {
            if (out.toAbsolutePath().getParent() != null) Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, header + "\n", StandardCharsets.UTF_8);
          }
          Files.writeString(out, String.join(",", values) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
          cl.getOut().printf("%s epoch %s: FD f(z) %s, f(f(z)) %s, real %s; entropy f(z) %s bits; hist f(z) %s; PSNR noise f %s, "
              + "blur f %s%n", name, meta.get("epoch"), scores.get("fd_fz"), scores.get("fd_ffz"), scores.get("fd_real"),
              scores.get("entropy_fz"), scores.get("hist_fz"), scores.get("psnr_noise_f"), scores.get("psnr_blur_f"));
        }
      }
    }
    return 0;
  }
}
