package io.idemnet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code idemnet} command line: {@code compare} (MB vs OB on B1-B4) and {@code project}. */
@Command(name = "idemnet", mixinStandardHelpOptions = true, version = "idemnet 0.1.0",
    description = "Idempotent neural networks: Modified Backpropagation experiments.",
    footer = "%nidemnet sweep: grids of compare runs as Apache Spark tasks (./idemnet sweep --help; docs/sweep.md).",
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
    // A bad option: the error (after picocli's "did you mean" suggestions, if any) and a pointer to
    // --help, not the whole usage, which would scroll the error out of sight.
    cl.setParameterExceptionHandler((ex, badArgs) -> {
      CommandLine cmd = ex.getCommandLine();
      java.io.PrintWriter err = cmd.getErr();
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
      String name = cmd.getCommandSpec().qualifiedName();
      err.println(name + ": " + ex.getMessage());
      err.println("(run '" + name + " --help' for the options)");
      err.flush();
      return cmd.getCommandSpec().exitCodeOnInvalidInput();
    });
    cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
      // Bad values found while running (e.g. a wrong matrix file) are the user's, not a crash.
      if (e instanceof IllegalArgumentException || e instanceof java.io.IOException
          || e instanceof java.io.UncheckedIOException) {
        cmd.getErr().println("idemnet " + cmd.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      // A run stopped because its steps kept producing NaN or infinite values: said plainly, exit 1.
      if (e instanceof io.idemnet.optim.NonFiniteStepException) {
        cmd.getErr().println("\nidemnet " + cmd.getCommandName() + ": " + e.getMessage());
        return 1;
      }
      throw e;
    });
    return cl.execute(args);
  }
}
