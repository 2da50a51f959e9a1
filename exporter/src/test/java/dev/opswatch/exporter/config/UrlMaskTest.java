package dev.opswatch.exporter.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.probe.ProbeConfig;
import dev.opswatch.exporter.testing.TestConfigs;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Issue #19 item 3: no password reaches a log line or an error message, whatever the URL looks like. */
class UrlMaskTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      plain userinfo              | postgresql://app:hunter2@db:5432/app                  | postgresql://app:***@db:5432/app
      unencoded @ in password     | postgresql://app:hun@ter2@db:5432/app                 | postgresql://app:***@db:5432/app
      @ and # in password         | postgresql://app:hu@n#ter2@db:5432/app                | postgresql://app:***@db:5432/app
      / in password               | postgresql://app:hun/ter2@db/app                      | postgresql://app:***@db/app
      scheme typo one slash       | postgresql:/app:hunter2@db/app                        | postgresql:/app:***@db/app
      scheme typo no slash        | postgresql:app:hunter2@db/app                         | postgresql:app:***@db/app
      sslpassword parameter       | jdbc:postgresql://db/app?sslpassword=hunter2&ssl=true | jdbc:postgresql://db/app?sslpassword=***&ssl=true
      password parameter any case | jdbc:postgresql://db/app?user=u&PassWord=hunter2      | jdbc:postgresql://db/app?user=u&PassWord=***
      token parameter             | https://app.example/api/health?access_token=hunter2   | https://app.example/api/health?access_token=***
      probe URL userinfo          | https://ops:hunter2@app.example/api/health            | https://ops:***@app.example/api/health
      IPv6 and host list          | postgresql://app:hunter2@[::1]:5432,db2:5433/app       | postgresql://app:***@[::1]:5432,db2:5433/app
      inside a driver message     | FATAL: cannot reach postgres://app:hunter2@db/app now  | FATAL: cannot reach postgres://app:***@db/app now
      user only                   | postgresql://app@db/app                               | postgresql://app@db/app
      jdbc user only              | jdbc:postgresql://app@db/app                          | jdbc:postgresql://app@db/app
      no scheme at all            | app:hunter2@db:5432/app                               | app:***@db:5432/app
      no host after userinfo      | postgresql://app:hunter2@                             | postgresql://app:***@
      no URL at all               | connection refused (port 5432)                        | connection refused (port 5432)
      """)
  void masksEveryPasswordShape(String name, String text, String expected) {
    assertEquals(expected, UrlMask.mask(text));
  }

  @Test
  void malformedUserinfoIsMaskedWhole() {
    // No colon and characters no user name has: the whole userinfo goes.
    String masked = UrlMask.mask("postgresql://hunter2?x#y@db/app");
    assertFalse(masked.contains("hunter2"), masked);
  }

  @Test
  void passwordWithUnencodedAtAndHashStaysAPassword() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://app:p@ss#w0rd@db.internal:6543/app?sslmode=require");
    assertEquals("jdbc:postgresql://db.internal:6543/app?sslmode=require", url.jdbcUrl(), "the host is the part after the last @");
    assertEquals("app", url.user());
    assertEquals("p@ss#w0rd", url.password());
    assertFalse(url.masked().contains("w0rd"), url.masked());
  }

  @Test
  void sslPasswordStaysInTheJdbcUrlButNeverInItsMaskedForm() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://app:pw@db/app?sslmode=verify-full&sslpassword=k3y-secret&sslkey=/k.pk8");
    assertTrue(url.jdbcUrl().contains("sslpassword=k3y-secret"), "pgjdbc reads it from the URL");
    assertFalse(url.masked().contains("k3y-secret"), url.masked());
    assertTrue(url.masked().contains("sslpassword=***"), url.masked());
    assertFalse(url.toString().contains("k3y-secret"));
  }

  @Test
  void aPercentThatIsNoEscapeIsKeptAndNeverEchoed() {
    DatabaseUrl url = DatabaseUrl.parse("postgresql://app:50%off@db/app");
    assertEquals("50%off", url.password());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      scheme typo one slash | postgresql:/app:hunter2@db/app
      scheme typo no slash  | postgresql:app:hunter2@db/app
      wrong scheme          | mysql://admin:hunter2@db/app
      no host               | postgresql://app:hunter2@
      host cut by a slash   | postgresql://app:hunter2@/app
      fragment after host   | postgresql://app:hunter2@db/app#x
      no scheme at all      | app:hunter2@db:5432/app
      space in password     | postgresql://app:hun ter2@db/app
      """)
  void malformedDatabaseUrlsNeverEchoThePassword(String name, String url) {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(Optional.empty(), Map.of("OPSWATCH_DATABASE_URL", url)));
    assertFalse(e.getMessage().contains("hunter2") || e.getMessage().contains("ter2"), e.getMessage());
    assertTrue(e.getMessage().contains("OPSWATCH_DATABASE_URL"), "names the variable: " + e.getMessage());
  }

  @Test
  void invalidProbeUrlIsMasked() {
    var config = TestConfigs.layered("opswatch.probes.targets.app.url = \"htps://ops:hunter2@app.example/api/health\"", Map.of());
    ConfigException e = assertThrows(ConfigException.class, () -> ProbeConfig.parse(config.getConfig("opswatch"), Map.of()));
    assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
    assertTrue(e.getMessage().contains("probes.targets.app.url"), e.getMessage());
  }
}
