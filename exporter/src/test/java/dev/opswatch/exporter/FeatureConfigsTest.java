package dev.opswatch.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import dev.opswatch.exporter.testing.TestConfigs;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The feature sections parse with the defaults, and their mistakes surface as config errors. */
class FeatureConfigsTest {
  @Test
  void defaultsParse() {
    FeatureConfigs features = FeatureConfigs.parse(TestConfigs.parse("opswatch.database.url = \"postgresql://db/app\"\n"), Map.of());
    assertEquals(7, features.quotas().quotas().size());
    assertEquals(3, features.incidents().telemetryCategories().size());
  }

  @Test
  void aMistakeInAFeatureSectionIsAConfigError() {
    var config = TestConfigs.parse("""
        opswatch.database.url = "postgresql://db/app"
        opswatch.incidents.recent.limit = 0
        """);
    ConfigException e = assertThrows(ConfigException.class, () -> FeatureConfigs.parse(config, Map.of()));
    assertTrue(e.getMessage().contains("String: 2") && e.getMessage().contains("incidents.recent.limit"), e.getMessage());
  }
}
