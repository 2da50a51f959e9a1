package dev.opswatch.exporter.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import dev.opswatch.exporter.db.NamedSql;
import dev.opswatch.exporter.model.Thresholds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.TreeSet;

/** The {@code providers} and {@code cost-queries} sections, validated together. */
final class CostConfigParser {
  private static final String PROVIDER_ID = "[a-z][a-z0-9_]*";
  static final Set<String> PROVIDER_KEYS = Set.of(
      "kind", "display-name", "budget-eur", "monthly-fee-eur", "cost-queries", "warning-ratio", "critical-ratio");
  /** Placeholders every cost query gets besides its own keys. */
  private static final Set<String> BUILT_IN = Set.of("period_start", "period_end", "max_row_eur", "model");

  private CostConfigParser() {}

  static Map<String, CostQueryConfig> costQueries(Config c) {
    Map<String, CostQueryConfig> result = new LinkedHashMap<>();
    ConfigObject object = c.getObject("cost-queries");
    for (String name : new TreeSet<>(object.keySet())) {
      String base = "cost-queries." + KnownKeys.quoted(name);
      if (object.get(name).valueType() == ConfigValueType.NULL) {
        continue;
      }
      if (object.get(name).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be an object with sql (or null to remove the query)");
      }
      Config q = c.getConfig(base);
      String sql = q.hasPath("sql") ? ConfigValues.string(c, base + ".sql").strip() : "";
      if (sql.isEmpty()) {
        throw ConfigErrors.badValue(c, base + ".sql", "a cost query needs its SQL");
      }
      Set<String> placeholders = new TreeSet<>(NamedSql.parse(sql).parameterNames());
      Map<String, Object> parameters = new LinkedHashMap<>();
      for (Map.Entry<String, ConfigValue> p : new java.util.TreeMap<>(q.root()).entrySet()) {
        String key = p.getKey();
        if (key.equals("sql") || key.equals("model")) {
          continue;
        }
        String placeholder = key.replace('-', '_');
        if (!placeholders.contains(placeholder)) {
          // A parameter the SQL never uses is a typo of one it does use, or of sql/model.
          Set<String> known = new TreeSet<>(Set.of("sql", "model"));
          placeholders.stream().filter(n -> !BUILT_IN.contains(n)).forEach(n -> known.add(n.replace('_', '-')));
          throw ConfigErrors.badValue(c, base + "." + KnownKeys.quoted(key),
              "is not a known setting: the query's SQL has no :" + placeholder + Nearest.hint(key, known));
        }
        parameters.put(placeholder, p.getValue().unwrapped());
      }
      for (String placeholder : placeholders) {
        if (!BUILT_IN.contains(placeholder) && !parameters.containsKey(placeholder)) {
          throw ConfigErrors.badValue(c, base + ".sql", "uses :" + placeholder + ", which is not set (add "
              + placeholder.replace('_', '-') + " = ... beside sql)");
        }
      }
      String model = q.hasPath("model") ? ConfigValues.string(c, base + ".model") : "";
      result.put(name, new CostQueryConfig(name, sql, model, parameters));
    }
    return result;
  }

