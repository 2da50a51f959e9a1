// Settings of a Kubernetes deployment of opswatch: edit them (or override this object in your own jsonnet),
// then run deploy/render.sh. Everything else in deploy/kubernetes/*.yaml and
// deploy/kube-prometheus-stack/values.yaml comes from the single sources (prometheus/, alertmanager/,
// grafana/, the mixin) and from the conventions of kube-prometheus-stack and the Prometheus Operator.
{
  // The namespace of the exporter, its Service, ServiceMonitor, PrometheusRule and dashboard ConfigMaps.
  namespace: 'opswatch',

  // Where kube-prometheus-stack runs and what its Helm release is called: its Prometheus selects
  // ServiceMonitors and PrometheusRules labelled release=<release> (ruleSelectorNilUsesHelmValues and
  // serviceMonitorSelectorNilUsesHelmValues, both true by default), and the NetworkPolicy lets its
  // Prometheus pods in.
  monitoring: {
    namespace: 'monitoring',
    release: 'kube-prometheus-stack',
  },

  // The image exporter/Dockerfile builds, pushed to your registry (`kustomize edit set image` also works).
  image: {
    name: 'ghcr.io/opswatch/opswatch-exporter',
    tag: '0.1.0',
  },

  exporter: {
    // Secret holding the database URL (postgresql://opswatch_reader:...@host:5432/db?sslmode=require) and the
    // admin API's bearer token; never in the manifests. Create it before applying (deploy/kubernetes/README.md).
    secret: 'opswatch-exporter',
    databaseURLKey: 'database-url',
    adminTokenKey: 'admin-token',
    // The app's health endpoint to probe; '' probes nothing.
    appHealthURL: '',
    billingTimeZone: 'UTC',
    // bench/RESULTS.md: 59-62 MiB resident at steady state, 69-71 MiB after 64 concurrent scrapers, with the
    // start script's flags (16 MiB heap). The limit leaves room above that burst; the JVM's own ceilings
    // (heap, metaspace, code cache, direct memory) keep it below. CPU: refreshes and scrapes use little; the
    // limit only bounds start-up (C1 compilation) and is not a reservation.
    resources: {
      requests: { cpu: '50m', memory: '80Mi' },
      limits: { cpu: '500m', memory: '128Mi' },
    },
  },

  // kube-prometheus-stack's Grafana provisions these two datasources (grafana.sidecar.datasources: name
  // Prometheus / uid prometheus, alertmanager: name Alertmanager / uid alertmanager); the dashboards default
  // to them. The PostgreSQL datasource keeps grafana/provisioning's name and uid (values.yaml adds it).
  mixin: {
    datasources+: {
      prometheus: { name: 'Prometheus', uid: 'prometheus' },
      alertmanager: { name: 'Alertmanager', uid: 'alertmanager' },
    },
  },

  // kube-prometheus-stack values.
  stack: {
    replicas: { prometheus: 2, alertmanager: 2 },
    // Overrides prometheus/prometheus.yml's external labels (env="demo" there).
    externalLabels: { env: 'production' },
    // Secret with one key per file that alertmanager/alertmanager.yml reads from /etc/alertmanager/secrets/
    // (pager_routing_key, chat_webhook_url): the operator mounts it at /etc/alertmanager/secrets/<name>/.
    alertmanagerSecret: 'opswatch-alertmanager',
    // Literal strings of alertmanager/alertmanager.yml to replace for the cluster; rendering fails if one
    // is no longer there. The compose demo's webhook sink does not exist in a cluster.
    alertmanagerReplace: {
      'http://webhook-sink:8080/heartbeat': 'https://deadmans-switch.example.invalid/opswatch',
    },
    // The app's PostgreSQL for the incidents dashboard (host:port, as Grafana's url field).
    postgresURL: 'postgres.opswatch.svc:5432',
    // Secret with one key per ${VAR} that the PostgreSQL datasource of grafana/provisioning uses
    // (OPSWATCH_READER_PASSWORD, POSTGRES_DB): Grafana reads them from its environment.
    grafanaDatasourceSecret: 'opswatch-grafana-datasource',
  },
}
