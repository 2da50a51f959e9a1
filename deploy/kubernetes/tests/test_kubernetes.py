"""deploy/kubernetes/ and deploy/kube-prometheus-stack/, offline: the committed files are a fresh render of the
single sources, every object validates against the Kubernetes and Prometheus Operator schemas, the
PrometheusRule passes promtool and the rule unit tests, and the objects follow the policies of issue #16.

Generic on purpose: alerts, panels and receivers are read from the sources, not named here."""
import fnmatch
import json
import re
import shutil
import subprocess

import pytest
import yaml

import testkit

REPO = testkit.REPO
KUBE = REPO / "deploy/kubernetes"
STACK = REPO / "deploy/kube-prometheus-stack"
TESTS = KUBE / "tests"
# kubectl apply (client-side) keeps the whole object in the last-applied-configuration annotation, and
# annotations are limited to 256 KiB in total.
ANNOTATION_LIMIT = 256 * 1024


def load(path):
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def manifests():
    """{file name: object} of every rendered manifest except kustomization.yaml."""
    return {p.name: load(p) for p in sorted(KUBE.glob("*.yaml")) if p.name != "kustomization.yaml"}


def of_kind(manifests, kind):
    return [o for o in manifests.values() if o["kind"] == kind]


def one(manifests, kind):
    objects = of_kind(manifests, kind)
    assert len(objects) == 1, f"one {kind}, found {len(objects)}"
    return objects[0]


@pytest.fixture(scope="module")
def values():
    return load(STACK / "values.yaml")


@pytest.fixture(scope="module")
def params():
    return json.loads(subprocess.run(["jsonnet", str(REPO / "deploy/params.libsonnet")], check=True,
                                     capture_output=True, text=True).stdout)


@pytest.fixture(scope="module")
def validate():
    """Runs validate.mjs (kubernetes-models) on a list of objects; returns its result lines."""
    if not (TESTS / "node_modules").is_dir():
        pytest.fail("deploy/kubernetes/tests/node_modules is missing: run `npm ci` there (scripts/test.sh does)")

    def run(objects, tmp_path):
        path = tmp_path / "objects.json"
        path.write_text(json.dumps(objects))
        out = subprocess.run(["node", str(TESTS / "validate.mjs"), str(path)], cwd=TESTS, check=True,
                             capture_output=True, text=True).stdout
        return [json.loads(line) for line in out.splitlines()]

    return run


def containers(deployment):
    return deployment["spec"]["template"]["spec"]["containers"]


def stack_custom_resources(values):
    """The Prometheus and Alertmanager specs of values.yaml and the remote-write example, as the custom
    resources the Operator receives (the chart copies prometheusSpec/alertmanagerSpec into them)."""
    example = load(STACK / "remote-write.example.yaml")
    return [
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": {"name": "values"},
         "spec": values["prometheus"]["prometheusSpec"]},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager", "metadata": {"name": "values"},
         "spec": values["alertmanager"]["alertmanagerSpec"]},
        {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": {"name": "remote-write"},
         "spec": example["prometheus"]["prometheusSpec"]},
    ]


# --- the committed files are a fresh render --------------------------------------------------------------

