package dev.opswatch.exporter.quota;

import dev.opswatch.exporter.db.RejectedRows;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BinaryOperator;
import java.util.stream.Collectors;

/**
 * Which bad rows one window's query counts as rejected in one refresh: the bad values of the
 * {@code labels} it is the widest window for, and, if {@code nullLabel}, the rows without a label
 * (which only then are read at all).
 */
record RejectedCounting(RejectedRows rejected, Set<String> labels, boolean nullLabel) {

  /**
   * Every window ends now, so for each label the window starting first holds every row of that
   * label the others see: only it counts the label's bad values, and only the widest window of all
   * counts the rows without a label. So no row is counted twice in one refresh.
   */
  static Map<QuotaWindow, RejectedCounting> perWindow(
      List<QuotaDefinition> quotas, Map<QuotaWindow, QuotaWindow.Bounds> boundsByWindow, RejectedRows rejected) {
    Comparator<QuotaWindow> byStart = Comparator.comparing(w -> boundsByWindow.get(w).start());
    QuotaWindow widest = boundsByWindow.keySet().stream().min(byStart).orElse(null);
    Map<String, QuotaWindow> widestByLabel = new HashMap<>();
    quotas.forEach(q -> widestByLabel.merge(q.provider().label(), q.window(), BinaryOperator.minBy(byStart)));
    Map<QuotaWindow, RejectedCounting> counting = new HashMap<>();
    for (QuotaWindow window : boundsByWindow.keySet()) {
      Set<String> labels = widestByLabel.entrySet().stream()
          .filter(e -> e.getValue().equals(window)).map(Map.Entry::getKey).collect(Collectors.toSet());
      counting.put(window, new RejectedCounting(rejected, labels, window.equals(widest)));
    }
    return counting;
  }

  void nullLabelRows(long rows) {
    if (nullLabel) {
      rejected.add(RejectedRows.NULL_LABEL, rows);
    }
  }

  void badValues(String label, long negative, long notFinite) {
    if (labels.contains(label)) {
      rejected.add(RejectedRows.NEGATIVE_VALUE, negative);
      rejected.add(RejectedRows.NOT_FINITE, notFinite);
    }
  }
}
