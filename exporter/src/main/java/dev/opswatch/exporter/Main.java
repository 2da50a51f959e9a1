package dev.opswatch.exporter;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.config.ConfigErrors;
import dev.opswatch.exporter.config.ConfigLoader;
import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.config.UrlMask;
import dev.opswatch.exporter.db.ConnectionCheck;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar opswatch-exporter.jar [--config FILE] [--check-config [--connect]]}: parse the
 * arguments and the config, start the exporter, stop cleanly on SIGTERM. Exit codes: 0, 1 (cannot
 * listen, or --connect failed), 2 (a mistake in the arguments or the config: one line on stderr).
 */
public final class Main {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILED = 1;
  static final int EXIT_CONFIG = 2;

  /** The exporter {@link #run} started, for the shutdown hook. */
  private static Exporter running;

  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    configureLogging();
    int code = run(args, System.getenv(), System.out, System.err);
    if (code >= 0) {
      System.exit(code);
    }
    // -1: the exporter is running; its threads are daemons, so block until the shutdown hook.
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.close();
      stopped.countDown();
    }, "shutdown"));
    stopped.await();
  }

  /** Runs the command line; returns the exit code, or -1 when the exporter was started and keeps running. */
  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Arguments arguments;
    try {
      arguments = Arguments.parse(args, env);
    } catch (Arguments.Invalid e) {
      err.println("opswatch: " + e.getMessage());
      return EXIT_CONFIG;
    }
    if (arguments.help()) {
      out.println(Arguments.USAGE);
      out.println("Configuration: reference.conf keys, OPSWATCH_* and BUDGET_*_EUR environment variables (see README).");
      return EXIT_OK;
    }
    if (arguments.version()) {
      out.println("opswatch-exporter " + BuildInfo.version());
      return EXIT_OK;
    }
    Optional<ExporterConfig> config = loadConfig(arguments, env, err);
    if (config.isEmpty()) {
      return EXIT_CONFIG;
    }
    if (arguments.checkConfig()) {
      out.println("config ok");
      if (!arguments.connect()) {
        return EXIT_OK;
      }
      ConnectionCheck.Result result = ConnectionCheck.run(config.get().database());
      (result.ok() ? out : err).println(result.ok() ? "database ok: " + result.message() : "opswatch: database: " + result.message());
      return result.ok() ? EXIT_OK : EXIT_FAILED;
    }
    try {
      running = Exporter.start(config.get());
    } catch (IOException e) {
      // The message names the address and port it could not bind.
      err.println("opswatch: " + UrlMask.mask(e.getMessage()));
      return EXIT_FAILED;
    }
    Logger log = LoggerFactory.getLogger(Main.class);
    log.info("opswatch exporter {} listening on {}, database {}", BuildInfo.version(), running.listeningOn(),
        config.get().database().url().masked());
    return -1;
  }

  /** The config, or empty after printing one line that names the key and where it was set. */
  static Optional<ExporterConfig> loadConfig(Arguments arguments, Map<String, String> env, PrintStream err) {
    try {
      return Optional.of(ConfigLoader.load(arguments.configFile(), env));
    } catch (ConfigException e) {
      err.println("opswatch: config error: " + ConfigErrors.oneLine(e));
    } catch (RuntimeException e) {
      // A bug in validation must still end in one line and exit code 2, not a stack trace.
      err.println("opswatch: config error: " + e.getClass().getSimpleName() + ": " + UrlMask.mask(String.valueOf(e.getMessage()).replace('\n', ' ')));
    }
    return Optional.empty();
  }

  /** Logging to stderr, with timestamps. */
  private static void configureLogging() {
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
