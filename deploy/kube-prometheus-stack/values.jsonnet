// kube-prometheus-stack values for opswatch: Prometheus and Alertmanager with two replicas each, the
// Alertmanager config of alertmanager/ with its secrets mounted the Operator's way, and Grafana's sidecar
// and PostgreSQL datasource for the dashboards of deploy/kubernetes/. deploy/render.sh writes values.yaml.
local params = import '../params.libsonnet';
local src = import '../src/sources.libsonnet';

local stack = params.stack;
// alertmanagerSpec.secrets are mounted at /etc/alertmanager/secrets/<secret name>/ (the chart's values.yaml
// and the Operator's API); alertmanager.yml reads its files from /etc/alertmanager/secrets/.
local secretsDir = '/etc/alertmanager/secrets/';
// The chart writes templateFiles into the config Secret, mounted at /etc/alertmanager/config/.
local templatesDir = '/etc/alertmanager/config/';

local walkStrings(v, f) =
  if std.isObject(v) then { [k]: walkStrings(v[k], f) for k in std.objectFields(v) }
  else if std.isArray(v) then [walkStrings(x, f) for x in v]
  else if std.isString(v) then f(v)
  else v;

local strings(v) =
  if std.isObject(v) then std.flattenArrays([strings(v[k]) for k in std.objectFields(v)])
  else if std.isArray(v) then std.flattenArrays([strings(x) for x in v])
  else if std.isString(v) then [v]
  else [];

local replaceAll(s) = std.foldl(
  function(acc, from) std.strReplace(acc, from, stack.alertmanagerReplace[from]),
  std.objectFields(stack.alertmanagerReplace),
  std.strReplace(s, secretsDir, secretsDir + stack.alertmanagerSecret + '/'),
);

local missing = [
  from
  for from in std.objectFields(stack.alertmanagerReplace)
  if std.length([s for s in strings(src.alertmanager.config) if std.strReplace(s, from, '') != s]) == 0
];

local alertmanagerConfig =
  if std.length(missing) > 0 then
    error 'deploy/params.libsonnet: stack.alertmanagerReplace: %s not found in alertmanager/alertmanager.yml' % std.join(', ', missing)
  else
    walkStrings(src.alertmanager.config, replaceAll) {
      templates: [templatesDir + std.split(t, '/')[std.length(std.split(t, '/')) - 1]
                  for t in std.get(src.alertmanager.config, 'templates', [])],
    };

// grafana/provisioning's datasources other than the two the chart provisions itself (Prometheus and
// Alertmanager, grafana.sidecar.datasources), pointed at the cluster's database.
local extraDatasources = [
  ds { url: stack.postgresURL }
  for ds in src.grafana.datasources
  if ds.type != 'prometheus' && ds.type != 'alertmanager'
];

{
  prometheus: {
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    prometheusSpec: {
      replicas: stack.replicas.prometheus,
      // The Operator's default, written out: every replica gets prometheus_replica="<pod>", and the
      // Operator drops that label in alert relabeling so that Alertmanager deduplicates the replicas'
      // alerts (scripts/test.sh ha proves it with two replicas and a clustered Alertmanager pair).
      replicaExternalLabelName: 'prometheus_replica',
      externalLabels: std.get(src.prometheus.global, 'external_labels', {}) + stack.externalLabels,
      scrapeInterval: src.prometheus.global.scrape_interval,
      evaluationInterval: src.prometheus.global.evaluation_interval,
      // Select ServiceMonitors and PrometheusRules labelled release=<this release> (the chart's default,
      // written out): deploy/kubernetes labels them so.
      ruleSelectorNilUsesHelmValues: true,
      serviceMonitorSelectorNilUsesHelmValues: true,
    },
  },
  alertmanager: {
    podDisruptionBudget: { enabled: true, minAvailable: 1 },
    alertmanagerSpec: {
      replicas: stack.replicas.alertmanager,
      secrets: [stack.alertmanagerSecret],
    },
    config: alertmanagerConfig,
    templateFiles: src.alertmanager.templates,
  },
  grafana: {
    sidecar: {
      dashboards: {
        enabled: true,
        label: 'grafana_dashboard',
        labelValue: '1',
        searchNamespace: 'ALL',
        folderAnnotation: 'grafana_folder',
        provider: { foldersFromFilesStructure: true },
      },
    },
    additionalDataSources: extraDatasources,
    // Grafana expands ${VAR} in provisioned datasources from its environment.
    envValueFrom: {
      [var]: { secretKeyRef: { name: stack.grafanaDatasourceSecret, key: var } }
      for var in src.grafana.datasourceEnv
    },
  },
}
