package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Reads secrets given inline (from the environment) or as a file path, never logging them. */
public final class Secrets {
  private Secrets() {}

  /**
   * The secret at {@code inlinePath}, else the trimmed content of the file named at
   * {@code filePath}; empty when neither is set. A named file that cannot be read is a config error.
   */
  public static Optional<String> read(Config config, String inlinePath, String filePath) {
    String inline = config.hasPath(inlinePath) ? config.getString(inlinePath) : "";
    if (!inline.isEmpty()) {
      return Optional.of(inline);
    }
    return readFile(config, filePath);
  }

  public static Optional<String> readFile(Config config, String filePath) {
    String file = config.hasPath(filePath) ? config.getString(filePath) : "";
    if (file.isEmpty()) {
      return Optional.empty();
    }
    try {
      String content = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
      if (content.isEmpty()) {
        throw ConfigErrors.badValue(config, filePath, "file " + file + " is empty");
      }
      return Optional.of(content);
    } catch (IOException | SecurityException e) {
      throw ConfigErrors.badValue(config, filePath, "cannot read file " + file + " (" + e.getClass().getSimpleName() + ")");
    }
  }
}
