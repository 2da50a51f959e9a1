"""Alertmanager for the end-to-end test: the repository's alertmanager.yml with every receiver
pointed at the local webhook sink, through alertmanager/sink-config.sh (which rewrites only the
receiver addresses and the secrets directory, and shortens group_wait)."""
import subprocess

from stack import REPO


def prepare(source_dir, target_dir, sink):
    subprocess.run([str(source_dir / "sink-config.sh"), "--sink", sink.url(""), "--out", str(target_dir),
                    "--group-wait", "1s"], check=True)
    return target_dir


def is_pager(path):
    return path.startswith("/pager")


def names(body, alertname, provider=None):
    """Whether a pager event is about this alert (and provider)."""
    details = body.get("payload", {}).get("custom_details", {}) if isinstance(body, dict) else {}
    return details.get("alertname") == alertname and (provider is None or details.get("provider") == provider)


def find_alert(body, alertname, provider):
    """The pager speaks PagerDuty Events v2: the first alert of the group is in payload.custom_details."""
    details = body["payload"]["custom_details"]
    assert details["alertname"] == alertname, details
    assert details["provider"] == provider, details
    assert body["event_action"] == "trigger", body
    return {
        "labels": {"alertname": details["alertname"], "provider": details["provider"],
                   "severity": body["payload"]["severity"]},
        "annotations": {"runbook_url": details["runbook_url"], "description": details["firing"],
                        "value": details["value"]},
    }


__all__ = ["prepare", "is_pager", "names", "find_alert", "REPO"]
