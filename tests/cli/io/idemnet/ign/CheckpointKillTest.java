package io.idemnet.ign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.idemnet.backend.Backend;
import io.idemnet.backend.cpu.CpuBackend;
import io.idemnet.io.AtomicFiles;
import io.idemnet.io.SafeTensors;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpointing {@code ign} run in a child JVM, killed with SIGKILL at random moments (seeded)
 * and resumed each time from its checkpoint, then run to the end. After every kill the
 * checkpoint, if there is one, loads, and the log holds each epoch up to the checkpoint's exactly
 * once; at the end the log holds every epoch exactly once and agrees with the checkpoint, and no
 * temporary file is left in the folder. A tiny network (width 1/8, batch 2, 2 steps per epoch)
 * keeps an epoch to a fraction of a second, so the kills land in every part of it: the steps,
 * the log append, the checkpoint write, the sample grid and the loss plot.
 */
class CheckpointKillTest {
  private static final int EPOCHS = 5, STEPS = 2, KILLS = 4;

  @Test
  void killedRunsResumeWithAConsistentCheckpointAndLog(@TempDir Path dir) throws Exception {
    Path images = Files.createDirectories(dir.resolve("images"));
    Random rnd = new Random(7);
    for (int i = 0; i < 6; i++) {
      BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
      for (int y = 0; y < 28; y++) for (int x = 0; x < 28; x++) img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
      ImageIO.write(img, "png", images.resolve("digit" + i + ".png").toFile());
    }
    Path out = dir.resolve("run"), checkpoint = out.resolve("checkpoint.safetensors");
    Random kills = new Random(20260101L);
    List<String> killedAt = new ArrayList<>();
    for (int k = 0; k < KILLS; k++) {
      Path log = dir.resolve("child" + k + ".log");
      Process p = start(images, out, checkpoint, log);
      // The kill comes a random time after the run has printed its settings (JVM start-up and data
      // loading take a machine-dependent while): in the folder claim, the checkpoint load, the
      // steps, the log append, the checkpoint write or the figures.
      waitForSettingsLine(p, log);
      int before = Files.exists(checkpoint) ? checkpointEpoch(checkpoint) : 0;
      // After one checkpoint of this run: right after the next epoch's rows reach the log (before
      // or while its checkpoint is written), while a file is being written, or at a random time.
      String when = switch (k % 3) {
        case 0 -> waitFor(p, () -> loggedPast(out.resolve("losses.csv"), before + 1), "after the log append of epoch " + (before + 2));
        case 1 -> waitFor(p, () -> checkpointPast(checkpoint, before) && temporaryFileIn(out),
            "while a file was being written after checkpoint " + (before + 1));
        default -> "at a random time";
      };
      long delayMs = kills.nextInt(k % 3 == 2 ? 2500 : 30);
      boolean ended = p.waitFor(delayMs, TimeUnit.MILLISECONDS);
      if (!ended) {
        p.destroyForcibly(); // SIGKILL on Linux and macOS
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      }
      int epoch = Files.exists(checkpoint) ? checkpointEpoch(checkpoint) : 0;
      killedAt.add(when + " +" + delayMs + " ms -> checkpoint epoch " + epoch + (ended ? " (ended by itself)" : ""));
      if (epoch > 0) {
        try (IgnExperiment.Trained t = IgnExperiment.loadNetwork(CPU, checkpoint, null, null, null)) {
          assertEquals(1, t.channels(), "the checkpoint loads after kill " + k);
        }
        Map<Integer, Integer> rows = rowsPerEpoch(out.resolve("losses.csv"), epoch);
        for (int e = 1; e <= epoch; e++) {
          assertEquals(STEPS, rows.getOrDefault(e, 0), "epoch " + e + " logged once after kill " + k + ": " + killedAt);
        }
      }
    }
    Process last = start(images, out, checkpoint, dir.resolve("child-last.log"));
    assertTrue(last.waitFor(180, TimeUnit.SECONDS), "the last run finishes");
    assertEquals(0, last.exitValue(), Files.readString(dir.resolve("child-last.log")));
    assertEquals(EPOCHS, checkpointEpoch(checkpoint));
    Map<Integer, Integer> rows = rowsPerEpoch(out.resolve("losses.csv"), Integer.MAX_VALUE);
    Map<Integer, Integer> expected = new TreeMap<>();
    for (int e = 1; e <= EPOCHS; e++) expected.put(e, STEPS);
    assertEquals(expected, rows, "every epoch logged exactly once; kills: " + killedAt);
    System.out.println("CheckpointKillTest kills: " + killedAt);
    try (var files = Files.list(out)) {
      List<String> left = files.map(f -> f.getFileName().toString()).filter(AtomicFiles::isTemporaryName).toList();
      assertEquals(List.of(), left, "no temporary file left after the resume");
    }
  }

