package dev.opswatch.exporter.metrics;

import java.util.List;

/** Identity comparison of lists of immutable snapshots: the same objects mean the same content. */
public final class Identical {
  private Identical() {}

  /** True when both lists hold the very same objects in the same order. */
  public static boolean elements(List<?> a, List<?> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i)) {
        return false;
      }
    }
    return true;
  }
}
