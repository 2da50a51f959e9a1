package dev.opswatch.exporter.db;

import dev.opswatch.exporter.metrics.Samples;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;

/**
 * The shape of every database-backed source: read a report in one read-only transaction, counting
 * the rows it rejects, then render the report's snapshots on the same (refresh) thread.
 *
 * @param <R> the report: what /metrics renders and the admin API serves
 */
public abstract class DatabaseSource<R> implements Source<R> {
  private final String name;
  private final Duration interval;
  private final Database database;

  protected DatabaseSource(String name, Duration interval, Database database) {
    this.name = name;
    this.interval = interval;
    this.database = database;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Duration refreshInterval() {
    return interval;
  }

  @Override
  public final SourceOutput<R> refresh(Instant now) throws SQLException {
    RejectedRows rejected = new RejectedRows();
    R report = database.readOnly(connection -> read(connection, now, rejected));
    return SourceOutput.of(render(report), report, rejected.asMap());
  }

  /** Reads the report as of {@code now}, inside the transaction. */
  protected abstract R read(Connection connection, Instant now, RejectedRows rejected) throws SQLException;

  protected abstract Samples render(R report);
}