  private static final Backend CPU = new CpuBackend();

  interface Condition {
    boolean holds() throws Exception;
  }

  /** Polls every 2 ms until the condition holds or the child ends (at most 2 minutes); returns {@code what}. */
  private static String waitFor(Process p, Condition c, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && p.isAlive()) {
      if (c.holds()) return what;
      Thread.sleep(2);
    }
    return p.isAlive() ? what + " (not seen)" : what + " (the run ended first)";
  }

  /** Whether losses.csv has a row of an epoch after {@code epoch}. */
  private static boolean loggedPast(Path csv, int epoch) {
    try {
      for (String line : Files.readAllLines(csv, StandardCharsets.ISO_8859_1)) {
        int comma = line.indexOf(',');
        if (comma > 0 && Character.isDigit(line.charAt(0)) && Integer.parseInt(line.substring(0, comma)) > epoch) return true;
      }
    } catch (java.io.IOException | NumberFormatException e) {
      // not there yet, or replaced while read: look again
    }
    return false;
  }

  private static boolean checkpointPast(Path checkpoint, int epoch) {
    try {
      return Files.exists(checkpoint) && checkpointEpoch(checkpoint) > epoch;
    } catch (Exception e) {
      return false; // replaced while read: look again
    }
  }

  private static boolean temporaryFileIn(Path dir) {
    try (var files = Files.list(dir)) {
      return files.anyMatch(f -> AtomicFiles.isTemporaryName(f.getFileName().toString()));
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return false;
    }
  }

  /** Waits until the child has printed its "ign ..." settings line (or has ended). */
  private static void waitForSettingsLine(Process p, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && p.isAlive()) {
      // ISO-8859-1 decodes any bytes, also a UTF-8 sequence the child is half-way through writing.
      if (Files.exists(log) && new String(Files.readAllBytes(log), StandardCharsets.ISO_8859_1).lines()
          .anyMatch(l -> l.startsWith("ign "))) {
        return;
      }
      Thread.sleep(20);
    }
    assertTrue(!p.isAlive() || System.nanoTime() < deadline, "the child printed its settings within 2 minutes");
  }

  /** ign in a child JVM on the test's class path, resuming from the checkpoint when there is one. */
  private static Process start(Path images, Path out, Path checkpoint, Path log) throws Exception {
    String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xss4m", "-Didemnet.backend=cpu",
        "-cp", System.getProperty("java.class.path"), "io.idemnet.cli.Main", "ign", "--net", "mnist", "--data", images.toString(),
        "--grayscale", "--width", "0.125", "--batch", "2", "--epochs", Integer.toString(EPOCHS), "--max-steps",
        Integer.toString(STEPS), "--no-figures", "--out", out.toString()));
    if (Files.exists(checkpoint)) cmd.addAll(List.of("--resume", checkpoint.toString()));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static int checkpointEpoch(Path checkpoint) throws Exception {
    return Integer.parseInt(SafeTensors.readMetadata(checkpoint).get("epoch"));
  }

  /** Rows per epoch of losses.csv for epochs up to {@code upTo}; every such row must be whole. */
  private static Map<Integer, Integer> rowsPerEpoch(Path csv, int upTo) throws Exception {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    assertEquals(IgnExperiment.LOSSES_HEADER, lines.get(0));
    Map<Integer, Integer> rows = new TreeMap<>();
    int lastEpoch = 0, lastStep = -1;
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      int epoch;
      try {
        epoch = Integer.parseInt(f[0]);
      } catch (NumberFormatException e) {
        continue; // a row cut short by the kill, past the checkpoint (a resume removes it)
      }
      if (epoch > upTo) continue;
      assertEquals(IgnExperiment.LOSSES_HEADER.split(",").length, f.length, "a whole row: " + line);
      int step = Integer.parseInt(f[1]);
      assertTrue(epoch > lastEpoch || (epoch == lastEpoch && step == lastStep + 1), "rows in order: " + line);
      lastEpoch = epoch;
      lastStep = step;
      rows.merge(epoch, 1, Integer::sum);
    }
    return rows;
  }
}
