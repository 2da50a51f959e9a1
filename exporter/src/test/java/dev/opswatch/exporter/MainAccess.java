package dev.opswatch.exporter;

import java.io.PrintStream;
import java.util.Map;

/** Lets tests in other packages reach Main's config path without making it public API. */
public final class MainAccess {
  private MainAccess() {}

  /** True when the config was accepted. */
  public static boolean loadConfig(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return Main.loadConfig(args, env, out, err).isPresent();
  }
}
