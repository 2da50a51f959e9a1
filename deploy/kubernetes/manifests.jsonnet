// The opswatch exporter on Kubernetes, for the Prometheus Operator (kube-prometheus-stack): one object per
// file, keyed by file name. deploy/render.sh writes them as YAML next to this file; do not edit those.
local params = import '../params.libsonnet';
local src = import '../src/sources.libsonnet';
local mixin = (import '../../mixin/mixin.libsonnet') + { _config+:: params.mixin };

local name = 'opswatch-exporter';
local port = 9824;
// The Prometheus job of the exporter, as prometheus/prometheus.yml names it and the rules select it.
local scrape = src.prometheus.opswatchScrape;
local selectorLabels = {
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'opswatch',
};
local labels = selectorLabels {
  'app.kubernetes.io/component': 'exporter',
  'app.kubernetes.io/part-of': 'opswatch',
};
// The ServiceMonitor's jobLabel: the Operator names the job after this Service label's value.
local jobLabelKey = 'opswatch.dev/job';
// kube-prometheus-stack's Prometheus selects ServiceMonitors and PrometheusRules by this label.
local releaseLabel = { release: params.monitoring.release };

// The exporter's objects carry `labels`; the monitoring objects (rules, dashboards) only part-of.
local partOf = { 'app.kubernetes.io/part-of': 'opswatch' };
local metadata(objectName, extraLabels={}, base=labels) = {
  name: objectName,
  namespace: params.namespace,
  labels: base + extraLabels,
};

local secretsDir = '/etc/opswatch/secrets';

local deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: metadata(name),
  spec: {
    // Never two exporters against the database at once: one replica, and a rollout that stops the old pod
    // before it starts the new one (a RollingUpdate would run both for a while).
    replicas: 1,
    strategy: { type: 'Recreate' },
    revisionHistoryLimit: 3,
    selector: { matchLabels: selectorLabels },
    template: {
      metadata: { labels: labels },
      spec: {
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        // The image's user (exporter/Dockerfile: uid/gid 10001); fsGroup makes the Secret files readable.
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          fsGroup: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        },
        containers: [{
          name: 'exporter',
          image: '%s:%s' % [params.image.name, params.image.tag],
          imagePullPolicy: 'IfNotPresent',
          ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
          env: [
            { name: 'OPSWATCH_HTTP_PORT', value: std.toString(port) },
            {
              name: 'OPSWATCH_DATABASE_URL',
              valueFrom: { secretKeyRef: { name: params.exporter.secret, key: params.exporter.databaseURLKey } },
            },
            { name: 'OPSWATCH_ADMIN_TOKEN_FILE', value: '%s/%s' % [secretsDir, params.exporter.adminTokenKey] },
            { name: 'OPSWATCH_BILLING_TIME_ZONE', value: params.exporter.billingTimeZone },
          ] + (if params.exporter.appHealthURL != '' then [
                 { name: 'OPSWATCH_APP_HEALTH_URL', value: params.exporter.appHealthURL },
               ] else []),
          resources: params.exporter.resources,
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          // /-/healthy answers while the HTTP server runs, whatever the database does; /-/ready once every
          // database source has refreshed once (bench/RESULTS.md: 3 s at 1M rows, 31 s at 10M to the first
          // good scrape), hence the start-up probe's 5 minutes.
          startupProbe: {
            httpGet: { path: '/-/healthy', port: 'metrics' },
            periodSeconds: 5,
            timeoutSeconds: 4,
            failureThreshold: 60,
          },
          livenessProbe: {
            httpGet: { path: '/-/healthy', port: 'metrics' },
            periodSeconds: 15,
            timeoutSeconds: 5,
            failureThreshold: 3,
          },
          readinessProbe: {
            httpGet: { path: '/-/ready', port: 'metrics' },
            periodSeconds: 10,
            timeoutSeconds: 5,
            failureThreshold: 3,
          },
          volumeMounts: [
            { name: 'secrets', mountPath: secretsDir, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        }],
        volumes: [
          {
            name: 'secrets',
            secret: {
              secretName: params.exporter.secret,
              items: [{ key: params.exporter.adminTokenKey, path: params.exporter.adminTokenKey }],
              defaultMode: 288,  // 0440: the owner and fsGroup read it
            },
          },
          // The root filesystem is read-only; the JVM may still want a small /tmp.
          { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        ],
        terminationGracePeriodSeconds: 30,
      },
    },
  },
};

local service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: metadata(name, { [jobLabelKey]: scrape.job_name }),
  spec: {
    type: 'ClusterIP',
    selector: selectorLabels,
    ports: [{ name: 'metrics', port: port, targetPort: 'metrics', protocol: 'TCP' }],
  },
};

local serviceMonitor = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'ServiceMonitor',
  metadata: metadata(name, releaseLabel),
  spec: {
    jobLabel: jobLabelKey,
    selector: { matchLabels: selectorLabels },
    namespaceSelector: { matchNames: [params.namespace] },
    endpoints: [{
      port: 'metrics',
      path: std.get(scrape, 'metrics_path', '/metrics'),
      interval: scrape.scrape_interval,
      scrapeTimeout: scrape.scrape_timeout,
    }],
  },
};

local prometheusRule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: metadata('opswatch', releaseLabel, partOf),
  spec: { groups: mixin.prometheusAlerts.groups + mixin.prometheusRules.groups },
};

// One ConfigMap per dashboard for the Grafana sidecar: label grafana_dashboard="1" (kube-prometheus-stack's
// grafana.sidecar.dashboards.label/labelValue) and the folder in the annotation that values.yaml names as
// grafana.sidecar.dashboards.folderAnnotation.
local dashboardConfigMap(file) = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: metadata('opswatch-dashboard-' + std.strReplace(file, '.json', ''), { grafana_dashboard: '1' }, partOf) {
    annotations: { grafana_folder: mixin._config.grafanaFolder },
  },
  // deploy/render.py writes the dashboard as a JSON string (std.manifestJsonEx takes seconds per dashboard
  // in jsonnet 0.18).
  data: { [file]: mixin.grafanaDashboards[file] },
};

// Only kube-prometheus-stack's Prometheus pods may scrape the exporter. Egress is left open: the database
// and the probed app live wherever they live (see deploy/kubernetes/README.md).
local networkPolicy = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: metadata(name),
  spec: {
    podSelector: { matchLabels: selectorLabels },
    policyTypes: ['Ingress'],
    ingress: [{
      from: [{
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': params.monitoring.namespace } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      }],
      ports: [{ port: 'metrics', protocol: 'TCP' }],
    }],
  },
};

local namespace = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: params.namespace,
    labels: {
      'app.kubernetes.io/part-of': 'opswatch',
      // The Pod Security Standards' strictest level: the exporter meets it.
      'pod-security.kubernetes.io/enforce': 'restricted',
    },
  },
};

local dashboardFiles = {
  ['dashboard-' + file]: dashboardConfigMap(file)
  for file in std.objectFields(mixin.grafanaDashboards)
};
local objects = {
  'namespace.json': namespace,
  'deployment.json': deployment,
  'service.json': service,
  'servicemonitor.json': serviceMonitor,
  'prometheusrule.json': prometheusRule,
  'networkpolicy.json': networkPolicy,
} + dashboardFiles;

local yamlName(file) = std.strReplace(file, '.json', '.yaml');

{
  [yamlName(file)]: objects[file]
  for file in std.objectFields(objects)
} + {
  'kustomization.yaml': {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: params.namespace,
    resources: [yamlName(f) for f in std.objectFields(objects)],
  },
}
