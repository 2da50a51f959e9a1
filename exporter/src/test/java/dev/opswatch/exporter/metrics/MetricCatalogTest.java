package dev.opswatch.exporter.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opswatch.exporter.testing.TestDatabase;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/metrics.md, the one metric contract, against the families the code declares: every
 * {@code static final MetricFamily} in the exporter's classes, found by reflection, without starting
 * anything. Names, types and label names must agree both ways.
 */
class MetricCatalogTest {
  private static final Pattern ROW = Pattern.compile("^\\|\\s*`(opswatch_[a-z0-9_]+)`\\s*\\|\\s*([a-z]+)\\s*\\|([^|]*)\\|");

  record Entry(String type, List<String> labels) {}

  @Test
  void docsListExactlyTheDeclaredFamiliesWithTheirTypesAndLabels() throws Exception {
    Map<String, Entry> declared = declared();
    Map<String, Entry> documented = documented();
    assertTrue(declared.size() > 50, "found the declarations: " + declared.keySet());
    for (Map.Entry<String, Entry> d : declared.entrySet()) {
      assertTrue(documented.containsKey(d.getKey()), d.getKey() + " is declared in the code but not in docs/metrics.md");
      assertEquals(d.getValue(), documented.get(d.getKey()), d.getKey() + ": docs/metrics.md disagrees with the declaration");
    }
    for (String name : documented.keySet()) {
      assertTrue(declared.containsKey(name), name + " is in docs/metrics.md but no code declares it");
    }
  }

  /** Exposed name to type and labels, of every static MetricFamily field in the main classes. */
  static Map<String, Entry> declared() throws IOException, URISyntaxException, ReflectiveOperationException {
    Path classes = Path.of(MetricFamily.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Map<String, Entry> result = new TreeMap<>();
    List<String> names = new ArrayList<>();
    try (Stream<Path> files = Files.walk(classes)) {
      files.filter(p -> p.toString().endsWith(".class")).forEach(p -> {
        String relative = classes.relativize(p).toString();
        names.add(relative.substring(0, relative.length() - ".class".length()).replace('/', '.'));
      });
    }
    for (String name : names) {
      Class<?> type = Class.forName(name, false, MetricCatalogTest.class.getClassLoader());
      for (Field field : type.getDeclaredFields()) {
        if (field.getType() == MetricFamily.class && Modifier.isStatic(field.getModifiers())) {
          field.setAccessible(true);
          MetricFamily family = (MetricFamily) field.get(null);
          Entry previous = result.put(family.exposedName(), new Entry(family.type().label(), family.labelNames()));
          assertEquals(null, previous, family.exposedName() + " is declared twice (" + name + ")");
        }
      }
    }
    return result;
  }

  static Map<String, Entry> documented() throws IOException {
    Map<String, Entry> result = new TreeMap<>();
    for (String line : Files.readAllLines(TestDatabase.repoFile("docs/metrics.md"))) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        List<String> labels = Stream.of(m.group(3).split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
        result.put(m.group(1), new Entry(m.group(2), labels));
      }
    }
    return result;
  }
}
