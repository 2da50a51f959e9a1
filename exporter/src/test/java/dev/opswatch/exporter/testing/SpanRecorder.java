package dev.opswatch.exporter.testing;

import dev.opswatch.exporter.db.Timestamps;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A connection that records, for every query it runs, the time span its parameters bind: the first
 * two timestamp parameters, as "from..to" in UTC instants. It shows which rows a refresh asked the
 * database for, without a statistics extension.
 */
public final class SpanRecorder {
  private final List<String> spans = new ArrayList<>();

  public Connection wrap(Connection connection) {
    return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
        (proxy, method, args) -> {
          Object result = invoke(connection, method, args);
          return result instanceof PreparedStatement statement && method.getName().equals("prepareStatement")
              ? statement(statement)
              : result;
        });
  }

  private PreparedStatement statement(PreparedStatement statement) {
    Map<Integer, Instant> times = new TreeMap<>();
    InvocationHandler handler = (proxy, method, args) -> {
      if (method.getName().equals("setObject") && args[1] instanceof LocalDateTime t) {
        times.put((Integer) args[0], Timestamps.instant(t));
      }
      if (method.getName().equals("executeQuery")) {
        List<Instant> bound = new ArrayList<>(times.values());
        synchronized (spans) {
          spans.add(bound.size() >= 2 ? bound.get(0) + ".." + bound.get(1) : "no span");
        }
      }
      return invoke(statement, method, args);
    };
    return (PreparedStatement) Proxy.newProxyInstance(
        PreparedStatement.class.getClassLoader(), new Class<?>[] {PreparedStatement.class}, handler);
  }

  private static Object invoke(Object target, Method method, Object[] args) throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** The spans recorded since the last call, in order; then forgets them. */
  public List<String> take() {
    synchronized (spans) {
      List<String> taken = List.copyOf(spans);
      spans.clear();
      return taken;
    }
  }

  public static String span(Instant from, Instant to) {
    return from + ".." + to;
  }
}
