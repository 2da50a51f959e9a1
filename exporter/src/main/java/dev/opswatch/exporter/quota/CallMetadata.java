package dev.opswatch.exporter.quota;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads whether an external call failed from its metadata, a TEXT column that should hold a JSON
 * object such as {@code {"success":false,"latencyMs":812}} but may hold anything.
 *
 * <p>A {@code ::jsonb} cast of invalid text fails the whole query, and PostgreSQL 15 has no
 * {@code pg_input_is_valid}. So the query casts only text matching {@link #FLAT_OBJECT_REGEX}, a
 * JSON object of scalar values (what the app writes) that the cast is known to accept: unescaped
 * control characters, the escape of NUL, lone surrogates and out-of-range numbers do not match. Any other
 * text is read here with Jackson, row by row: rare, and never a query error.
 */
final class CallMetadata {
  private static final String WS = "[ \\t\\n\\r]*";
  private static final String STRING = "\"([^\"\\\\\\u0001-\\u001f]|\\\\[\"\\\\/bfnrt]"
      + "|\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}"
      + "|\\\\u(?!0000)(?![dD][89a-fA-F])[0-9a-fA-F]{4})*\"";
  private static final String NUMBER = "-?(0|[1-9][0-9]{0,99})(\\.[0-9]{1,100})?([eE][-+]?[0-9]{1,4})?";
  private static final String MEMBER = STRING + WS + ":" + WS + "(" + STRING + "|" + NUMBER + "|true|false|null)" + WS;

  /** A PostgreSQL regular expression: a JSON object whose values are all scalars. */
  static final String FLAT_OBJECT_REGEX = "^" + WS + "\\{" + WS + "(" + MEMBER + "(," + WS + MEMBER + ")*)?\\}" + WS + "$";

  private static final String PLAIN_STRING = "\"[^\"\\\\\\u0001-\\u001f]*\"";
  private static final String PLAIN_MEMBER = "\"[A-Za-z0-9_]+\":(" + PLAIN_STRING + "|-?(0|[1-9][0-9]*)(\\.[0-9]+)?|true|false|null)";

  /**
   * What the app's {@code JSON.stringify} writes: no white space, keys of letters, digits and
   * {@code _}, strings without escapes, numbers without exponent. Matched first, and only on text of
   * at most {@link #PLAIN_MAX_BYTES} (so that no number is too long for jsonb's numeric: 131072
   * digits), because without escapes, lookaheads and bounded repeats it costs a fraction of
   * {@link #FLAT_OBJECT_REGEX}: on 867 rows of the 10M bench data, 3.5 ms against 28 ms.
   */
  static final String PLAIN_OBJECT_REGEX = "^\\{(" + PLAIN_MEMBER + "(," + PLAIN_MEMBER + ")*)?\\}$";
  static final int PLAIN_MAX_BYTES = 8192;

  /** SQL: true where {@code metadata} is plain (see {@link #PLAIN_OBJECT_REGEX}). */
  static final String PLAIN_SQL = "(octet_length(metadata) <= " + PLAIN_MAX_BYTES + " AND metadata ~ :plain_object)";

  /**
   * A {@code \\u} escape above U+007F (an odd number of backslashes before the {@code u}). In a
   * database whose encoding is not UTF8 (SQL_ASCII, LATIN1...), PostgreSQL's jsonb refuses it
   * ("conversion between UTF8 and SQL_ASCII is not supported"), so the cast must not be tried: one
   * such row would fail the whole query. Such a row is a bad row there, as the app's own
   * {@code metadata::jsonb} reads it.
   */
  static final String NON_ASCII_ESCAPE_REGEX =
      "(^|[^\\\\])(\\\\\\\\)*\\\\u(00[89a-fA-F][0-9a-fA-F]|0[1-9a-fA-F][0-9a-fA-F]{2}|[1-9a-fA-F][0-9a-fA-F]{3})";

  /** SQL: true where {@code metadata} holds such an escape and the database cannot cast it. */
  static final String UNCASTABLE_ESCAPE_SQL = "(current_setting('server_encoding') <> 'UTF8' AND metadata ~ :non_ascii_escape)";

  /** Created on first use: most deployments never need it, and Jackson's classes cost ~4 MiB. */
  private static final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  enum Verdict { SUCCEEDED, FAILED, BAD }

  private CallMetadata() {}

  /** As the app's SQL reads it: {@code metadata::jsonb ->> 'success' = 'false'} (boolean or string). */
  static Verdict read(String metadata) {
    if (metadata == null) {
      return Verdict.SUCCEEDED;
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(metadata);
    } catch (JsonProcessingException e) {
      return Verdict.BAD;
    }
    if (node == null || !node.isObject()) {
      return Verdict.BAD;
    }
    JsonNode success = node.get("success");
    boolean failed = success != null && (success.isBoolean() || success.isTextual()) && success.asText().equals("false");
    return failed ? Verdict.FAILED : Verdict.SUCCEEDED;
  }
}
