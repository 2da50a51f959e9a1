package dev.opswatch.exporter.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

/**
 * A fresh PostgreSQL database with the demo schema, for one test class.
 *
 * <p>Where the server comes from, in order: {@code OPSWATCH_TEST_DATABASE_URL} (an existing server,
 * as CI and {@code scripts/test.sh} provide through a throwaway cluster); else Testcontainers when
 * Docker is available; else the test fails and says how to provide one. It never skips.
 */
public final class TestDatabase implements AutoCloseable {
  private static final String ENV = "OPSWATCH_TEST_DATABASE_URL";

  private final Server server;
  private final String name;

  private TestDatabase(Server server, String name) {
    this.server = server;
    this.name = name;
  }

  /** A new empty database with demo/schema.sql loaded. */
  public static TestDatabase create() {
    return create(true);
  }

  public static TestDatabase create(boolean withSchema) {
    return create(withSchema, "");
  }

  /** A database in another server encoding (e.g. SQL_ASCII, which stores any bytes). */
  public static TestDatabase createWithEncoding(String encoding) {
    return create(true, " ENCODING '" + encoding + "' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
  }

  private static TestDatabase create(boolean withSchema, String options) {
    Server server = Server.get();
    String name = "opswatch_it_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
    try (Connection admin = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
        Statement s = admin.createStatement()) {
      s.execute("CREATE DATABASE " + name + options);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create a test database on " + server.jdbcUrl("postgres") + ": " + e.getMessage(), e);
    }
    TestDatabase db = new TestDatabase(server, name);
    if (withSchema) {
      db.executeFile(repoFile("demo/schema.sql"));
    }
    return db;
  }

  public String name() {
    return name;
  }

  public String host() {
    return server.host();
  }

  public int port() {
    return server.port();
  }

  public String jdbcUrl() {
    return server.jdbcUrl(name);
  }

  /** The app-style URL, {@code postgresql://user:password@host:port/db}, as users configure it. */
  public String appUrl() {
    String credentials = server.user() + (server.password().isEmpty() ? "" : ":" + server.password());
    return "postgresql://" + credentials + "@" + server.host() + ":" + server.port() + "/" + name;
  }

  public String user() {
    return server.user();
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(), server.user(), server.password());
  }

  public void execute(String sql) {
    try (Connection c = connect(); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException("SQL failed: " + e.getMessage() + "\n" + sql, e);
    }
  }

  public void executeFile(Path file) {
    try {
      execute(Files.readString(file));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file, e);
    }
  }

  /** A file of the repository, found from the module directory Maven runs in. */
  public static Path repoFile(String relative) {
    String root = System.getenv("OPSWATCH_REPO_ROOT");
    Path base = root != null ? Path.of(root) : Path.of("..");
    Path file = base.resolve(relative).normalize();
    if (!Files.exists(file)) {
      file = Path.of(relative);
    }
    return file;
  }

  @Override
  public void close() {
    try (Connection admin = DriverManager.getConnection(server.jdbcUrl("postgres"), server.user(), server.password());
        Statement s = admin.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (SQLException e) {
      // Best effort: the throwaway cluster is deleted after the run anyway.
    }
  }

  /** The PostgreSQL server the tests use; one per JVM. */
  record Server(String host, int port, String user, String password) {
    private static Server instance;

    String jdbcUrl(String database) {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    static synchronized Server get() {
      if (instance == null) {
        instance = locate();
      }
      return instance;
    }

    private static Server locate() {
      String url = System.getenv(ENV);
      if (url != null && !url.isBlank()) {
        java.net.URI uri = java.net.URI.create(url.trim());
        String userInfo = uri.getUserInfo() == null ? "postgres" : uri.getUserInfo();
        int colon = userInfo.indexOf(':');
        return new Server(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432,
            colon < 0 ? userInfo : userInfo.substring(0, colon), colon < 0 ? "" : userInfo.substring(colon + 1));
      }
      if (Containers.dockerAvailable()) {
        return Containers.startPostgres();
      }
      throw new IllegalStateException(
          "No PostgreSQL for the integration tests. Run them through scripts/test.sh (it starts a throwaway "
              + "cluster), or set " + ENV + "=postgresql://user@host:port/postgres to a server where the user may "
              + "CREATE DATABASE, or make Docker available for Testcontainers.");
    }
  }

  /** Kept apart so that Testcontainers classes load only when Docker is there. */
  static final class Containers {
    private Containers() {}

    static boolean dockerAvailable() {
      try {
        return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
      } catch (RuntimeException | LinkageError e) {
        return false;
      }
    }

    @SuppressWarnings("resource")
    static Server startPostgres() {
      var container = new org.testcontainers.postgresql.PostgreSQLContainer("postgres:15-alpine");
      container.start();
      Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
      return new Server(container.getHost(), container.getMappedPort(5432), container.getUsername(), container.getPassword());
    }
  }
}
