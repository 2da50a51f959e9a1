package dev.opswatch.exporter.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Scrape latencies as Prometheus sees them: sequential GETs of /metrics on one kept-alive connection. */
public final class ScrapeTimer {
  private ScrapeTimer() {}

  /**
   * {@code n} sequential scrapes on one kept-alive connection, as Prometheus scrapes; milliseconds,
   * sorted. A plain blocking socket, so that the client adds no thread hand-offs of its own to
   * what is measured.
   */
  public static List<Long> latencies(int port, int n, String... headers) throws Exception {
    StringBuilder request = new StringBuilder("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (int i = 0; i + 1 < headers.length; i += 2) {
      request.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
    }
    byte[] bytes = request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    List<Long> millis = new ArrayList<>();
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setTcpNoDelay(true);
      s.setSoTimeout(10_000);
      java.io.DataInputStream in = new java.io.DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
      for (int i = -20; i < n; i++) {
        long start = System.nanoTime();
        s.getOutputStream().write(bytes);
        String status = readLine(in);
        long length = -1;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
          if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
            length = Long.parseLong(line.substring(15).strip());
          }
        }
        in.readFully(new byte[(int) length]);
        if (i >= 0) {
          millis.add((System.nanoTime() - start) / 1_000_000);
        }
        assertTrue(status.startsWith("HTTP/1.1 200"), status);
        Thread.sleep(10);
      }
    }
    java.util.Collections.sort(millis);
    return millis;
  }

  private static String readLine(java.io.DataInputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new java.io.EOFException("connection closed");
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }

  public static long p99(List<Long> sorted) {
    return sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1);
  }

  public static long max(List<Long> sorted) {
    return sorted.get(sorted.size() - 1);
  }

}
