package dev.opswatch.exporter.db;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Turns database text into label values that cannot break the exposition. */
public final class Labels {
  private Labels() {}

  /**
   * Decodes raw column bytes as UTF-8, replacing invalid sequences with U+FFFD. Reading bytes
   * instead of a String matters in SQL_ASCII databases, which hold any bytes: the driver's own
   * decoder would fail the whole query on one bad row.
   */
  public static String utf8OrReplacement(byte[] raw) {
    if (raw == null) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE)
          .decode(ByteBuffer.wrap(raw))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("cannot happen with REPLACE", e);
    }
  }
}
