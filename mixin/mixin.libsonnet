// The opswatch monitoring mixin (https://github.com/monitoring-mixins/docs): prometheusAlerts,
// prometheusRules, grafanaDashboards and _config. Built from prometheus/rules/*.yml and
// grafana/dashboards/*.json by mixin/sync.py; see mixin/README.md.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
