package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/** Builds config errors that name the key and the file:line (or environment variable) it came from. */
public final class ConfigErrors {
  private ConfigErrors() {}

  public static ConfigException.BadValue badValue(Config config, String path, String message) {
    if (config.hasPathOrNull(path)) {
      return new ConfigException.BadValue(config.getValue(path).origin(), path, message);
    }
    return new ConfigException.BadValue(path, message);
  }

  /** A mistake in an environment variable that sets no config key. */
  public static ConfigException environment(String variable, String message) {
    return new ConfigException.Generic("environment variable " + variable + ": " + message);
  }

  /** One line for stderr: Typesafe's messages already start with "file: line: ". */
  public static String oneLine(ConfigException e) {
    return e.getMessage().replace('\n', ' ');
  }
}
