package dev.opswatch.exporter.cost;

import dev.opswatch.exporter.model.Level;
import dev.opswatch.exporter.model.Thresholds;

/** An amount against a budget: the ratio and its level. */
public record BudgetCheck(double ratio, Level level) {

  public static BudgetCheck of(double amountEur, double budgetEur, Thresholds thresholds) {
    double ratio;
    if (budgetEur > 0) {
      ratio = amountEur / budgetEur;
    } else {
      ratio = amountEur > 0 ? Double.POSITIVE_INFINITY : 0;
    }
    return new BudgetCheck(ratio, Level.of(ratio, thresholds));
  }
}
