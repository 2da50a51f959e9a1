// The mixin's settings. Every default is what the sources use today (mixin/src/sources.libsonnet, written
// by mixin/sync.py), so the default _config renders prometheus/rules/*.yml and grafana/dashboards/*.json
// unchanged; override any of them with `(import 'mixin.libsonnet') + { _config+:: { ... } }`.
local found = (import 'src/sources.libsonnet').found;

{
  _config+:: {
    // Selects the exporter's scrape job in rule expressions (the rules write job="opswatch").
    jobSelector: found.jobSelector,

    // runbook_url annotations are <runbookURLBase>/<alert-name-in-kebab-case>.md; the dashboards'
    // runbook links use the same base.
    runbookURLBase: found.runbookURLBase,

    // dashboard_url annotations are <grafanaURL>/d/<uid>, with ?var-provider=... for provider alerts.
    grafanaURL: found.grafanaURL,

    // Grafana datasources by plugin type, {name, uid}: the dashboards' datasource variables default to
    // them and any fixed reference follows them. kube-prometheus-stack's Grafana provisions
    // {name: 'Prometheus', uid: 'prometheus'} and {name: 'Alertmanager', uid: 'alertmanager'}.
    datasources: found.datasources,

    // The Grafana folder the dashboards belong in (the sidecar's folder annotation uses it).
    grafanaFolder: found.grafanaFolder,

    // Labels added to every alert, e.g. {team: 'platform'} (none by default).
    alertLabels: {},

    // Per alert name, fields merged over every rule of that alert, e.g.
    // {BudgetSpendWarning: {'for': '15m'}}. Budget, quota and incident thresholds are exported gauges
    // (opswatch_*_warning_ratio, ...), set in the exporter's config rather than here; this is for the
    // remaining constants (`for`, counts, factors) and labels.
    alertOverrides: {},
  },
}
