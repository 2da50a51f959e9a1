package dev.opswatch.exporter.cost;

/** Cost and tokens of one model in the billing period. Token counts are -1 where the table has none. */
public record ModelUsage(String model, double costEur, long tokensInput, long tokensOutput, long tokensCachedInput) {

  public static final long NO_TOKENS = -1;

  public ModelUsage plus(ModelUsage other) {
    return new ModelUsage(
        model,
        costEur + other.costEur,
        add(tokensInput, other.tokensInput),
        add(tokensOutput, other.tokensOutput),
        add(tokensCachedInput, other.tokensCachedInput));
  }

  private static long add(long a, long b) {
    if (a == NO_TOKENS) {
      return b;
    }
    return b == NO_TOKENS ? a : a + b;
  }
}
