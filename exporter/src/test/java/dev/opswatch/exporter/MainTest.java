package dev.opswatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Exit codes and output of the command line, whatever the order of its arguments. */
class MainTest {
  private static final Map<String, String> DB = Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app");

  private record Outcome(int code, String out, String err) {}

  private static Outcome run(String line, Map<String, String> env) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(line.isBlank() ? new String[0] : line.split(" "), env,
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--config /nonexistent.conf --version | opswatch-exporter ",
      "--version --config /nonexistent.conf | opswatch-exporter ",
      "--check-config --help | usage: opswatch-exporter",
      "--help --check-config | usage: opswatch-exporter",
      "--bogus --version | opswatch-exporter ",
  })
  void helpAndVersionExitZeroWhereverTheyStand(String line, String printed) {
    Outcome o = run(line, Map.of());
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().startsWith(printed), o.out());
    assertEquals("", o.err());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "--config | --config needs a file",
      "--bogus | unknown argument --bogus",
      "--connect | --connect goes with --check-config",
      "--check-config --config /nonexistent.conf | does not exist or is not readable",
  })
  void mistakesExitTwoWithOneLine(String line, String message) {
    Outcome o = run(line, DB);
    assertEquals(2, o.code());
    assertTrue(o.err().contains(message), o.err());
    assertEquals(1, o.err().lines().count(), o.err());
  }

  @ParameterizedTest(name = "[{index}] {1}")
  @CsvSource({"'', config ok", "OPSWATCH_HTTP_PORT, config error"})
  void checkConfigSaysOkOrNamesTheMistake(String variable, String expected) {
    Map<String, String> env = variable.isEmpty() ? DB : Map.of("OPSWATCH_DATABASE_URL", "postgresql://app@db/app", variable, "1.5");
    Outcome o = run("--check-config", env);
    assertEquals(variable.isEmpty() ? 0 : 2, o.code(), o.err());
    assertTrue((o.out() + o.err()).contains(expected), o.out() + o.err());
  }
}
