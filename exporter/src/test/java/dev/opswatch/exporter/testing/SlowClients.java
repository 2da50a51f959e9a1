package dev.opswatch.exporter.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Slow-loris clients: each opens a connection from one of the given loopback addresses, sends the
 * start of a request and then trickles its headers one byte at a time, never finishing them. When
 * the server closes one, it connects again, as an attacker would. One thread drives them all, so
 * that they cost the machine little CPU. Linux routes all of 127.0.0.0/8 to the loopback device.
 */
public final class SlowClients implements AutoCloseable {
  private static final byte[] START = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);

  private final int port;
  private final List<InetAddress> sources;
  private final Socket[] sockets;
  private final long byteIntervalMillis;
  private final int connectsPerRound;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong closedByServer = new AtomicLong();
  private final Thread driver;

  /**
   * @param count clients, spread evenly over {@code sources}
   * @param byteIntervalMillis each client sends one more header byte this often
   */
  public SlowClients(int port, int count, List<InetAddress> sources, long byteIntervalMillis) {
    this(port, count, sources, byteIntervalMillis, Math.max(1, count / 10));
  }

  /** @param connectsPerRound at most this many (re)connects per round of {@code byteIntervalMillis} */
  public SlowClients(int port, int count, List<InetAddress> sources, long byteIntervalMillis, int connectsPerRound) {
    this.connectsPerRound = connectsPerRound;
    this.port = port;
    this.sources = List.copyOf(sources);
    this.sockets = new Socket[count];
    this.byteIntervalMillis = byteIntervalMillis;
    this.driver = new Thread(this::drive, "slow-clients");
    driver.setDaemon(true);
    driver.start();
  }

  /** 127.0.0.{first} .. 127.0.0.{first + n - 1}. */
  public static List<InetAddress> loopbackAddresses(int first, int n) {
    List<InetAddress> addresses = new ArrayList<>();
    for (int i = first; i < first + n; i++) {
      try {
        addresses.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) i}));
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return addresses;
  }

  private void drive() {
    // By default at most a tenth of the clients (re)connect per round, 400 a second for 400 clients
    // every 100 ms: an attack that keeps its connections up, without a connect storm synchronised by
    // the server's deadline, which would measure the test's own socket churn rather than the server.
    while (running.get()) {
      long roundStart = System.nanoTime();
      int connectsLeft = connectsPerRound;
      for (int i = 0; i < sockets.length && running.get(); i++) {
        Socket s = sockets[i];
        try {
          if (s == null) {
            if (connectsLeft-- <= 0) {
              continue;
            }
            sockets[i] = open(sources.get(i % sources.size()));
          } else {
            s.getOutputStream().write('a');
          }
        } catch (IOException e) {
          // Closed by the server (deadline or limit): connect again next round.
          if (s != null) {
            closedByServer.incrementAndGet();
            close(s);
          }
          sockets[i] = null;
        }
      }
      long sleep = byteIntervalMillis - (System.nanoTime() - roundStart) / 1_000_000;
      if (sleep > 0) {
        try {
          Thread.sleep(sleep);
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private Socket open(InetAddress source) throws IOException {
    Socket s = new Socket();
    try {
      s.bind(new InetSocketAddress(source, 0));
      s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
      s.setTcpNoDelay(true);
      s.getOutputStream().write(START);
      connects.incrementAndGet();
      return s;
    } catch (IOException e) {
      close(s);
      throw e;
    }
  }

  /** Currently connected (as far as this side knows). */
  public int connected() {
    int n = 0;
    for (Socket s : sockets) {
      if (s != null) {
        n++;
      }
    }
    return n;
  }

  public long connects() {
    return connects.get();
  }

  public long closedByServer() {
    return closedByServer.get();
  }

  private static void close(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // Gone already.
    }
  }

  @Override
  public void close() {
    running.set(false);
    driver.interrupt();
    try {
      driver.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Socket s : sockets) {
      if (s != null) {
        close(s);
      }
    }
  }
}