def test_committed_files_equal_a_fresh_render():
    result = subprocess.run([str(REPO / "deploy/render.sh"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kustomization_lists_every_manifest(manifests):
    kustomization = load(KUBE / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(manifests)


def test_kubectl_kustomize_renders_every_object(manifests):
    if not shutil.which("kubectl"):
        pytest.skip("kubectl is not installed (it renders kustomizations without a cluster)")
    out = subprocess.run(["kubectl", "kustomize", str(KUBE)], check=True, capture_output=True, text=True).stdout
    rendered = sorted((o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(out) if o)
    assert rendered == sorted((o["kind"], o["metadata"]["name"]) for o in manifests.values())


# --- schemas ---------------------------------------------------------------------------------------------

def test_every_object_validates_against_the_kubernetes_and_operator_schemas(manifests, values, validate, tmp_path):
    objects = list(manifests.values()) + stack_custom_resources(values)
    results = validate(objects, tmp_path)
    assert len(results) == len(objects)
    for result in results:
        print(f"{result['kind']}/{result['name']}: {result['model']}: {'valid' if result['valid'] else result['error']}")
    assert [r for r in results if not r["valid"]] == []


def test_the_validator_rejects_broken_objects(manifests, validate, tmp_path):
    """The negative control: the same objects, broken, fail (so the test above can fail)."""
    deployment = json.loads(json.dumps(one(manifests, "Deployment")))
    deployment["spec"]["replicas"] = "one"
    rule = json.loads(json.dumps(one(manifests, "PrometheusRule")))
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    monitor = json.loads(json.dumps(one(manifests, "ServiceMonitor")))
    monitor["spec"]["endpoints"][0]["scheme"] = "gopher"
    results = validate([deployment, rule, monitor], tmp_path)
    assert [r["valid"] for r in results] == [False, False, False], results


# --- the PrometheusRule ------------------------------------------------------------------------------------

def test_prometheusrule_groups_pass_promtool_check_rules(manifests, tmp_path):
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump({"groups": one(manifests, "PrometheusRule")["spec"]["groups"]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", sorted(p.name for p in (REPO / "prometheus/tests").glob("*-test.yaml")))
def test_rule_unit_tests_pass_against_the_rendered_rules(manifests, tmp_path, test_file):
    """prometheus/tests/<file> with each rule file it loads replaced by the PrometheusRule's groups of the
    same names."""
    rendered = {g["name"]: g for g in one(manifests, "PrometheusRule")["spec"]["groups"]}
    spec = load(REPO / "prometheus/tests" / test_file)
    (tmp_path / "tests").mkdir()
    (tmp_path / "rules").mkdir()
    for rule_file in spec["rule_files"]:
        source = (REPO / "prometheus/tests" / rule_file).resolve()
        assert source.parent == REPO / "prometheus/rules", rule_file
        names = [g["name"] for g in load(source)["groups"]]
        assert set(names) <= set(rendered), f"{rule_file}: groups missing from the PrometheusRule"
        (tmp_path / "rules" / source.name).write_text(yaml.safe_dump({"groups": [rendered[n] for n in names]}))
    (tmp_path / "tests" / test_file).write_text(yaml.safe_dump(spec))
    result = subprocess.run(["promtool", "test", "rules", test_file], cwd=tmp_path / "tests",
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- policies ----------------------------------------------------------------------------------------------

def test_exporter_runs_non_root_read_only_without_capabilities(manifests):
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"].get("runAsUser", 1) != 0
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        context = container["securityContext"]
        seccomp = context.get("seccompProfile") or pod["securityContext"].get("seccompProfile")
        assert seccomp == {"type": "RuntimeDefault"}, container["name"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context.get("privileged", False) is False, container["name"]
        assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), container["name"]


def test_exporter_probes_healthy_and_ready_on_its_port(manifests):
    for container in containers(one(manifests, "Deployment")):
        ports = {p["name"] for p in container["ports"]} | {p["containerPort"] for p in container["ports"]}
        for probe, path in [("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")]:
            assert container[probe]["httpGet"]["path"] == path, (container["name"], probe)
            assert container[probe]["httpGet"]["port"] in ports, (container["name"], probe)


def test_one_exporter_at_a_time_against_the_database(manifests):
    deployment = one(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    # A PodDisruptionBudget for a single replica either does nothing or blocks every node drain.
    assert of_kind(manifests, "PodDisruptionBudget") == []


def test_secrets_come_from_a_secret_never_from_the_manifests(manifests, params):
    deployment = one(manifests, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert of_kind(manifests, "Secret") == [], "no Secret is committed"
    for container in pod["containers"]:
        env = {e["name"]: e for e in container["env"]}
        assert env["OPSWATCH_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == params["exporter"]["secret"]
        assert "value" not in env["OPSWATCH_DATABASE_URL"]
        token = env["OPSWATCH_ADMIN_TOKEN_FILE"]["value"]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[token.rsplit("/", 1)[0]])
        assert volume["secret"]["secretName"] == params["exporter"]["secret"]
        assert token.rsplit("/", 1)[1] in [i["path"] for i in volume["secret"]["items"]]


def test_resources_cover_the_measured_memory(manifests):
    """Requests and limits are set; the memory limit is above every resident size bench/RESULTS.md measured
    for opswatch with the image's start script, the request above its steady state."""
    bench = (REPO / "bench/RESULTS.md").read_text()
    rows = [line for line in bench.splitlines() if re.match(r"\|\s*\d+M\s*\|\s*opswatch\s*\|", line)]
    assert rows, "bench/RESULTS.md has rows for opswatch"
    resident = [float(x) for row in rows for x in re.findall(r"([\d.]+) MiB", row)]
    assert resident, "bench/RESULTS.md lists resident sizes for opswatch"
    for container in containers(one(manifests, "Deployment")):
        resources = container["resources"]
        for kind in ["requests", "limits"]:
            assert set(resources[kind]) >= {"cpu", "memory"}, (container["name"], kind)
        mebibytes = {k: int(resources[k]["memory"].removesuffix("Mi")) for k in ["requests", "limits"]}
        assert mebibytes["limits"] > max(resident), (mebibytes, max(resident))
        assert mebibytes["requests"] >= min(resident), (mebibytes, min(resident))


def test_image_is_a_pinned_tag():
    deployment = load(KUBE / "deployment.yaml")
    for container in containers(deployment):
        assert ":" in container["image"] and not container["image"].endswith(":latest"), container["image"]


def test_service_monitor_matches_the_service_and_the_rules_job(manifests):
    service, monitor = one(manifests, "Service"), one(manifests, "ServiceMonitor")
    deployment = one(manifests, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items(), "the Service selects the exporter pods"
    container_ports = {p["name"]: p["containerPort"] for c in containers(deployment) for p in c["ports"]}
    for port in service["spec"]["ports"]:
        assert port["targetPort"] in container_ports or port["targetPort"] in container_ports.values()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in service_ports
    # The Operator names the job after the Service label that jobLabel names: the rules select that job.
    job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
    expressions = [r["expr"] for g in one(manifests, "PrometheusRule")["spec"]["groups"] for r in g["rules"]]
    jobs = {m for e in expressions for m in re.findall(r'\bjob\s*=\s*"([^"]*)"', e)}
    assert jobs <= {job}, f"the rules select job(s) {jobs}, the ServiceMonitor makes job {job!r}"


def test_release_labels_match_the_stack(manifests, params, values):
    release = params["monitoring"]["release"]
    for kind in ["ServiceMonitor", "PrometheusRule"]:
        assert one(manifests, kind)["metadata"]["labels"]["release"] == release, kind
    spec = values["prometheus"]["prometheusSpec"]
    assert spec["ruleSelectorNilUsesHelmValues"] is True and spec["serviceMonitorSelectorNilUsesHelmValues"] is True
    assert not spec.get("ruleSelector") and not spec.get("serviceMonitorSelector")


def test_network_policy_lets_only_prometheus_scrape_the_exporter(manifests, params):
    policy, deployment = one(manifests, "NetworkPolicy"), one(manifests, "Deployment")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    assert source["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": params["monitoring"]["namespace"]}
    assert source["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "prometheus"}
    assert [p["port"] for p in rule["ports"]] == [p["port"] for p in one(manifests, "ServiceMonitor")["spec"]["endpoints"]]


def test_one_dashboard_configmap_per_dashboard_for_the_sidecar(manifests, values):
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    sources = {p.name: json.loads(p.read_text()) for p in (REPO / "grafana/dashboards").glob("*.json")}
    maps = [o for o in of_kind(manifests, "ConfigMap") if sidecar["label"] in o["metadata"]["labels"]]
    found = {}
    for config_map in maps:
        assert config_map["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"] == "1"
        assert config_map["metadata"]["annotations"][sidecar["folderAnnotation"]]
        size = len(json.dumps(config_map, separators=(",", ":")).encode())
        print(f"{config_map['metadata']['name']}: {size} bytes as last-applied JSON")
        assert size < ANNOTATION_LIMIT, f"{config_map['metadata']['name']} is {size} bytes"
        for name, text in config_map["data"].items():
            found[name] = json.loads(text)
    assert sorted(found) == sorted(sources)
    for name, dashboard in found.items():
        assert dashboard["uid"] == sources[name]["uid"]


def test_dashboards_use_datasources_the_stack_provides(manifests, values):
    grafana = values["grafana"]
    # kube-prometheus-stack's own datasources (grafana.sidecar.datasources defaults) plus the values' extra ones.
    provided = {"prometheus", "alertmanager"} | {d["uid"] for d in grafana["additionalDataSources"]}
    for config_map in of_kind(manifests, "ConfigMap"):
        for name, text in config_map["data"].items():
            for variable in json.loads(text).get("templating", {}).get("list", []):
                if variable.get("type") == "datasource":
                    assert variable["current"]["value"] in provided, (name, variable["name"])
    env = set(grafana["envValueFrom"])
    for datasource in grafana["additionalDataSources"]:
        used = set(re.findall(r"\$\{?([A-Za-z_]\w*)\}?", json.dumps(datasource)))
        assert used <= env, f"{datasource['name']} reads {used - env} that Grafana's environment lacks"


def test_prometheus_and_alertmanager_are_highly_available(values):
    prometheus, alertmanager = values["prometheus"], values["alertmanager"]
    assert prometheus["prometheusSpec"]["replicas"] >= 2 and alertmanager["alertmanagerSpec"]["replicas"] >= 2
    assert prometheus["prometheusSpec"]["replicaExternalLabelName"] == "prometheus_replica"
    for part in [prometheus, alertmanager]:
        budget = part["podDisruptionBudget"]
        assert budget["enabled"] is True and 1 <= budget["minAvailable"] < 2


def test_alertmanager_config_reads_its_secrets_from_the_mounted_secrets(values, tmp_path):
    alertmanager = values["alertmanager"]
    config = alertmanager["config"]
    mounted = [f"/etc/alertmanager/secrets/{s}/" for s in alertmanager["alertmanagerSpec"]["secrets"]]

    def files(value, key=None):
        if isinstance(value, dict):
            for k, v in value.items():
                yield from files(v, k)
        elif isinstance(value, list):
            for v in value:
                yield from files(v, key)
        elif key and key.endswith("_file"):
            yield value

    paths = list(files(config))
    assert paths, "the config reads secrets from files"
    for path in paths:
        assert any(path.startswith(m) for m in mounted), path
    # The chart writes templateFiles next to the config (/etc/alertmanager/config/); config.templates loads them.
    names = list(alertmanager["templateFiles"])
    assert names and all(any(fnmatch.fnmatch(f"/etc/alertmanager/config/{n}", t) for t in config["templates"])
                         for n in names)
    # amtool 0.25 accepts the config, with the templates where the config expects them relative to a copy.
    (tmp_path / "config").mkdir()
    for name, text in alertmanager["templateFiles"].items():
        (tmp_path / "config" / name).write_text(text)
    local = dict(config, templates=[str(tmp_path / "config" / t.rsplit("/", 1)[1]) for t in config["templates"]])
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(local))
    result = subprocess.run(["amtool", "check-config", str(tmp_path / "alertmanager.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout or f"{len(names)} templates" in result.stdout, result.stdout


def test_alertmanager_config_is_the_repositorys_apart_from_paths_and_cluster_urls(values, params):
    source = load(REPO / "alertmanager/alertmanager.yml")
    config = values["alertmanager"]["config"]
    assert config["route"] == source["route"]
    assert config["inhibit_rules"] == source["inhibit_rules"]
    assert [r["name"] for r in config["receivers"]] == [r["name"] for r in source["receivers"]]
    text = json.dumps(config)
    for old in params["stack"]["alertmanagerReplace"]:
        assert old not in text, f"{old} is still in the cluster's Alertmanager config"
