package dev.opswatch.exporter.db;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SQL with {@code :name} placeholders, turned into JDBC {@code ?} parameters. {@code ::type}
 * casts and quoted text are left alone. Parsed once per query, bound on every refresh.
 */
public record NamedSql(String jdbcSql, List<String> parameterNames) {
  private static final Pattern TOKEN = Pattern.compile("'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|::|:([a-z_][a-z0-9_]*)");

  public static NamedSql parse(String sql) {
    Matcher m = TOKEN.matcher(sql);
    StringBuilder out = new StringBuilder();
    List<String> names = new ArrayList<>();
    while (m.find()) {
      if (m.group(1) != null) {
        names.add(m.group(1));
        m.appendReplacement(out, "?");
      } else {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
      }
    }
    m.appendTail(out);
    return new NamedSql(out.toString(), List.copyOf(names));
  }
}
