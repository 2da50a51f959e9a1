// Validates Kubernetes objects offline against the schemas of kubernetes-models (Kubernetes) and
// @kubernetes-models/prometheus-operator (monitoring.coreos.com), both pinned by package-lock.json.
//
//   node validate.mjs OBJECTS.json    # a JSON array of objects; prints one JSON line per object
//
// Each line: {"index", "apiVersion", "kind", "name", "model", "valid", "error"}; test_kubernetes.py asserts
// on them. An object whose kind neither package models is reported with model null and valid false.
import { readFileSync } from "node:fs";

const objects = JSON.parse(readFileSync(process.argv[2], "utf8"));

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

for (const [index, object] of objects.entries()) {
  const line = { index, apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name };
  const path = modulePath(object.apiVersion, object.kind);
  try {
    const model = (await import(path))[object.kind];
    line.model = path;
    try {
      new model(object).validate();
      line.valid = true;
    } catch (e) {
      line.valid = false;
      line.error = e.message;
    }
  } catch (e) {
    line.model = null;
    line.valid = false;
    line.error = `no model ${path}: ${e.message}`;
  }
  console.log(JSON.stringify(line));
}
