package io.idemnet.sweep;

import picocli.CommandLine;

/**
 * {@code idemnet sweep}: the entry point of the sweep's jar ({@code ./idemnet sweep ...} runs it;
 * so can {@code spark-submit --class io.idemnet.sweep.SweepMain}).
 */
public final class SweepMain {
  private SweepMain() {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command and returns its exit code (0 done, 1 runs failed or the job stopped, 2 usage, 130 interrupted). */
  public static int execute(String... args) {
    System.setProperty("java.awt.headless", "true");
    // Spark logs at INFO to the console by default; the sweep prints its own progress, so only
    // warnings and errors, unless a log4j2 configuration was given (spark-submit's, or -D).
    if (System.getProperty("log4j2.configurationFile") == null) {
      System.setProperty("log4j2.configurationFile", "io/idemnet/sweep/log4j2-sweep.properties");
    }
    CommandLine cl = new CommandLine(new SweepCommand());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException) {
        cmd.getErr().println("idemnet sweep: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }
}
