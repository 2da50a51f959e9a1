package dev.opswatch.exporter.db;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * The one conversion between instants and the app's timestamps: Prisma stores
 * {@code TIMESTAMP without time zone} columns holding UTC.
 */
public final class Timestamps {
  private Timestamps() {}

  /** An instant as the app stores it. */
  public static LocalDateTime utc(Instant instant) {
    return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  /** A stored timestamp as the instant it means. */
  public static Instant instant(LocalDateTime stored) {
    return stored.toInstant(ZoneOffset.UTC);
  }
}
