package dev.opswatch.exporter.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real pgBouncer in transaction pooling mode in front of a test database, as Supabase's pooler
 * on port 6543: with {@code trust}, or with SCRAM and one user's password (the server behind it
 * trusts pgBouncer), so that authentication can fail as it does for an operator.
 */
public final class PgBouncer implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/sbin/pgbouncer");

  private final Process process;
  private final int port;

  private PgBouncer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** @param password null for {@code auth_type = trust}, else SCRAM with this password for the database's user */
  public static PgBouncer start(TestDatabase db, String password) throws IOException {
    assertTrue(Files.isExecutable(BINARY), "pgbouncer is missing: apt-get install pgbouncer (scripts/test.sh does)");
    Path dir = Files.createTempDirectory("pgbouncer");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    int port = freePort();
    Files.writeString(dir.resolve("users.txt"), "\"" + db.user() + "\" \"" + (password == null ? "" : password) + "\"\n");
    Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
        "[databases]",
        "* = host=" + db.host() + " port=" + db.port(),
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        "listen_port = " + port,
        "unix_socket_dir =",
        "auth_type = " + (password == null ? "trust" : "scram-sha-256"),
        "auth_file = " + dir.resolve("users.txt"),
        "pool_mode = transaction",
        "default_pool_size = 2",
        "max_client_conn = 20",
        // pgjdbc sends it at start-up; Supabase's pooler accepts it too.
        "ignore_startup_parameters = extra_float_digits",
        "logfile = " + dir.resolve("pgbouncer.log"),
        ""));
    for (Path f : List.of(dir.resolve("users.txt"), dir.resolve("pgbouncer.ini"))) {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    }
    List<String> command = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      command.addAll(List.of("runuser", "-u", "postgres", "--")); // pgbouncer refuses to run as root
    }
    command.addAll(List.of(BINARY.toString(), dir.resolve("pgbouncer.ini").toString()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(dir.resolve("stdout.log").toFile()).start();
    PgBouncer bouncer = new PgBouncer(process, port);
    Await.until("pgbouncer listening", Duration.ofSeconds(40), bouncer::listening);
    return bouncer;
  }

  public int port() {
    return port;
  }

  private boolean listening() {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return s.isConnected();
    } catch (IOException e) {
      return false;
    }
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
