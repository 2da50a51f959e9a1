package dev.opswatch.exporter.http;

import dev.opswatch.exporter.config.ExporterConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Accepts connections and gives each a thread of its own, which reads its requests and writes
 * its responses ({@link Connection}). This is why a slow client delays no one else: it holds only
 * its own thread, blocked in a read, until its request-header deadline closes it; no shared worker
 * waits on a client's bytes, and no request waits in a queue behind another connection's.
 *
 * <p>The threads come from a standard {@link ThreadPoolExecutor} with a {@link SynchronousQueue}
 * (core 1, max = the connection limit), as client_java's and jmx_exporter's servers build theirs:
 * a thread starts only when none is idle, and idle ones end after 30 s. It never queues and never
 * rejects, because {@link ConnectionLimits} admits no more connections than it has threads; one
 * over the total or over its address's share is closed at accept. (bench/http-pool has the
 * measurement that retired the custom grow-first pool this replaced.)
 */
final class HttpListener implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(HttpListener.class);
  private static final long REFUSAL_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final ServerSocket serverSocket;
  private final Connection.Handler handler;
  private final ExporterConfig.ClientLimits configured;
  private final ConnectionLimits limits;
  private final ThreadPoolExecutor threads;
  private final ScheduledThreadPoolExecutor deadlines;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private final AtomicLong refused = new AtomicLong();
  private volatile long lastRefusalLog = System.nanoTime() - REFUSAL_LOG_INTERVAL_NANOS;
  private volatile boolean closing;

  HttpListener(ServerSocket serverSocket, ExporterConfig.ClientLimits configured, Connection.Handler handler) {
    this.serverSocket = serverSocket;
    this.configured = configured;
    this.handler = handler;
    this.limits = new ConnectionLimits(configured.maxConnections(), configured.maxConnectionsPerAddress());
    this.threads = new ThreadPoolExecutor(1, configured.maxConnections(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
        daemon("http"), new ThreadPoolExecutor.AbortPolicy());
    this.threads.allowCoreThreadTimeOut(true);
    this.deadlines = new ScheduledThreadPoolExecutor(1, daemon("http-deadlines"));
    this.deadlines.setRemoveOnCancelPolicy(true);
    this.acceptor = daemon("http-accept").newThread(this::acceptLoop);
    acceptor.start();
  }

  InetSocketAddress address() {
    return (InetSocketAddress) serverSocket.getLocalSocketAddress();
  }

  private void acceptLoop() {
    while (!closing) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (!closing) {
          log.warn("accept failed: {}", e.toString());
          pause();
        }
        continue;
      }
      long acceptedNanos = System.nanoTime();
      InetAddress client = socket.getInetAddress();
      if (!limits.acquire(client)) {
        closeQuietly(socket);
        logRefusal(client);
        continue;
      }
      open.add(socket);
      try {
        threads.execute(new Connection(socket, acceptedNanos, this));
      } catch (RejectedExecutionException e) {
        // Only while closing: the pool has a thread for every admitted connection.
        connectionEnded(socket);
      }
    }
  }

  /** Closes {@code socket} at {@code nanoTime}, unless cancelled first. */
  ScheduledFuture<?> closeAt(Socket socket, long nanoTime) {
    return deadlines.schedule(() -> closeQuietly(socket), Math.max(0, nanoTime - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  Connection.Handler handler() {
    return handler;
  }

  Duration requestHeaderTimeout() {
    return configured.requestHeaderTimeout();
  }

  boolean closing() {
    return closing;
  }

  void connectionEnded(Socket socket) {
    closeQuietly(socket);
    if (open.remove(socket)) {
      limits.release(socket.getInetAddress());
    }
  }

  int openConnections() {
    return limits.total();
  }

  private void logRefusal(InetAddress client) {
    long count = refused.incrementAndGet();
    long now = System.nanoTime();
    // At most one line a minute: a flood of refusals must not become a flood of log lines.
    if (now - lastRefusalLog >= REFUSAL_LOG_INTERVAL_NANOS) {
      lastRefusalLog = now;
      log.warn("refused a connection from {} ({} open from it, {} in all; limits {} per address, {} in all); {} refused since start",
          client.getHostAddress(), limits.open(client), limits.total(), configured.maxConnectionsPerAddress(), configured.maxConnections(), count);
    }
  }

  private static void pause() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing is all we wanted.
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    closing = true;
    try {
      serverSocket.close();
    } catch (IOException ignored) {
      // Already closed.
    }
    for (Socket socket : open) {
      connectionEnded(socket);
    }
    threads.shutdownNow();
    deadlines.shutdownNow();
    try {
      acceptor.join(2000);
      threads.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
