package dev.opswatch.exporter.quota;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.db.Database;
import dev.opswatch.exporter.db.RejectedRows;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import dev.opswatch.exporter.testing.Exposition;
import dev.opswatch.exporter.testing.TestConfigs;
import dev.opswatch.exporter.testing.TestDatabase;
import java.time.Instant;
import java.util.Map;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The guard before {@code metadata::jsonb}: PostgreSQL's own cast is the judge. Every text the
 * regular expression lets through must cast; what the app writes must get through.
 */
class CallMetadataIT {
  private static TestDatabase db;

  @BeforeAll
  static void start() {
    db = TestDatabase.create(false);
    db.execute("""
        CREATE FUNCTION castable(t text) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN PERFORM t::jsonb; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$
        """);
  }

  @AfterAll
  static void stop() {
    if (db != null) {
      db.close();
    }
  }

  @Test
  void whatTheAppWritesIsCastInSql() throws Exception {
    for (String metadata : List.of(
        "{\"success\":true,\"latencyMs\":120}",
        "{\"success\":false,\"latencyMs\":812,\"errorCode\":\"RATE_LIMITED\"}",
        "{\"success\":false,\"latencyMs\":1.5e3,\"errorCode\":\"quota \\\"exceeded\\\" \\u00e9 \\ud83d\\ude00\"}",
        "{}", " { \"a\" : null } ")) {
      assertEquals(List.of(true, true), judge(metadata), metadata);
    }
    // The app's JSON.stringify output takes the cheap test; the rest the full one.
    for (String metadata : List.of(
        "{\"success\":true,\"latencyMs\":120}", "{\"success\":false,\"latencyMs\":812,\"errorCode\":\"RATE_LIMITED\"}",
        "{\"success\":false,\"latencyMs\":812.25,\"errorCode\":\"quota exceeded é\",\"tokens\":null}", "{}")) {
      assertTrue(plain(metadata), metadata);
    }
    for (String metadata : List.of("{\"success\":false,\"latencyMs\":1.5e3}", " { \"a\" : null } ", "{\"a\":\"\\u00e9\"}",
        "{\"a\":01}", "{\"a\":\"x\"", "{\"a\":\"tab\there\"}", "{\"a\":" + "9".repeat(CallMetadata.PLAIN_MAX_BYTES) + "}")) {
      assertFalse(plain(metadata), metadata.length() > 100 ? "a number too long for the plain test" : metadata);
    }
    String longNumber = "{\"a\":" + "9".repeat(CallMetadata.PLAIN_MAX_BYTES - 10) + "." + "5".repeat(3) + "}";
    assertTrue(plain(longNumber), "the longest number the plain test lets through");
    assertEquals(List.of(false, true), judge(longNumber), "jsonb casts it (the full test refuses more than 100 digits)");
  }

