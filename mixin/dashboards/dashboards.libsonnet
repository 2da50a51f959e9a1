// grafanaDashboards: grafana/dashboards/*.json by file name, with _config's datasources and base URLs.
local src = import '../src/sources.libsonnet';
local t = import '../lib/transform.libsonnet';

{
  grafanaDashboards+:: {
    [name]: t.dashboard(src.dashboards[name], $._config)
    for name in std.objectFields(src.dashboards)
  },
}
