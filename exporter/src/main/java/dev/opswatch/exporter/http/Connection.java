package dev.opswatch.exporter.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import dev.opswatch.exporter.config.UrlMask;
import javax.net.ssl.SSLSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection on its own thread: read a request head within the deadline, hand the
 * whole request to the handler, write the response, and again while the client keeps the
 * connection alive.
 *
 * <p>Deadlines: the first request's head (and, with TLS, the handshake) must be complete within
 * {@code request-header-timeout} of the accept; a later request's head within that time of its
 * first byte, which may come up to {@link #IDLE_MILLIS} after the previous response. A response
 * must be taken by the client within {@link #RESPONSE_MILLIS}. Only waiting for the client counts:
 * bytes that arrived in time are served however late this thread gets to them, and time with the
 * handler never counts (the JDK server's {@code maxReqTime} counted both, and closed requests that
 * had arrived whole but waited for a worker on a busy machine: issue #12). A TLS handshake, which
 * a read timeout cannot bound (it may be trickled a byte at a time), has a watchdog that closes
 * the socket at the first head's deadline.
 */
final class Connection implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);
  static final int IDLE_MILLIS = 30_000;
  static final int RESPONSE_MILLIS = 30_000;

  /** Fills in the response of a complete request; never throws for a client's mistake. */
  interface Handler {
    void handle(BufferedExchange exchange) throws IOException;
  }

  private final Socket socket;
  private final long acceptedNanos;
  private final HttpListener listener;

  Connection(Socket socket, long acceptedNanos, HttpListener listener) {
    this.socket = socket;
    this.acceptedNanos = acceptedNanos;
    this.listener = listener;
  }

  @Override
  public void run() {
    try {
      serve();
    } catch (IOException e) {
      // The client left, or a deadline closed the socket: nothing to answer.
    } finally {
      listener.connectionEnded(socket);
    }
  }

  private void serve() throws IOException {
    socket.setTcpNoDelay(true);
    long headerNanos = listener.requestHeaderTimeout().toNanos();
    RequestHead.Input in = new RequestHead.Input(socket.getInputStream(), 4096);
    OutputStream out = socket.getOutputStream();
    long headStartNanos = acceptedNanos;
    if (socket instanceof SSLSocket tls) {
      handshake(tls, acceptedNanos + headerNanos);
    }
    while (!listener.closing()) {
      if (headStartNanos < 0) {
        // Kept alive: wait for the next request's first byte, then its head has the usual time.
        if (!awaitFirstByte(in)) {
          return;
        }
        headStartNanos = System.nanoTime();
      }
      RequestHead head;
      BufferedExchange exchange;
      boolean close;
      try {
        head = RequestHead.read(in, socket, headStartNanos + headerNanos);
      } catch (RequestHead.Malformed e) {
        write(out, Responses.plain(e.status, e.getMessage()));
        return;
      }
      if (head == null) {
        return;
      }
      close = !head.keepAlive() || head.hasBody() || listener.closing();
      exchange = new BufferedExchange(head, socket);
      if (head.hasBody()) {
        // GET and HEAD only: a body is never read, so the connection cannot carry another request.
        Responses.text(exchange, 413, "request bodies are not accepted\n");
      } else {
        handle(exchange);
      }
      write(out, exchange.encode(close));
      if (close) {
        return;
      }
      headStartNanos = -1;
    }
  }

  private void handle(BufferedExchange exchange) throws IOException {
    try {
      listener.handler().handle(exchange);
      if (!exchange.responded()) {
        throw new IllegalStateException("handler sent no response");
      }
    } catch (IOException | RuntimeException e) {
      // A handler bug costs one request: answer 500 with a fresh exchange (the first may hold half a response).
      log.warn("{} {} failed: {}", exchange.getRequestMethod(), exchange.getRequestURI().getPath(), UrlMask.mask(e.toString()));
      BufferedExchange failed = exchange.afresh();
      Responses.text(failed, 500, "internal error\n");
      write(socket.getOutputStream(), failed.encode(true));
      throw new IOException("closed after a handler error", e);
    }
  }

  private void handshake(SSLSocket tls, long deadlineNanos) throws IOException {
    ScheduledFuture<?> watchdog = listener.closeAt(socket, deadlineNanos);
    try {
      tls.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
      tls.startHandshake();
    } finally {
      watchdog.cancel(false);
    }
  }

  /** False when the client closed the connection or stayed idle too long. */
  private boolean awaitFirstByte(RequestHead.Input in) throws IOException {
    socket.setSoTimeout(IDLE_MILLIS);
    in.mark(1);
    try {
      if (in.read() < 0) {
        return false;
      }
    } catch (SocketTimeoutException e) {
      return false;
    }
    in.reset();
    return true;
  }

  private void write(OutputStream out, byte[] response) throws IOException {
    write(out, BufferedExchange.Wire.of(response));
  }

  private void write(OutputStream out, BufferedExchange.Wire response) throws IOException {
    ScheduledFuture<?> deadline = listener.closeAt(socket, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RESPONSE_MILLIS));
    try {
      response.writeTo(out);
      out.flush();
    } finally {
      deadline.cancel(false);
    }
  }
}