  static List<ProviderConfig> providers(Config c, Thresholds defaults, Map<String, CostQueryConfig> queries, double totalBudget) {
    ConfigObject object = c.getObject("providers");
    List<ProviderConfig> providers = new ArrayList<>();
    String remainderProvider = null;
    double allocated = 0;
    for (String id : object.keySet()) {
      if (object.get(id).valueType() == ConfigValueType.NULL) {
        continue;
      }
      String base = "providers." + KnownKeys.quoted(id);
      if (!id.matches(PROVIDER_ID)) {
        throw ConfigErrors.badValue(c, base, "provider id must match " + PROVIDER_ID + " (it becomes a label value)");
      }
      if (object.get(id).valueType() != ConfigValueType.OBJECT) {
        throw ConfigErrors.badValue(c, base, "must be an object (or null to remove the provider)");
      }
      KnownKeys.check(c, base, PROVIDER_KEYS);
      ProviderConfig.Kind kind = kind(c, base, id, object.keySet());
      double fee = kind == ProviderConfig.Kind.FIXED ? ConfigValues.nonNegative(c, base + ".monthly-fee-eur") : 0;
      OptionalDouble budget = OptionalDouble.empty();
      if (c.hasPath(base + ".budget-eur")) {
        ConfigValue value = c.getValue(base + ".budget-eur");
        if (value.valueType() == ConfigValueType.STRING && value.unwrapped().equals("remainder")) {
          if (remainderProvider != null) {
            throw ConfigErrors.badValue(c, base + ".budget-eur", "only one provider can take the remainder, " + remainderProvider + " already does");
          }
          remainderProvider = id;
        } else {
          budget = OptionalDouble.of(ConfigValues.nonNegative(c, base + ".budget-eur"));
        }
      } else if (kind == ProviderConfig.Kind.METERED) {
        throw ConfigErrors.badValue(c, base, "a metered provider needs budget-eur (a number or \"remainder\")");
      }
      allocated += budget.orElse(fee);
      List<String> costQueries = kind == ProviderConfig.Kind.METERED ? costQueriesOf(c, base, queries) : List.of();
      providers.add(new ProviderConfig(id, ConfigValues.string(c, base + ".display-name", id), kind, fee, budget,
          ConfigValues.thresholds(c, base, defaults), costQueries));
    }
    if (providers.isEmpty()) {
      throw ConfigErrors.badValue(c, "providers", "at least one provider is needed");
    }
    return remainderProvider == null ? List.copyOf(providers) : withRemainder(c, providers, remainderProvider, totalBudget, allocated);
  }

  private static ProviderConfig.Kind kind(Config c, String base, String id, Set<String> ids) {
    if (!c.hasPath(base + ".kind")) {
      // Most often a misspelled id: `providers.azure_opnai.budget-eur = 120` makes a new provider.
      Set<String> others = new TreeSet<>(ids);
      others.remove(id);
      throw ConfigErrors.badValue(c, base, "has no kind; a new provider needs kind = metered or fixed"
          + Nearest.to(id, others).map(n -> ", or did you mean the provider " + n + "?").orElse(""));
    }
    String kind = ConfigValues.string(c, base + ".kind");
    return switch (kind) {
      case "metered" -> ProviderConfig.Kind.METERED;
      case "fixed" -> ProviderConfig.Kind.FIXED;
      default -> throw ConfigErrors.badValue(c, base + ".kind", "must be metered or fixed, got '" + kind + "'");
    };
  }

  private static List<String> costQueriesOf(Config c, String base, Map<String, CostQueryConfig> queries) {
    List<String> names = c.hasPath(base + ".cost-queries") ? ConfigValues.stringList(c, base + ".cost-queries") : List.of();
    if (names.isEmpty()) {
      throw ConfigErrors.badValue(c, c.hasPath(base + ".cost-queries") ? base + ".cost-queries" : base,
          "a metered provider needs at least one cost query (cost-queries = [...])");
    }
    for (String q : names) {
      if (!queries.containsKey(q)) {
        throw ConfigErrors.badValue(c, base + ".cost-queries", "names cost query '" + q
            + "', which is not defined under opswatch.cost-queries" + Nearest.hint(q, queries.keySet()));
      }
    }
    return List.copyOf(names);
  }

  private static List<ProviderConfig> withRemainder(
      Config c, List<ProviderConfig> providers, String remainderProvider, double totalBudget, double allocated) {
    double remainder = totalBudget - allocated;
    if (remainder <= 0) {
      throw ConfigErrors.badValue(c, "budget.total-eur", String.format(Locale.ROOT,
          "leaves %.2f EUR for %s after the other providers' budgets and fees (%.2f EUR); raise it or give %s a budget-eur",
          remainder, remainderProvider, allocated, remainderProvider));
    }
    List<ProviderConfig> result = new ArrayList<>();
    for (ProviderConfig p : providers) {
      result.add(p.id().equals(remainderProvider)
          ? new ProviderConfig(p.id(), p.displayName(), p.kind(), p.monthlyFeeEur(), OptionalDouble.of(remainder), p.thresholds(), p.costQueries())
          : p);
    }
    return List.copyOf(result);
  }
}
