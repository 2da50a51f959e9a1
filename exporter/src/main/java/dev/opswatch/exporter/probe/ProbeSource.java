package dev.opswatch.exporter.probe;

import dev.opswatch.exporter.config.ExporterConfig;
import dev.opswatch.exporter.refresh.Source;
import dev.opswatch.exporter.refresh.SourceOutput;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code probes} source: every target probed in parallel, at most {@code max-concurrent} at a
 * time. It never gates readiness: the exporter is useful while the app is down, and that is when
 * it matters most. Failures are results, so a refresh itself only fails on a bug.
 */
public final class ProbeSource implements Source<List<ProbeResult>> {
  public static final String NAME = "probes";
  private static final Logger log = LoggerFactory.getLogger(ProbeSource.class);

  private final Duration interval;
  private final ProbeConfig config;
  private final HttpProber prober;
  private final ThreadPoolExecutor executor;
  private final Map<String, String> lastOutcome = new ConcurrentHashMap<>();

  public ProbeSource(ExporterConfig exporter, ProbeConfig config, String userAgent) {
    this(exporter.sources().refreshInterval(NAME, Duration.ofSeconds(30)), config, userAgent);
  }

  public ProbeSource(Duration interval, ProbeConfig config, String userAgent) {
    this.interval = interval;
    this.config = config;
    this.prober = new HttpProber(config, userAgent);
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(config.maxConcurrent(), config.maxConcurrent(), 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "probe-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    executor.allowCoreThreadTimeOut(true);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Duration refreshInterval() {
    return interval;
  }

  @Override
  public boolean gatesReadiness() {
    return false;
  }

  @Override
  public SourceOutput<List<ProbeResult>> refresh(Instant now) throws InterruptedException {
    List<Callable<ProbeResult>> probes = config.targets().stream().<Callable<ProbeResult>>map(t -> () -> prober.probe(t)).toList();
    // OkHttp's call timeout bounds each probe; this bounds the batch should that ever fail.
    int rounds = (probes.size() + config.maxConcurrent() - 1) / config.maxConcurrent();
    long budgetMillis = config.callTimeout().toMillis() * Math.max(1, rounds) + 5000;
    List<Future<ProbeResult>> futures = executor.invokeAll(probes, budgetMillis, TimeUnit.MILLISECONDS);
    List<ProbeResult> results = new ArrayList<>();
    for (int i = 0; i < futures.size(); i++) {
      ProbeTarget target = config.targets().get(i);
      ProbeResult result = resultOf(futures.get(i), target);
      logChange(target, result);
      results.add(result);
    }
    return SourceOutput.of(ProbeMetrics.render(results), List.copyOf(results));
  }

  private ProbeResult resultOf(Future<ProbeResult> future, ProbeTarget target) throws InterruptedException {
    try {
      return future.get();
    } catch (CancellationException e) {
      return new ProbeResult(target.name(), config.callTimeout().toMillis() / 1000.0, 0, Optional.empty(), FailureReason.TIMEOUT);
    } catch (ExecutionException e) {
      log.warn("probe {} failed unexpectedly: {}", target.name(), e.getCause().toString());
      return new ProbeResult(target.name(), 0, 0, Optional.empty(), FailureReason.CONNECT);
    }
  }

  /**
   * Logs when a target's outcome changes (it starts or stops failing, or what did not fit the
   * health contract changes), not on every refresh.
   */
  boolean logChange(ProbeTarget target, ProbeResult result) {
    String outcome = result.reason() + "|" + result.detail();
    String previous = lastOutcome.put(target.name(), outcome);
    if (outcome.equals(previous)) {
      return false;
    }
    String detail = result.detail().isEmpty() ? "" : ": " + result.detail();
    if (result.reason() == FailureReason.NONE) {
      if (previous == null || !previous.startsWith(FailureReason.NONE + "|") || !result.detail().isEmpty()) {
        log.info("probe {}: answering (HTTP {}){}", target.name(), result.httpStatus(), detail);
        return true;
      }
      return false;
    }
    log.warn("probe {}: {} (HTTP {}){}", target.name(), result.reason().label(), result.httpStatus(), detail);
    return true;
  }
}
