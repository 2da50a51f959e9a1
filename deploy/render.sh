#!/usr/bin/env bash
# The one command that regenerates everything built from the single sources: the mixin's mixin/src/, and
# deploy/src/, deploy/kubernetes/*.yaml and deploy/kube-prometheus-stack/values.yaml. Run it after editing
# prometheus/rules/, grafana/dashboards/, alertmanager/, prometheus/prometheus.yml, grafana/provisioning/ or
# deploy/params.libsonnet, and commit the result.
#
#   deploy/render.sh            # write
#   deploy/render.sh --check    # exit 1 naming each file that differs from a fresh render (CI runs this)
#
# Needs jsonnet and Debian's python3 with python3-yaml.
set -euo pipefail
export PATH="/usr/bin:$PATH"
exec python3 "$(dirname "${BASH_SOURCE[0]}")/render.py" "$@"
