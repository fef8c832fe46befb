package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.autograd.Graph;
import io.idemnet.autograd.Parameter;
import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.io.Checkpoints;
import io.idemnet.io.SafeTensors;
import io.idemnet.nn.Sequential;
import io.idemnet.optim.Adam;
import io.idemnet.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IgnCelebaAndFiguresTest {
  private static final Backend CPU = new CpuBackend();

  private static Dataset randomImages(int n, int c, int side, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n * c * side * side];
    for (int i = 0; i < x.length; i++) x[i] = r.nextFloat() * 2 - 1;
    return new Dataset(x, new int[n], c, side, side);
  }

  private static int[] forwardShape(Sequential m, Graph g, Tensor x) {
    try (Graph.Scope s = g.noGrad()) {
      g.reset();
      return m.forward(g, g.constant(x)).value().shape();
    }
  }

  @Test
  void celeba64HasTheDcganShapesAndALatentOf1x1() {
    try (Sequential f = IgnNetworks.celeba64(CPU, 3, 0.1f, 1); Graph g = new Graph(CPU); Tensor x = CPU.zeros(2, 3, 64, 64)) {
      CPU.randomNormal(x, 1, 0f, 1f);
      assertArrayEquals(new int[] {2, 3, 64, 64}, forwardShape(f, g, x));
      assertArrayEquals(new int[] {2, 51, 1, 1}, forwardShape(IgnNetworks.encoder(f), g, x), "512 x 0.1 latent channels");
      // Encoder: 4 blocks (conv, [BN], LeakyReLU, dropout) + the latent conv; decoder from the first ConvTranspose2d.
      assertEquals(3 + 4 + 4 + 4 + 1, IgnNetworks.decoderStart(f));
      int[] sides = {32, 16, 8, 4, 1};
      int k = 0;
      for (var m : IgnNetworks.encoder(f).children()) {
        if (m instanceof io.idemnet.nn.Conv2d) {
          // A view on f's own modules: not closed here (f closes them).
          Sequential upTo = new Sequential(f.children().subList(0, f.children().indexOf(m) + 1));
          int[] s = forwardShape(upTo, g, x);
          assertEquals(sides[k], s[2], "encoder conv " + k);
          assertEquals(sides[k], s[3]);
          k++;
        }
      }
      assertEquals(5, k);
    }
  }

  @Test
  void celeba64TakesFiniteTrainingStepsOn64x64Data() {
    for (IgnTrainer.Mode mode : IgnTrainer.Mode.values()) {
      try (Sequential f = IgnNetworks.celeba64(CPU, 3, 0.1f, 2); Adam adam = new Adam(f.namedParameters(), 1e-3f, 0.5f, 0.999f, 1e-8f, 0f);
          Tensor x = CPU.zeros(2, 3, 64, 64); Tensor z = CPU.zeros(2, 3, 64, 64)) {
        CPU.randomUniform(x, 3, -1f, 1f);
        CPU.randomNormal(z, 4, 0f, 1f);
        IgnTrainer t = new IgnTrainer(CPU, f, adam, mode, IgnTrainer.Lambdas.CELEBA);
        Parameter last = f.parameters().get(f.parameters().size() - 1);
        float[] before = last.value().toArray();
        t.step(x, z, 0);
        IgnTrainer.Losses l = t.losses();
        assertTrue(Double.isFinite(l.rec()) && Double.isFinite(l.idem()) && Double.isFinite(l.tight()), mode + " " + l);
        assertFalse(Arrays.equals(before, last.value().toArray()), mode + ": weights moved");
        t.close();
      }
    }
    assertEquals(IgnTrainer.Lambdas.CELEBA, IgnNetworks.Net.CELEBA64.defaultLambdas());
    assertEquals(new IgnTrainer.Lambdas(20f, 0.006f, 0.02f), IgnTrainer.Lambdas.CELEBA);
  }

  private static void assertPng(Path png, int width, int height) throws Exception {
    assertTrue(Files.isRegularFile(png), png + " written");
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(width, img.getWidth(), png + " width");
    assertEquals(height, img.getHeight(), png + " height");
  }

  /** A 64x64 RGB run with FFT noise: checkpoint metadata, RGB grids and the figures, then the figures again from the file. */
  @Test
  void rgbRunWritesCheckpointSamplesAndFiguresOfTheStatedSize(@TempDir Path dir) throws Exception {
    Dataset data = randomImages(4, 3, 64, 7);
    var config = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, IgnTrainer.Lambdas.CELEBA, 1, 2, 1e-3f, 0.5f, 0.999f, 0.1f,
        1, 3, dir, IgnNetworks.Net.CELEBA64, IgnNoise.Kind.FFT, 4, true);
    assertEquals(1, new IgnExperiment(CPU, config).run(data, null, s -> {}, () -> false));
    int cell = 64 * 2 + ImageGrid.GAP; // scale 2 at 64x64
    assertPng(dir.resolve("samples_epoch001.png"), 8 * cell + ImageGrid.GAP, 3 * cell + ImageGrid.GAP);
    assertPng(dir.resolve("interpolation.png"), 8 * cell + ImageGrid.GAP, 5 * 2 * cell + ImageGrid.GAP);
    for (String ood : new String[] {"ood_noise.png", "ood_greyscale.png", "ood_blur.png"}) {
      assertPng(dir.resolve(ood), 4 * cell + ImageGrid.GAP, 4 * cell + ImageGrid.GAP); // 4 images (the data set), 4 rows
    }
    BufferedImage grid = ImageIO.read(dir.resolve("samples_epoch001.png").toFile());
    assertEquals(3, grid.getColorModel().getNumColorComponents(), "RGB grid for RGB data");

    Map<String, String> meta = SafeTensors.readMetadata(dir.resolve("checkpoint.safetensors"));
    assertEquals("celeba64", meta.get("net"));
    assertEquals("fft", meta.get("noise"));
    assertEquals("3", meta.get("channels"));
    try (IgnExperiment.Trained t = IgnExperiment.loadNetwork(CPU, dir.resolve("checkpoint.safetensors"), null, null, null)) {
      assertEquals(IgnNetworks.Net.CELEBA64, t.net());
      var saved = SafeTensors.read(dir.resolve("checkpoint.safetensors"));
      t.f().namedParameters().forEach((k, p) -> assertArrayEquals(saved.get(k).data(), p.value().toArray(), k));
      t.f().namedBuffers().forEach((k, b) -> assertArrayEquals(saved.get(k).data(), b.toArray(), k));
      Path again = dir.resolve("again");
      var written = IgnFigures.write(CPU, t.f(), data, IgnNoise.normal(CPU), new IgnFigures.Options(3, 1, 5, 2), again);
      assertEquals(5, written.size());
      assertPng(again.resolve("samples.png"), 8 * cell + ImageGrid.GAP, 8 * cell + ImageGrid.GAP);
      assertPng(again.resolve("interpolation.png"), 5 * cell + ImageGrid.GAP, 5 * cell + ImageGrid.GAP);
      assertPng(again.resolve("ood_blur.png"), 3 * cell + ImageGrid.GAP, 4 * cell + ImageGrid.GAP);
    }
  }

  @Test
  void greyFiguresAt28x28SkipGreyscale(@TempDir Path dir) throws Exception {
    Dataset data = randomImages(5, 1, 28, 8);
    try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.1f, 4)) {
      var written = IgnFigures.write(CPU, f, data, IgnNoise.normal(CPU), IgnFigures.Options.defaults(1), dir);
      assertEquals(4, written.size(), "samples, interpolation, noise, blur");
      assertFalse(Files.exists(dir.resolve("ood_greyscale.png")));
      int cell = 28 * 3 + ImageGrid.GAP;
      assertPng(dir.resolve("interpolation.png"), 8 * cell + ImageGrid.GAP, 10 * cell + ImageGrid.GAP);
      assertPng(dir.resolve("samples.png"), 8 * cell + ImageGrid.GAP, 8 * cell + ImageGrid.GAP);
      assertPng(dir.resolve("ood_noise.png"), 5 * cell + ImageGrid.GAP, 4 * cell + ImageGrid.GAP);
      assertEquals(1, ImageIO.read(dir.resolve("ood_noise.png").toFile()).getColorModel().getNumComponents(), "grey PNG");
    }
  }

  @Test
  void figureOptionsRefuseBadCounts() {
    assertThrows(IllegalArgumentException.class, () -> new IgnFigures.Options(8, 1, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new IgnFigures.Options(0, 1, 2, 0));
  }

  @Test
  void badInputGivesClearErrors(@TempDir Path dir) throws Exception {
    var mnistConfig = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, IgnTrainer.Lambdas.MNIST, 1, 2, 1e-3f, 0.5f, 0.999f, 0.1f,
        1, 3, dir.resolve("a"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new IgnExperiment(CPU, mnistConfig).run(randomImages(4, 1, 64, 1), null, s -> {}, () -> false));
    assertTrue(e.getMessage().contains("28x28") && e.getMessage().contains("64x64"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new IgnExperiment(CPU, mnistConfig).run(randomImages(1, 1, 28, 1), null, s -> {}, () -> false));
    assertTrue(e.getMessage().contains("larger than the data set"), e.getMessage());
    var fft = new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, IgnTrainer.Lambdas.MNIST, 1, 1, 1e-3f, 0.5f, 0.999f, 0.1f, 1, 3,
        dir.resolve("b"), IgnNetworks.Net.MNIST, IgnNoise.Kind.FFT, 10, false);
    e = assertThrows(IllegalArgumentException.class,
        () -> new IgnExperiment(CPU, fft).run(randomImages(1, 1, 28, 1), null, s -> {}, () -> false));
    assertTrue(e.getMessage().contains("at least 2 images"), e.getMessage());

    assertThrows(NoSuchFileException.class, () -> IgnExperiment.loadNetwork(CPU, dir.resolve("none.safetensors"), null, null, null));
    Path bare = dir.resolve("bare.safetensors"); // a training checkpoint without the network metadata
    try (Sequential f = IgnNetworks.mnist(CPU, 1, 0.1f, 1); Adam adam = new Adam(f.namedParameters(), 1e-3f)) {
      Checkpoints.saveTraining(bare, f, adam, Map.of("epoch", "1"));
    }
    e = assertThrows(IllegalArgumentException.class, () -> IgnExperiment.loadNetwork(CPU, bare, null, null, null));
    assertTrue(e.getMessage().contains("--net"), e.getMessage());
    try (IgnExperiment.Trained t = IgnExperiment.loadNetwork(CPU, bare, IgnNetworks.Net.MNIST, 0.1f, 1)) {
      assertEquals(1, t.channels());
    }
    // The wrong network for the file: a shape error from the checkpoint loader, not a crash.
    assertThrows(io.idemnet.io.CheckpointException.class, () -> IgnExperiment.loadNetwork(CPU, bare, IgnNetworks.Net.CELEBA64, 0.1f, 1));
    assertThrows(IllegalArgumentException.class, () -> IgnNetworks.Net.parse("resnet"));
  }
}