  @Test
  void nothingTheCastRefusesGetsThrough() throws Exception {
    List<String> samples = new ArrayList<>(List.of(
        "not json", "{bad}", "{\"a\":1,}", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}",
        "{\"a\":\"x\\qy\"}", "{\"a\":\"line\nbreak\"}", "{\"a\":01}", "{\"a\":1e999999}", "{\"a\":.5}", "{\"a\":tru}",
        "{\"a\":1}\f", "{\"a\":NaN}", "{\"a\":1}{\"b\":2}", "{\"a\" \"b\"}", "{\"a\":-}", "{\"a\":1.}", ""));
    // Thousands of flat objects, half of them with one character changed, dropped or added.
    Random random = new Random(20260315);
    for (int i = 0; i < 4000; i++) {
      String object = flatObject(random);
      samples.add(random.nextBoolean() ? object : mutate(object, random));
    }
    try (Connection c = db.connect()) {
      try (var s = c.createStatement()) {
        s.execute("CREATE TEMP TABLE samples (t text)");
      }
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO samples VALUES (?)")) {
        for (String sample : samples) {
          insert.setString(1, sample);
          insert.addBatch();
        }
        insert.executeBatch();
      }
      try (PreparedStatement check = c.prepareStatement("""
          SELECT COUNT(*) FILTER (WHERE t ~ ?) AS matched,
                 COUNT(*) FILTER (WHERE castable(t)) AS valid,
                 string_agg(t, ' | ') FILTER (WHERE t ~ ? AND NOT castable(t)) AS refused,
                 COUNT(*) FILTER (WHERE %1$s) AS plain,
                 string_agg(t, ' | ') FILTER (WHERE %1$s AND NOT castable(t)) AS plain_refused
          FROM samples
          """.formatted(CallMetadata.PLAIN_SQL.replace("metadata", "t").replace(":plain_object", "?")))) {
        check.setString(1, CallMetadata.FLAT_OBJECT_REGEX);
        check.setString(2, CallMetadata.FLAT_OBJECT_REGEX);
        check.setString(3, CallMetadata.PLAIN_OBJECT_REGEX);
        check.setString(4, CallMetadata.PLAIN_OBJECT_REGEX);
        try (ResultSet rs = check.executeQuery()) {
          rs.next();
          assertEquals(null, rs.getString("refused"), "the regex lets through text the cast refuses");
          assertEquals(null, rs.getString("plain_refused"), "the plain test lets through text the cast refuses");
          assertTrue(rs.getLong("plain") > 100, "the sample exercises the plain test (" + rs.getLong("plain") + " matched)");
          assertTrue(rs.getLong("matched") > 500, "the sample exercises the regex (" + rs.getLong("matched") + " matched)");
          assertTrue(rs.getLong("valid") < samples.size() - 1000, "and the cast refuses many samples");
        }
      }
    }
  }

  /**
   * Issue #19 item 7: in a SQL_ASCII database, jsonb refuses a {@code \\u00fc} escape ("conversion
   * between UTF8 and SQL_ASCII is not supported"), which took the whole quotas source down. Now that
   * row is a bad row and the others count as before.
   */
  @Test
  void aNonAsciiEscapeInASqlAsciiDatabaseIsABadRowNotAnOutage() throws Exception {
    try (TestDatabase ascii = TestDatabase.createWithEncoding("SQL_ASCII")) {
      ExporterConfig config = TestConfigs.forDatabase(ascii, "opswatch.quotas.error-window = 15m\n");
      try (Database database = new Database(config.database())) {
        Source<?> slow = QuotaSource.create(config, database).stream()
            .filter(s -> s.name().equals(QuotaSource.SLOW)).findFirst().orElseThrow();
        Instant now = Instant.now();
        insertCall(ascii, "{\"success\":false,\"errorCode\":\"gr\\u00fc\\u00df\"}", now.minusSeconds(60));
        insertCall(ascii, "{\"success\":false,\"errorCode\":\"RATE_LIMITED\"}", now.minusSeconds(60));
        insertCall(ascii, "{\"success\":true,\"note\":\"a\\\\u00fc is no escape\"}", now.minusSeconds(60));
        try (Connection c = ascii.connect(); var s = c.createStatement()) {
          assertThrows(java.sql.SQLException.class,
              () -> s.executeQuery("SELECT '{\"a\":\"\\u00fc\"}'::jsonb"), "the database really refuses the cast");
        }
        SourceOutput<?> output = assertDoesNotThrow(() -> slow.refresh(now));
        assertEquals(Map.of(RejectedRows.BAD_METADATA, 1L), output.rejectedRows());
        Exposition metrics = Exposition.of(output.metrics());
        assertEquals(1, metrics.value("opswatch_external_calls", "provider", "brave_search", "outcome", "failure"));
        assertEquals(2, metrics.value("opswatch_external_calls", "provider", "brave_search", "outcome", "success"));
      }
    }
  }

  private static void insertCall(TestDatabase target, String metadata, Instant at) throws Exception {
    try (Connection c = target.connect(); PreparedStatement s = c.prepareStatement(
        "INSERT INTO \"TelemetryEvent\" (id, \"eventId\", \"timestamp\", category, action, label, value, metadata, \"sessionId\")"
            + " VALUES (?, ?, ?, 'external_api', 'search', 'brave_search', 1, ?, 'system')")) {
      String id = java.util.UUID.randomUUID().toString();
      s.setString(1, id);
      s.setString(2, "ext_" + id);
      s.setObject(3, java.time.LocalDateTime.ofInstant(at, java.time.ZoneOffset.UTC));
      s.setString(4, metadata);
      s.executeUpdate();
    }
  }

  private static final String[] STRING_PARTS = {
      "a", "success", "é", " ", "\\\"", "\\\\", "\\/", "\\n", "\\u00e9", "\\u0000", "\\ud83d\\ude00", "\\ud83d", "\\ude00",
      "\\q", "\t", "\u0001"};
  private static final String[] VALUES = {
      "true", "false", "null", "0", "-1", "12.5", "1.5e3", "-0.5E+10", "01", "1.", ".5", "1e999999", "NaN", "tru", "-"};

  private static String flatObject(Random random) {
    StringBuilder s = new StringBuilder("{");
    int members = random.nextInt(4);
    for (int m = 0; m < members; m++) {
      if (m > 0) {
        s.append(random.nextBoolean() ? "," : ", ");
      }
      s.append(string(random)).append(random.nextBoolean() ? ":" : " : ");
      s.append(random.nextInt(3) == 0 ? string(random) : VALUES[random.nextInt(VALUES.length)]);
    }
    return s.append('}').toString();
  }

  private static String string(Random random) {
    StringBuilder s = new StringBuilder("\"");
    for (int i = random.nextInt(4); i > 0; i--) {
      s.append(STRING_PARTS[random.nextInt(STRING_PARTS.length)]);
    }
    return s.append('"').toString();
  }

  private static String mutate(String text, Random random) {
    String alphabet = "{}[]\":,\\u0dDe8E+-.1 9tfnl\n";
    int at = random.nextInt(text.length());
    char ch = alphabet.charAt(random.nextInt(alphabet.length()));
    return switch (random.nextInt(3)) {
      case 0 -> text.substring(0, at) + ch + text.substring(at + 1);
      case 1 -> text.substring(0, at) + text.substring(at + 1);
      default -> text.substring(0, at) + ch + text.substring(at);
    };
  }

  private static boolean plain(String text) throws Exception {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement(
        "SELECT " + CallMetadata.PLAIN_SQL.replace(":plain_object", "?") + " FROM (SELECT CAST(? AS text) AS metadata) m")) {
      s.setString(1, CallMetadata.PLAIN_OBJECT_REGEX);
      s.setString(2, text);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** [matches the regex, casts to jsonb]. */
  private static List<Boolean> judge(String text) throws Exception {
    try (Connection c = db.connect(); PreparedStatement s = c.prepareStatement("SELECT ? ~ ?, castable(?)")) {
      s.setString(1, text);
      s.setString(2, CallMetadata.FLAT_OBJECT_REGEX);
      s.setString(3, text);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return List.of(rs.getBoolean(1), rs.getBoolean(2));
      }
    }
  }
}
