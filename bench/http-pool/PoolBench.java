import com.sun.net.httpserver.HttpServer;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Issue #15 item 8: the exporter's former custom HTTP pool (http/WorkerPool, "grow only while all are
 * busy, then queue") against a standard ThreadPoolExecutor (core 1, max N, SynchronousQueue, a
 * rejection policy that waits for a free thread), as client_java's HTTPServer builds it, both as the
 * executor of the JDK HttpServer the exporter used. Same server, same 30 KB body, same clients; runs
 * alternate (ABBA) so that drift of a busy machine hits both alike.
 *
 *   java bench/http-pool/PoolBench.java [seconds-per-run] [rounds]
 *
 * Prints one JSON object per run and a summary with the ratios (WorkerPool / standard).
 */
public class PoolBench {
  static final int MAX_THREADS = 32;
  static final byte[] BODY = "x".repeat(30 * 1024).getBytes(StandardCharsets.US_ASCII);

  public static void main(String[] args) throws Exception {
    System.setProperty("sun.net.httpserver.maxReqTime", "5");
    System.setProperty("sun.net.httpserver.nodelay", "true");
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    List<String> order = new ArrayList<>();
    for (int i = 0; i < rounds; i++) {
      order.addAll(i % 2 == 0 ? List.of("worker-pool", "standard") : List.of("standard", "worker-pool"));
    }
    // Warm-up (JIT), not reported.
    run("worker-pool", 8, 2);
    run("standard", 8, 2);
    List<Result> results = new ArrayList<>();
    for (int clients : new int[] {8, 64}) {
      for (String pool : order) {
        Result r = run(pool, clients, seconds);
        results.add(r);
        System.out.println(r.json());
      }
    }
    for (int clients : new int[] {8, 64}) {
      Result a = mean(results, "worker-pool", clients);
      Result b = mean(results, "standard", clients);
      System.out.printf(Locale.ROOT, "SUMMARY clients=%d worker-pool/standard: throughput %.2f, p50 %.2f, p99 %.2f, threads %.2f%n",
          clients, a.perSecond / b.perSecond, a.p50 / b.p50, a.p99 / b.p99, a.threads / b.threads);
    }
  }

  record Result(String pool, int clients, double perSecond, double p50, double p99, double threads) {
    String json() {
      return String.format(Locale.ROOT, "{\"pool\":\"%s\",\"clients\":%d,\"requests_per_second\":%.0f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"largest_pool\":%.0f}",
          pool, clients, perSecond, p50, p99, threads);
    }
  }

  static Result mean(List<Result> all, String pool, int clients) {
    List<Result> mine = all.stream().filter(r -> r.pool.equals(pool) && r.clients == clients).toList();
    return new Result(pool, clients, mine.stream().mapToDouble(Result::perSecond).average().orElseThrow(),
        mine.stream().mapToDouble(Result::p50).average().orElseThrow(), mine.stream().mapToDouble(Result::p99).average().orElseThrow(),
        mine.stream().mapToDouble(Result::threads).average().orElseThrow());
  }

  static Result run(String poolName, int clients, int seconds) throws Exception {
    ThreadPoolExecutor pool = poolName.equals("worker-pool") ? workerPool(MAX_THREADS, 1024) : standard(MAX_THREADS);
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(pool);
    server.createContext("/metrics", exchange -> {
      exchange.sendResponseHeaders(200, BODY.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(BODY);
      }
    });
    server.start();
    int port = server.getAddress().getPort();
    List<List<Long>> latencies = new ArrayList<>();
    CountDownLatch done = new CountDownLatch(clients);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    for (int c = 0; c < clients; c++) {
      List<Long> mine = new ArrayList<>();
      latencies.add(mine);
      Thread t = new Thread(() -> {
        try {
          scrapeUntil(port, end, mine);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        } finally {
          done.countDown();
        }
      });
      t.setDaemon(true);
      t.start();
    }
    done.await();
    double threads = pool.getLargestPoolSize();
    server.stop(0);
    pool.shutdownNow();
    List<Long> all = new ArrayList<>();
    latencies.forEach(all::addAll);
    Collections.sort(all);
    return new Result(poolName, clients, all.size() / (double) seconds, all.get(all.size() / 2) / 1e6,
        all.get((int) Math.ceil(all.size() * 0.99) - 1) / 1e6, threads);
  }

  /** Keep-alive GETs on one connection, as Prometheus scrapes; nanoseconds per request. */
  static void scrapeUntil(int port, long end, List<Long> out) throws IOException {
    byte[] request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setTcpNoDelay(true);
      DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
      while (System.nanoTime() < end) {
        long start = System.nanoTime();
        s.getOutputStream().write(request);
        int length = -1;
        for (String line = line(in); !line.isEmpty(); line = line(in)) {
          if (line.regionMatches(true, 0, "Content-length:", 0, 15)) {
            length = Integer.parseInt(line.substring(15).strip());
          }
        }
        in.readFully(new byte[length]);
        out.add(System.nanoTime() - start);
      }
    }
  }

  static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("closed");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  /** The standard pool: as client_java 1.4.3's HTTPServer (1, N, SynchronousQueue, wait when all are busy). */
  static ThreadPoolExecutor standard(int max) {
    return new ThreadPoolExecutor(1, max, 30, TimeUnit.SECONDS, new SynchronousQueue<>(true), r -> {
      Thread t = new Thread(r, "http");
      t.setDaemon(true);
      return t;
    }, (task, executor) -> {
      try {
        executor.getQueue().put(task);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RejectedExecutionException(e);
      }
    });
  }

  /** The former exporter/src/main/java/dev/opswatch/exporter/http/WorkerPool.java, unchanged in substance. */
  static ThreadPoolExecutor workerPool(int max, int queueCapacity) {
    GrowFirstQueue queue = new GrowFirstQueue(queueCapacity);
    ThreadPoolExecutor pool = new ThreadPoolExecutor(1, max, 30, TimeUnit.SECONDS, queue, r -> {
      Thread t = new Thread(r, "http");
      t.setDaemon(true);
      return t;
    }, (task, executor) -> {
      if (executor.isShutdown() || !queue.enqueue(task)) {
        throw new RejectedExecutionException("HTTP queue full");
      }
    });
    pool.allowCoreThreadTimeOut(true);
    queue.pool = pool;
    return pool;
  }

  static final class GrowFirstQueue extends LinkedBlockingQueue<Runnable> {
    volatile ThreadPoolExecutor pool;

    GrowFirstQueue(int capacity) {
      super(capacity);
    }

    @Override
    public boolean offer(Runnable task) {
      ThreadPoolExecutor p = pool;
      if (p != null && p.getActiveCount() >= p.getPoolSize() && p.getPoolSize() < p.getMaximumPoolSize()) {
        return false;
      }
      return super.offer(task);
    }

    boolean enqueue(Runnable task) {
      return super.offer(task);
    }
  }
}
