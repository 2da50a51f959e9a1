// prometheusAlerts: every group of prometheus/rules/ that holds an alert, whole. A group's recording rules
// stay with its alerts because rules in a group run in order, so an alert sees the recording rules of the
// same evaluation (prometheus/README.md); splitting them into another group would lag alerts by one
// evaluation.
local src = import '../src/sources.libsonnet';
local t = import '../lib/transform.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      t.group(g, $._config)
      for file in std.objectFields(src.ruleFiles)
      for g in std.get(src.ruleFiles[file], 'groups', [])
      if t.hasAlerts(g)
    ],
  },
}
