package dev.opswatch.exporter;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigLoader;
import dev.opswatch.exporter.config.ExporterConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar opswatch-exporter.jar [--config FILE] [--check-config]}: read the config,
 * start the refresh loops and the HTTP server, stop cleanly on SIGTERM.
 */
public final class Main {
  static final int EXIT_CONFIG = 2;

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    configureJdk();
    Map<String, String> env = System.getenv();
    Optional<ExporterConfig> config = loadConfig(args, env, System.out, System.err);
    if (config.isEmpty()) {
      System.exit(args.length > 0 && (args[0].equals("--help") || args[0].equals("--version")) ? 0 : EXIT_CONFIG);
    }
    if (java.util.Arrays.asList(args).contains("--check-config")) {
      System.out.println("config ok");
      return;
    }
    Logger log = LoggerFactory.getLogger(Main.class);
    Exporter exporter;
    try {
      exporter = Exporter.start(config.get());
    } catch (java.io.IOException e) {
      System.err.println("opswatch: " + e.getMessage());
      System.exit(1);
      return;
    }
    log.info("opswatch exporter {} listening on {}, database {}", BuildInfo.version(), exporter.listeningOn(), config.get().database().url().masked());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      exporter.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }

  /**
   * Parses the arguments and the config. On a mistake, prints one line (the key and where it was
   * set) and returns empty; the caller exits with {@link #EXIT_CONFIG}.
   */
  static Optional<ExporterConfig> loadConfig(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Optional<Path> file = Optional.ofNullable(env.get("OPSWATCH_CONFIG")).filter(s -> !s.isEmpty()).map(Path::of);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> {
          out.println("usage: opswatch-exporter [--config FILE] [--check-config] [--version]");
          out.println("Configuration: reference.conf keys, OPSWATCH_* and BUDGET_*_EUR environment variables (see README).");
          return Optional.empty();
        }
        case "--version" -> {
          out.println("opswatch-exporter " + BuildInfo.version());
          return Optional.empty();
        }
        case "--config" -> {
          if (i + 1 >= args.length) {
            err.println("opswatch: --config needs a file");
            return Optional.empty();
          }
          file = Optional.of(Path.of(args[++i]));
        }
        case "--check-config" -> { }
        default -> {
          err.println("opswatch: unknown argument " + args[i] + " (try --help)");
          return Optional.empty();
        }
      }
    }
    try {
      ExporterConfig config = ConfigLoader.load(file, env);
      // The quota, incident and probe sections validate here too, so --check-config sees them.
      FeatureConfigs.parse(config, env);
      dev.opswatch.exporter.http.HttpSettings.parse(config);
      return Optional.of(config);
    } catch (ConfigException e) {
      err.println("opswatch: config error: " + ConfigErrors.oneLine(e));
      return Optional.empty();
    } catch (RuntimeException e) {
      // A bug in validation must still end in one line and exit code 2, not a stack trace.
      err.println("opswatch: config error: " + e.getClass().getSimpleName() + ": "
          + dev.opswatch.exporter.config.UrlMask.mask(String.valueOf(e.getMessage()).replace('\n', ' ')));
      return Optional.empty();
    }
  }

  /** Logging to stderr, with timestamps. */
  private static void configureJdk() {
    setDefault("org.slf4j.simpleLogger.defaultLogLevel",
        Optional.ofNullable(System.getenv("OPSWATCH_LOG_LEVEL")).orElse("info"));
    setDefault("org.slf4j.simpleLogger.showDateTime", "true");
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    setDefault("org.slf4j.simpleLogger.log.com.zaxxer.hikari", "warn");
  }

  static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
