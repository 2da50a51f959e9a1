// prometheusRules: the groups of prometheus/rules/ that hold recording rules only (groups with alerts are
// in prometheusAlerts, with their recording rules).
local src = import '../src/sources.libsonnet';
local t = import '../lib/transform.libsonnet';

{
  prometheusRules+:: {
    groups+: [
      t.group(g, $._config)
      for file in std.objectFields(src.ruleFiles)
      for g in std.get(src.ruleFiles[file], 'groups', [])
      if !t.hasAlerts(g)
    ],
  },
}
