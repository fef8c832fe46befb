package io.idemnet.docs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The README's "Using it from Java" snippet is the marked part of examples/linking's program,
 * which CI compiles and runs against the installed artifact: this keeps the two from drifting.
 * (Tests run with the repository root as working directory.)
 */
class ReadmeSnippetTest {
  @Test
  void readmeShowsTheExampleProgramsSnippet() throws IOException {
    String example = Files.readString(Path.of("examples/linking/src/main/java/example/LinkingExample.java"));
    int from = example.indexOf("// --- snippet ---\n"), to = example.indexOf("// --- end snippet ---");
    assertTrue(from >= 0 && to > from, "snippet markers in LinkingExample.java");
    String[] lines = example.substring(from + "// --- snippet ---\n".length(), to).stripTrailing().split("\n");
    int indent = Arrays.stream(lines).filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
        .min().orElse(0);
    String snippet = Arrays.stream(lines).map(l -> l.length() >= indent ? l.substring(indent) : l.strip())
        .collect(Collectors.joining("\n"));
    String readme = Files.readString(Path.of("README.md"));
    assertTrue(readme.contains(snippet), "README.md must contain the snippet of LinkingExample.java verbatim:\n" + snippet);
  }
}
