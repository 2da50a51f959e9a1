package dev.opswatch.exporter.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The Java side of reading call metadata: what the regex leaves to it. */
class CallMetadataTest {
  @Test
  void failedWhenSuccessIsFalseAsBooleanOrString() {
    assertEquals(CallMetadata.Verdict.FAILED, CallMetadata.read("{\"success\":false,\"detail\":{\"retries\":[1,2]}}"));
    assertEquals(CallMetadata.Verdict.FAILED, CallMetadata.read("{\"success\":\"false\"}"));
    assertEquals(CallMetadata.Verdict.SUCCEEDED, CallMetadata.read("{\"success\":true,\"nested\":{\"success\":false}}"));
    assertEquals(CallMetadata.Verdict.SUCCEEDED, CallMetadata.read("{\"latencyMs\":12}"), "no success field: not a failure");
    assertEquals(CallMetadata.Verdict.SUCCEEDED, CallMetadata.read("{\"success\":0}"), "only false counts, as ->> 'success' = 'false'");
    assertEquals(CallMetadata.Verdict.SUCCEEDED, CallMetadata.read(null));
  }

  @Test
  void invalidOrNonObjectMetadataIsBad() {
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read("not json"));
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read("{\"success\":false,}"));
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read("{\"success\":false} {}"));
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read("[false]"));
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read("false"));
    assertEquals(CallMetadata.Verdict.BAD, CallMetadata.read(""));
  }
}
