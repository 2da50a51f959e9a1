package dev.opswatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The exporter rejects OPSWATCH_* variables it does not know, so every such variable the other
 * parts of the repository use (runbooks, scripts, tests, the compose stack) must be in its list:
 * otherwise an operator's shell that has them set could not start the exporter.
 */
class EnvVariablesTest {
  private static final Pattern VARIABLE = Pattern.compile("\\bOPSWATCH_[A-Z0-9_]*[A-Z0-9]\\b");
  private static final Set<String> SKIPPED_DIRECTORIES = Set.of(".git", "target", "node_modules", ".tmp");

  @Test
  void everyOpswatchVariableInTheRepositoryIsKnownToTheExporter() throws IOException {
    Path root = TestDatabase.repoFile("docs/metrics.md").toAbsolutePath().getParent().getParent();
    Map<String, Path> unknown = new TreeMap<>();
    try (Stream<Path> files = Files.walk(root)) {
      files.filter(Files::isRegularFile)
          // The exporter's own tests spell variables wrong on purpose.
          .filter(p -> !root.relativize(p).startsWith("exporter/src/test"))
          .filter(p -> Stream.of(root.relativize(p).toString().split("/")).noneMatch(SKIPPED_DIRECTORIES::contains))
          .forEach(p -> scan(root, p, unknown));
    }
    assertTrue(unknown.isEmpty(), "OPSWATCH_* variables the exporter would reject as typos; add them to "
        + "EnvOverlay.OTHER_TOOLS (or PLAIN if the exporter reads them): " + unknown);
  }

  private static void scan(Path root, Path file, Map<String, Path> unknown) {
    String text;
    try {
      text = Files.readString(file);
    } catch (MalformedInputException e) {
      return; // binary
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
    Matcher m = VARIABLE.matcher(text);
    while (m.find()) {
      String name = m.group();
      boolean known = EnvOverlay.PLAIN.containsKey(name) || EnvOverlay.OTHER_EXPORTER_VARIABLES.contains(name)
          || EnvOverlay.OTHER_TOOLS.contains(name) || name.startsWith(EnvOverlay.TEST_PREFIX)
          // Prefixes and placeholders in prose, such as OPSWATCH_* or OPSWATCH_SOMETHING_.
          || text.startsWith("*", m.end()) || text.startsWith("_", m.end());
      if (!known) {
        unknown.putIfAbsent(name, root.relativize(file));
      }
    }
  }
}
