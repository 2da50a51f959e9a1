package dev.opswatch.exporter;

import java.io.PrintStream;
import java.util.Map;

/** Lets tests in other packages reach Main's config path without making it public API. */
public final class MainAccess {
  private MainAccess() {}

  /** True when the config of this command line was accepted (--check-config exits 0). */
  public static boolean loadConfig(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    java.util.List<String> check = new java.util.ArrayList<>(java.util.List.of(args));
    check.add("--check-config");
    return Main.run(check.toArray(String[]::new), env, out, err) == Main.EXIT_OK;
  }

  /** Main's exit code for this command line (-1: it started the exporter). */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    return Main.run(args, env, out, err);
  }
}
