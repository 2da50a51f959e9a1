package dev.opswatch.exporter;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The command line, parsed before anything runs. {@code --help} and {@code --version} win wherever
 * they stand ({@code --config f --version} prints the version and exits 0).
 */
record Arguments(boolean help, boolean version, Optional<Path> configFile, boolean checkConfig, boolean connect) {

  static final String USAGE = "usage: opswatch-exporter [--config FILE] [--check-config [--connect]] [--version] [--help]";

  /** A command line that cannot be run; the message is one line for stderr. */
  static final class Invalid extends Exception {
    private static final long serialVersionUID = 1L;

    Invalid(String message) {
      super(message);
    }
  }

  /** @param env for {@code OPSWATCH_CONFIG}, the file when {@code --config} is not given */
  static Arguments parse(String[] args, Map<String, String> env) throws Invalid {
    boolean help = false;
    boolean version = false;
    boolean check = false;
    boolean connect = false;
    Optional<Path> file = Optional.ofNullable(env.get("OPSWATCH_CONFIG")).filter(s -> !s.isEmpty()).map(Path::of);
    String problem = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> help = true;
        case "--version" -> version = true;
        case "--check-config" -> check = true;
        case "--connect" -> connect = true;
        case "--config" -> {
          if (i + 1 >= args.length) {
            problem = problem == null ? "--config needs a file" : problem;
          } else {
            file = Optional.of(Path.of(args[++i]));
          }
        }
        default -> problem = problem == null ? "unknown argument " + args[i] + " (try --help)" : problem;
      }
    }
    if (!help && !version) {
      if (problem != null) {
        throw new Invalid(problem);
      }
      if (connect && !check) {
        throw new Invalid("--connect goes with --check-config");
      }
    }
    return new Arguments(help, version, file, check, connect);
  }
}
