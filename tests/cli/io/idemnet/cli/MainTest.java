package io.idemnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
  private record Outcome(int code, String out, String err) {}

  private static Outcome run(String... args) {
    PrintStream oldOut = System.out, oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @Test
  void argumentErrorsGiveUsageNotStackTraces() {
    for (String[] args : List.of(new String[] {"compare", "--runs", "many"}, new String[] {"compare", "--net", "B9"},
        new String[] {"compare", "--dims", "4,5"}, new String[] {"compare", "--data", "poisson"},
        new String[] {"compare", "--lr", "-1"}, new String[] {"compare", "--epochs", "5,10"},
        new String[] {"compare", "--net", "B1", "--dims", "4,4"}, new String[] {"compare", "--seed", "1,2"}, new String[] {"frobnicate"}, new String[] {"project", "--order", "12"},
        new String[] {"fpn", "--variant", "magic"}, new String[] {"fpn", "--latent", "0"}, new String[] {"fpn", "--model", "rnn"},
        new String[] {"fpn", "--channels", "0"}, new String[] {"fpn", "--lr-schedule", "sawtooth"},
        new String[] {"fpn", "--variant", "implicit", "--max-products", "1"}, new String[] {"fpn", "--anderson", "0"}, new String[] {"fpn", "--anderson", "17"},
        new String[] {"fpn", "--variant", "jfb", "--cg-max-iter", "500"}, new String[] {"project", "--alphas", "1", "--q", "1"},
        new String[] {"project", "--coefficients", "0,0,3,-1"})) {
      Outcome o = run(args);
      assertEquals(2, o.code(), String.join(" ", args) + " -> " + o.err());
      assertFalse(o.err().contains("\tat "), "no stack trace for " + String.join(" ", args) + ":\n" + o.err());
      assertTrue(o.err().contains("Usage") || o.err().contains("idemnet"), o.err());
    }
  }

  /**
   * After a bad option the error is the last thing printed (followed only by a one-line pointer to
   * --help), not buried above the whole usage.
   */
  @Test
  void aBadOptionEndsWithTheErrorAndAHintNotTheUsage() {
    for (String[] args : List.of(new String[] {"compare", "--runs", "many"}, new String[] {"ign", "--epochs"},
        new String[] {"fpn", "--bogus"}, new String[] {"ign", "--net", "vgg"}, new String[] {"frobnicate"})) {
      Outcome o = run(args);
      String what = String.join(" ", args) + " -> " + o.err();
      assertEquals(2, o.code(), what);
      List<String> lines = o.err().lines().filter(l -> !l.isBlank()).toList();
      assertFalse(o.err().contains("Usage:"), what);
      assertTrue(lines.size() <= 4, "a few lines, not the usage: " + what);
      assertTrue(lines.get(lines.size() - 1).contains("--help"), "the last line points to --help: " + what);
      assertTrue(lines.get(lines.size() - 2).startsWith("idemnet"), "the error comes just before it: " + what);
    }
    Outcome o = run("compare", "--runs", "many");
    assertTrue(o.err().contains("idemnet compare: Invalid value for option '--runs'"), o.err());
  }

  /**
   * An ign run whose steps keep failing (a learning rate of 1e38 overflows the weights after one
   * step) stops with a clear message after --max-skips skipped steps, with exit code 1.
   */
  @Test
  void ignStopsAfterRepeatedNonFiniteSteps(@TempDir Path dir) throws Exception {
    Path faces = imageFolder(dir, 8);
    Path out = dir.resolve("run");
    Outcome o = run("ign", "--net", "celeba64", "--data", faces.toString(), "--width", "0.1", "--batch", "2", "--epochs", "2",
        "--max-steps", "4", "--lr", "1e38", "--max-skips", "2", "--out", out.toString(), "--no-figures");
    assertEquals(1, o.code(), o.err());
    List<String> lines = o.err().lines().filter(l -> !l.isBlank()).toList();
    String last = lines.get(lines.size() - 1);
    assertTrue(last.startsWith("idemnet ign: stopped at epoch 1") && last.contains("2 steps in a row")
        && last.contains("no checkpoint was written"), o.err());
    assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    assertFalse(Files.exists(out.resolve("checkpoint.safetensors")));
  }

  @Test
  void tinyCompareWritesNumbersAndFiguresAndResumes(@TempDir Path dir) throws Exception {
    String[] args = {"compare", "--dims", "3,3", "--lr", "0.1,0.5", "--runs", "2", "--epochs", "4", "--steps", "2",
        "--eval-every", "2", "--batch", "16", "--probe", "32", "--pca-grid", "4", "--out", dir.toString()};
    Outcome o = run(args);
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("OB/MB"), o.out());
    // 2 algorithms x 2 learning rates x 2 runs x 3 recorded epochs (0, 2, 4), plus the header.
    assertEquals(1 + 2 * 2 * 2 * 3, Files.readAllLines(dir.resolve("runs.csv")).size());
    assertEquals(1 + 2 * 2 * 2, Files.readAllLines(dir.resolve("final.csv")).size());
    assertTrue(Files.readAllLines(dir.resolve("final.csv")).get(0).contains(",trivial,"));
    assertEquals(1 + 2 * 2, Files.readAllLines(dir.resolve("summary.csv")).size());
    for (String png : List.of("fig6_error_vs_lr.png", "fig7_error_vs_epoch.png", "fig4_gradient_cosine.png",
        "fig5_gradient_norm.png", "fig3_pca.png", "fig12_error_distribution.png", "fig13_f_identity_norm.png",
        "fig13_trivial_criterion.png", "fig14_time_per_epoch.png")) {
      Path p = dir.resolve(png);
      assertTrue(Files.size(p) > 1000, png + " written");
      assertTrue(javax.imageio.ImageIO.read(p.toFile()).getWidth() > 100, png + " is an image");
    }
    assertTrue(Files.readAllLines(dir.resolve("pca.csv")).size() == 2, "the PCA numbers");

    // The same command again refuses to overwrite; with --resume it has nothing left to train and reports the same.
    Outcome again = run(args);
    assertEquals(2, again.code(), again.err());
    assertTrue(again.err().contains("--resume"), again.err());
    String summary = Files.readString(dir.resolve("summary.csv"));
    String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
    resume[args.length] = "--resume";
    Outcome resumed = run(resume);
    assertEquals(0, resumed.code(), resumed.err());
    assertTrue(resumed.out().contains("0 pairs of runs to train, 4 found complete"), resumed.out());
    assertEquals(summary, Files.readString(dir.resolve("summary.csv")));
  }

  /** Plain IDX files of n random 28x28 images and labels 0..9 under dir, named as Fashion-MNIST's. */
  private static void writeIdx(Path dir, String prefix, int n, long seed) throws Exception {
    java.util.Random rnd = new java.util.Random(seed);
    var images = java.nio.ByteBuffer.allocate(16 + n * 784).putInt(0x803).putInt(n).putInt(28).putInt(28);
    var labels = java.nio.ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
    for (int i = 0; i < n * 784; i++) images.put((byte) rnd.nextInt(256));
    for (int i = 0; i < n; i++) labels.put((byte) rnd.nextInt(10));
    Files.write(dir.resolve(prefix + "-images-idx3-ubyte"), images.array());
    Files.write(dir.resolve(prefix + "-labels-idx1-ubyte"), labels.array());
  }

  @Test
  void fpnAppendsRowsWithItsSettingsAndRefusesACsvWithOtherColumns(@TempDir Path dir) throws Exception {
    writeIdx(dir, "train", 128, 1);
    writeIdx(dir, "t10k", 32, 2);
    Path csv = dir.resolve("runs.csv");
    String[] args = {"fpn", "--data-dir", dir.toString(), "--epochs", "1", "--batch", "32", "--channels", "4", "--gamma", "0.7",
        "--anderson", "3", "--out", csv.toString()};
    for (int i = 0; i < 2; i++) {
      Outcome o = run(args);
      assertEquals(0, o.code(), o.err());
    }
    List<String> lines = Files.readAllLines(csv);
    assertEquals(3, lines.size(), String.join("\n", lines));
    assertEquals(FpnCommand.CSV_HEADER, lines.get(0));
    assertTrue(lines.get(1).startsWith("jfb,fashion-mnist,4,0.7,1,") && lines.get(1).endsWith(",3,"), lines.get(1));
    // CG capped at the paper's 500 iterations: 2 + 2 * 500 Jacobian products, recorded in the last column.
    Path cg = dir.resolve("cg.csv");
    Outcome capped = run("fpn", "--data-dir", dir.toString(), "--epochs", "1", "--batch", "32", "--channels", "4",
        "--variant", "implicit-cg", "--cg-max-iter", "500", "--out", cg.toString());
    assertEquals(0, capped.code(), capped.err());
    assertTrue(capped.out().contains("at most 1002 Jacobian products"), capped.out());
    assertTrue(Files.readAllLines(cg).get(1).endsWith(",1,1002"), Files.readAllLines(cg).get(1));

    Path older = dir.resolve("older.csv"); // the columns before gamma was recorded
    String content = "variant,data,latent,epoch,train_loss\njfb,fashion-mnist,48,1,0.5\n";
    Files.writeString(older, content);
    args[args.length - 1] = older.toString();
    Outcome o = run(args);
    assertEquals(2, o.code(), o.err());
    assertTrue(o.err().contains("other columns"), o.err());
    assertEquals(content, Files.readString(older), "the file is left as it was");
  }

  @Test
  void projectConvergesAndReportsEigenvalues() {
    Outcome o = run("project", "--size", "6", "--seed", "2");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("CONVERGED"), o.out());
    assertTrue(o.out().contains("eigenvalues after"), o.out());
  }

  @Test
  void badMatrixFileIsAClearError(@TempDir Path dir) throws Exception {
    Path m = dir.resolve("m.csv");
    Files.writeString(m, "1,2\n3,x\n");
    Outcome o = run("project", "--matrix", m.toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("not a number"), o.err());
    Files.writeString(m, "1,2,3\n3,4,5\n");
    o = run("project", "--matrix", m.toString());
    assertTrue(o.err().contains("not square"), o.err());
  }

  /** A folder of small RGB PNGs of another size than 64 (the loader crops and scales them). */
  private static Path imageFolder(Path dir, int count) throws Exception {
    Path folder = Files.createDirectories(dir.resolve("faces"));
    java.util.Random r = new java.util.Random(3);
    for (int i = 0; i < count; i++) {
      java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(40, 48, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 48; y++) for (int x = 0; x < 40; x++) img.setRGB(x, y, r.nextInt(1 << 24));
      javax.imageio.ImageIO.write(img, "png", folder.resolve("img" + i + ".png").toFile());
    }
    return folder;
  }

  @Test
  void ignOnAnImageFolderWithFftNoiseThenFiguresFromTheCheckpoint(@TempDir Path dir) throws Exception {
    Path faces = imageFolder(dir, 4);
    Path out = dir.resolve("run");
    Outcome o = run("ign", "--net", "celeba64", "--data", faces.toString(), "--noise", "fft", "--width", "0.1", "--batch", "2",
        "--epochs", "1", "--max-steps", "1", "--out", out.toString(), "--no-figures");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("celeba64") && o.out().contains("fft noise") && o.out().contains("20.0/0.006/0.02"), o.out());
    assertTrue(o.err().contains("rec ") && o.err().contains("idem ") && o.err().contains("tight ") && o.err().contains("ETA"), o.err());
    assertTrue(Files.isRegularFile(out.resolve("checkpoint.safetensors")));
    assertFalse(Files.exists(out.resolve("interpolation.png")), "--no-figures");

    // Resuming with the loss the checkpoint was trained with is silent; another loss is named in a warning.
    String[] resume = {"ign", "--net", "celeba64", "--data", faces.toString(), "--noise", "fft", "--width", "0.1", "--batch", "2",
        "--epochs", "2", "--max-steps", "1", "--out", dir.resolve("resumed").toString(), "--no-figures", "--resume",
        out.resolve("checkpoint.safetensors").toString()};
    o = run(resume);
    assertEquals(0, o.code(), o.err());
    assertFalse(o.err().contains("warning"), o.err());
    String[] changed = java.util.Arrays.copyOf(resume, resume.length + 2);
    changed[resume.length] = "--tight-clamp";
    changed[resume.length + 1] = "1.5";
    o = run(changed);
    assertEquals(0, o.code(), o.err());
    assertTrue(o.err().contains("warning: resuming with MODIFIED, lambdas 20.0,0.006,0.02, tightness clamp 1.5"), o.err());

    Path figs = dir.resolve("figs");
    o = run("ign-figures", "--checkpoint", out.resolve("checkpoint.safetensors").toString(), "--data", faces.toString(),
        "--count", "3", "--pairs", "1", "--steps", "4", "--out", figs.toString());
    assertEquals(0, o.code(), o.err());
    int cell = 64 * 2 + 2;
    var interp = javax.imageio.ImageIO.read(figs.resolve("interpolation.png").toFile());
    assertEquals(4 * cell + 2, interp.getWidth());
    assertEquals(5 * cell + 2, interp.getHeight());
    for (String f : List.of("ood_noise.png", "ood_greyscale.png", "ood_blur.png")) {
      var img = javax.imageio.ImageIO.read(figs.resolve(f).toFile());
      assertEquals(3 * cell + 2, img.getWidth(), f);
      assertEquals(4 * cell + 2, img.getHeight(), f);
    }

    // The checkpoint's network takes RGB: a grey folder is a clear error.
    o = run("ign-figures", "--checkpoint", out.resolve("checkpoint.safetensors").toString(), "--data", faces.toString(),
        "--grayscale", "--out", figs.toString());
    assertEquals(2, o.code());
    assertTrue(o.err().contains("3-channel"), o.err());
  }

  /** The layer table the CLI prints for the paper network: Table 2's rows (the full check is IgnPaperNetworkTest). */
  @Test
  void ignPrintsThePaperNetworksLayerTable() {
    Outcome o = run("ign", "--net", "paper", "--layers");
    assertEquals(0, o.code(), o.err());
    List<String> rows = o.out().lines().filter(l -> l.startsWith("encoder") || l.startsWith("decoder")).toList();
    assertEquals(10, rows.size(), o.out());
    assertTrue(rows.get(2).matches("encoder +Conv2D +3x3 +1 +0 +128 -> 256 +5x5 +p=0.05 +BN +LeakyReLU\\(0.2\\)"), rows.get(2));
    assertTrue(rows.get(8).matches("decoder +ConvTranspose2D +4x4 +2 +1 +64 -> 32 +14x14 +p=0.05 +BN +ReLU"), rows.get(8));
    assertTrue(rows.get(9).matches("decoder +ConvTranspose2D +4x4 +2 +1 +32 -> 1 +28x28 +- +- +Tanh"), rows.get(9));
    o = run("ign", "--recipe", "paper", "--layers");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().startsWith("paper network"), o.out());
  }

  @Test
  void ignBadInputIsAClearError(@TempDir Path dir) throws Exception {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Path faces = imageFolder(dir, 2);
    String[][] cases = {
        {"ign", "--net", "celeba64", "--data", empty.toString(), "--width", "0.1", "--out", dir.resolve("a").toString()},
        {"ign", "--net", "celeba64", "--data", dir.resolve("nowhere").toString()},
        {"ign", "--net", "vgg"},
        {"ign", "--noise", "pink"},
        {"ign", "--lambdas", "1,2"},
        {"ign", "--lambdas", "20,-1,2.5"},
        {"ign", "--tight-clamp", "-1.5"},
        {"ign", "--net", "celeba64", "--data", faces.toString(), "--batch", "8", "--width", "0.1", "--out", dir.resolve("b").toString()},
        {"ign", "--resume", dir.resolve("missing.safetensors").toString()},
        {"ign-figures", "--checkpoint", dir.resolve("missing.safetensors").toString()},
        {"ign-figures"},
        {"ign", "--recipe", "fancy"},
        {"ign", "--mb-norm", "pixels"},
        {"ign-score", "--checkpoint", dir.resolve("missing.safetensors").toString(), "--classifier", dir.resolve("c").toString(),
            "--out", dir.resolve("s.csv").toString()},
    };
    String[] expect = {"no .png", "no folder", "--net", "--noise", "three values", "must be finite and >= 0",
        "must be finite and >= 0", "larger than the data set", "no checkpoint",
        "no checkpoint", "--checkpoint", "--recipe must be paper or ign",
        "--mb-norm must be rows or elements", "no classifier"};
    for (int i = 0; i < cases.length; i++) {
      Outcome o = run(cases[i]);
      assertEquals(2, o.code(), String.join(" ", cases[i]) + " -> " + o.err());
      assertTrue(o.err().contains(expect[i]), String.join(" ", cases[i]) + " -> " + o.err());
      assertFalse(o.err().contains("\tat "), "no stack trace: " + o.err());
    }
  }
}
