package io.idemnet.sweep;

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

/** The command's refusals: usage errors (exit 2) before any Spark starts. */
class SweepCommandTest {
  @Test
  void badArgumentsGiveUsageErrorsWithoutStartingSpark(@TempDir Path dir) {
    PrintStream oldErr = System.err;
    try {
      for (String[] args : List.of(new String[] {"--net", "B9"}, new String[] {"--dims", "4,5"},
          new String[] {"--dims", "4,x,4"}, new String[] {"--data", "poisson"}, new String[] {"--lr", "-1"},
          new String[] {"--pca", "sometimes"}, new String[] {"--runs", "0"}, new String[] {"--conf", "spark.master"},
          new String[] {"--task-cpus", "0"}, new String[] {"--epochs", "many"})) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
            java.util.stream.Stream.of("--out", dir.resolve("out").toString())).toArray(String[]::new);
        int code = SweepMain.execute(all);
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, String.join(" ", args) + " -> " + text);
        assertFalse(text.contains("\tat "), "no stack trace for " + String.join(" ", args) + ":\n" + text);
        assertTrue(text.contains("Usage: idemnet sweep") || text.contains("idemnet sweep"), text);
      }
    } finally {
      System.setErr(oldErr);
    }
    assertFalse(Files.exists(dir.resolve("out").resolve("results")), "nothing was run");
  }
}
