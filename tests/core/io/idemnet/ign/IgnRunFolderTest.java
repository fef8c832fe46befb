package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.data.Dataset;
import io.idemnet.io.OutputFolder;
import io.idemnet.optim.NonFiniteStepException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an IGN run leaves in its output folder after kills, resumes and diverging steps: the log
 * agrees with the checkpoint, stale temporary files go, and a diverging run stops with the last
 * good checkpoint kept.
 */
class IgnRunFolderTest {
  private static final Backend CPU = new CpuBackend();

  private static Dataset data(long seed, boolean withNaN) {
    Random rnd = new Random(seed);
    float[] imgs = new float[16 * 28 * 28];
    for (int i = 0; i < imgs.length; i++) imgs[i] = withNaN ? Float.NaN : rnd.nextFloat() * 2 - 1;
    return new Dataset(imgs, new int[16], 1, 28, 28);
  }

  /** Tiny runs: batch 4, 2 steps per epoch, width 1/8, no figures after training. */
  private static IgnExperiment.Config config(int epochs, Path out) {
    return new IgnExperiment.Config(IgnTrainer.Mode.MODIFIED, IgnTrainer.Lambdas.MNIST, epochs, 4, 1e-3f, 0.5f, 0.999f,
        0.125f, 2, 9, out, IgnNetworks.Net.MNIST, IgnNoise.Kind.NORMAL, 16, false);
  }

  /** epoch -> number of rows, from losses.csv (checking the header and that every row is whole). */
  private static java.util.Map<Integer, Integer> rowsPerEpoch(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    assertEquals(IgnExperiment.LOSSES_HEADER, lines.get(0));
    java.util.Map<Integer, Integer> rows = new java.util.TreeMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertEquals(IgnExperiment.LOSSES_HEADER.split(",").length, f.length, "a whole row: " + line);
      rows.merge(Integer.parseInt(f[0]), 1, Integer::sum);
    }
    return rows;
  }

  /**
   * A kill after the epoch's rows were appended to losses.csv but before its checkpoint was
   * renamed into place leaves rows of an epoch the checkpoint does not have (and possibly half a
   * line). Resuming must log that epoch once, not twice.
   */
  @Test
  void resumeCutsTheLogBackToTheCheckpointsEpoch(@TempDir Path dir) throws Exception {
    Dataset d = data(5, false);
    Path out = dir.resolve("run");
    assertEquals(1, new IgnExperiment(CPU, config(1, out)).run(d, null, s -> {}, () -> false));
    Path csv = out.resolve("losses.csv");
    // What the killed run had logged of epoch 2 (two rows, the second cut off by the kill).
    Files.writeString(csv, "2,0,0.5,0.1,0.1,0.01,0.01\n2,1,0.4", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    assertEquals(2, new IgnExperiment(CPU, config(2, out)).run(d, out.resolve("checkpoint.safetensors"), s -> {}, () -> false));
    assertEquals(java.util.Map.of(1, 2, 2, 2), rowsPerEpoch(csv), "each epoch's 2 steps logged once");
    assertEquals("2", io.idemnet.io.SafeTensors.readMetadata(out.resolve("checkpoint.safetensors")).get("epoch"));
  }

  /** Temporary files that killed writes left are removed by the next run; nothing else is. */
  @Test
  void aLaterRunRemovesStaleTemporaryFilesAndNothingElse(@TempDir Path dir) throws Exception {
    Path out = Files.createDirectories(dir.resolve("run"));
    List<String> stale = List.of(".checkpoint.safetensors.1f2e3d4c5b6a7988.tmp", ".checkpoint.safetensors.abc.tmp",
        ".samples_epoch003.png.0123456789abcdef.tmp", ".losses.png.00000000000000ff.tmp",
        ".samples_epoch001.png8731928374651.tmp", ".losses.csv.0a0b0c0d0e0f1011.tmp");
    List<String> others = List.of("notes.tmp", ".notes.tmp", ".checkpoint.safetensors.xyz.tmp", "checkpoint.safetensors.1f.tmp",
        ".data.bin.0123456789abcdef.tmp", ".losses.png.0123456789abcdef.tmp.keep", "my.png");
    for (String name : stale) Files.write(out.resolve(name), new byte[1000]);
    for (String name : others) Files.writeString(out.resolve(name), "user's file");
    Files.createDirectories(out.resolve("sub"));
    Files.write(out.resolve("sub/.checkpoint.safetensors.1f2e3d4c5b6a7988.tmp"), new byte[10]);
    new IgnExperiment(CPU, config(1, out)).run(data(5, false), null, s -> {}, () -> false);
    for (String name : stale) assertFalse(Files.exists(out.resolve(name)), name + " removed");
    for (String name : others) assertEquals("user's file", Files.readString(out.resolve(name)), name + " kept");
    assertTrue(Files.exists(out.resolve("sub/.checkpoint.safetensors.1f2e3d4c5b6a7988.tmp")), "sub-folders are not searched");
    try (var files = Files.list(out)) {
      assertEquals(List.of(), files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp") && n.startsWith(".")
          && !others.contains(n)).toList(), "the run itself leaves no temporary file");
    }
  }

  @Test
  void aSecondRunInTheSameFolderIsRefusedWhileTheFirstHoldsIt(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("run");
    try (OutputFolder held = OutputFolder.claim(out)) {
      IOException e = assertThrows(IOException.class,
          () -> new IgnExperiment(CPU, config(1, out)).run(data(5, false), null, s -> {}, () -> false));
      assertTrue(e.getMessage().contains("another idemnet run"), e.getMessage());
    }
    assertEquals(1, new IgnExperiment(CPU, config(1, out)).run(data(5, false), null, s -> {}, () -> false));
  }

  /**
   * A run whose steps keep giving NaN (here: NaN images after a good first epoch) stops after the
   * allowed number of skipped steps in a row, with a message naming the kept checkpoint; the
   * checkpoint and the log stay those of the last good epoch.
   */
  @Test
  void aDivergingRunStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("run");
    new IgnExperiment(CPU, config(1, out)).run(data(5, false), null, s -> {}, () -> false);
    Path checkpoint = out.resolve("checkpoint.safetensors");
    byte[] good = Files.readAllBytes(checkpoint);
    NonFiniteStepException e = assertThrows(NonFiniteStepException.class, () -> new IgnExperiment(CPU, config(3, out))
        .maxConsecutiveSkips(2).run(data(5, true), checkpoint, s -> {}, () -> false));
    assertTrue(e.getMessage().contains("stopped at epoch 2 step 1") && e.getMessage().contains("2 steps in a row")
        && e.getMessage().contains(checkpoint + " (epoch 1)"), e.getMessage());
    assertArrayEquals(good, Files.readAllBytes(checkpoint), "the last good checkpoint is kept as it was");
    assertEquals(java.util.Map.of(1, 2), rowsPerEpoch(out.resolve("losses.csv")), "the log agrees with the checkpoint");

    // With 0 skips allowed the first non-finite step stops the run.
    NonFiniteStepException first = assertThrows(NonFiniteStepException.class, () -> new IgnExperiment(CPU, config(3, out))
        .maxConsecutiveSkips(0).run(data(5, true), checkpoint, s -> {}, () -> false));
    assertTrue(first.getMessage().contains("stopped at epoch 2 step 0"), first.getMessage());
    assertArrayEquals(good, Files.readAllBytes(checkpoint));
  }
}
