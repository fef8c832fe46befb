package io.idemnet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code idemnet} command line: {@code compare} (MB vs OB on B1-B4) and {@code project}. */
@Command(name = "idemnet", mixinStandardHelpOptions = true, version = "idemnet 0.1.0",
    description = "Idempotent neural networks: Modified Backpropagation experiments.",
    subcommands = {CompareCommand.class, ProjectCommand.class, FpnCommand.class, IgnCommand.class, IgnFiguresCommand.class,
        IgnClassifierCommand.class, IgnScoreCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.err);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (2 for usage errors) without exiting. */
  public static int execute(String... args) {
    System.setProperty("java.awt.headless", "true");
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      // Bad values found while running (e.g. a wrong matrix file) are the user's, not a crash.
      if (e instanceof IllegalArgumentException || e instanceof java.io.IOException
          || e instanceof java.io.UncheckedIOException) {
        cmd.getErr().println("idemnet " + cmd.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl.execute(args);
  }
}
