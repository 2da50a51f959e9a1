"""prometheus/render_rules.py: the one way to get another profile's links and a fast rule set, the check that
the shipped files link to production only, and the committed copies' drift check."""
import shutil
import subprocess

import pytest
import yaml


def alerts(folder):
    """{(file, alert, labels' provider): rule} of a rules folder."""
    out = {}
    for path in sorted(folder.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                key = (path.name, rule.get("alert") or rule.get("record"), (rule.get("labels") or {}).get("provider"))
                out[key] = rule
    return out


@pytest.mark.parametrize("text, secs", [("30s", 30), ("5m", 300), ("1h30m", 5400), ("1d", 86400), ("100ms", 0.1)])
def test_durations_read_and_write_as_prometheus_does(render_rules, text, secs):
    assert render_rules.seconds(text) == secs
    assert render_rules.duration(secs) == text


@pytest.mark.parametrize("text", ["5", "5 m", "1h-5m", ""])
def test_a_bad_duration_is_an_error(render_rules, text):
    with pytest.raises(render_rules.RenderError):
        render_rules.seconds(text)


def test_fast_caps_every_for_and_keep_firing_for_and_changes_nothing_else(render_rules, repo, tmp_path):
    assert render_rules.main(["render", "e2e", "--out", str(tmp_path)]) == 0
    source, fast = alerts(repo / "prometheus/rules"), alerts(tmp_path / "rules")
    assert source.keys() == fast.keys()
    capped = 0
    for key, rule in source.items():
        got = dict(fast[key])
        for field in ("for", "keep_firing_for"):
            if field in rule:
                want = min(render_rules.seconds(rule[field]), 5)
                assert render_rules.seconds(got.pop(field)) == want, (key, field)
                capped += want < render_rules.seconds(rule[field])
            else:
                assert field not in got, (key, field)
        rule = {k: v for k, v in rule.items() if k not in ("for", "keep_firing_for")}
        # Links are the e2e profile's (Grafana on localhost), the rest is the source's.
        ann = got.get("annotations", {})
        if "dashboard_url" in ann:
            assert ann["dashboard_url"].startswith("http://localhost:3000/d/"), key
            ann["dashboard_url"] = ann["dashboard_url"].replace("http://localhost:3000/", "https://grafana.example.com/")
        assert got == rule, key
    assert capped > 0, "no rule had a for: above 5s, so the test proves nothing"


def test_the_e2e_render_gets_its_targets_and_intervals_and_promtool_accepts_it(render_rules, tmp_path):
    assert render_rules.main(["render", "e2e", "--out", str(tmp_path), "--exporter", "127.0.0.1:19824",
                              "--alertmanager", "127.0.0.1:19093"]) == 0
    config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    assert config["global"]["scrape_interval"] == config["global"]["evaluation_interval"] == "1s"
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "opswatch")
    assert job["scrape_interval"] == "1s" and render_rules.seconds(job["scrape_timeout"]) <= 1
    assert job["static_configs"] == [{"targets": ["127.0.0.1:19824"]}]
    assert config["alerting"]["alertmanagers"][0]["static_configs"] == [{"targets": ["127.0.0.1:19093"]}]
    assert config["rule_files"] == ["rules/*.yml"]
    result = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_command_line_values_override_the_profile(render_rules, tmp_path):
    assert render_rules.main(["render", "production", "--out", str(tmp_path), "--grafana-url",
                              "https://grafana.acme.test/", "--runbook-url", "https://wiki.acme.test/runbooks"]) == 0
    for key, rule in alerts(tmp_path / "rules").items():
        ann = rule.get("annotations") or {}
        if "runbook_url" in ann:
            assert ann["runbook_url"].startswith("https://wiki.acme.test/runbooks/"), key
            assert ann["dashboard_url"].startswith("https://grafana.acme.test/d/"), key


def test_an_unknown_profile_is_a_usage_error(render_rules, tmp_path, capsys):
    assert render_rules.main(["render", "staging", "--out", str(tmp_path)]) == 2
    assert "unknown profile 'staging'" in capsys.readouterr().err


def test_the_shipped_files_link_to_production_and_never_to_localhost(render_rules):
    production = render_rules.load_profiles()["production"]
    assert not render_rules.LOCAL.search(production["grafana_url"] + production["runbook_url"])
    assert render_rules.link_problems(production) == []


@pytest.mark.parametrize("edit, problem", [
    (("https://grafana.example.com/d/opswatch-cost", "http://localhost:3000/d/opswatch-cost"),
     "budget.yml:{line}: points at a loopback address"),
    (("https://github.com/opswatch/opswatch/blob/main/runbooks/budget-exceeded.md",
      "https://gitlab.example.com/runbooks/budget-exceeded.md"),
     "budget.yml: BudgetExceeded: runbook_url does not start with"),
], ids=["localhost-dashboard", "foreign-runbook-base"])
def test_the_link_check_names_file_and_line_of_a_wrong_link(render_rules, repo, tmp_path, edit, problem):
    shutil.copytree(repo / "prometheus", tmp_path / "prometheus", ignore=shutil.ignore_patterns("demo*", "tests"))
    shutil.copytree(repo / "alertmanager", tmp_path / "alertmanager")
    budget = tmp_path / "prometheus/rules/budget.yml"
    text = budget.read_text()
    assert edit[0] in text
    line = text[:text.index(edit[0])].count("\n") + 1
    budget.write_text(text.replace(edit[0], edit[1], 1))
    problems = render_rules.link_problems(render_rules.load_profiles()["production"], repo=tmp_path)
    assert any(problem.format(line=line) in p for p in problems), problems


def test_the_committed_copies_are_a_fresh_render(render_rules):
    stale = render_rules.drift(render_rules.load_profiles())
    assert stale == [], "run prometheus/render_rules.py update"


def test_drift_is_detected(render_rules, repo, tmp_path):
    shutil.copytree(repo / "prometheus", tmp_path, dirs_exist_ok=True)
    profiles = render_rules.load_profiles()
    (tmp_path / "demo/rules/budget.yml").write_text("groups: []\n")
    (tmp_path / "demo/rules/old.yml").write_text("groups: []\n")
    got = {(name, path.name, why) for name, path, why in render_rules.drift(profiles, source=tmp_path)}
    assert ("demo", "budget.yml", "differs from a fresh render") in got
    assert ("demo", "old.yml", "not rendered from any source file") in got


@pytest.mark.parametrize("profile", ["demo", "demo-fast"])
def test_the_committed_copies_pass_promtool(repo, profile):
    folder = repo / "prometheus" / profile
    for args in (["check", "config", str(folder / "prometheus.yml")],
                 ["check", "rules", *map(str, sorted((folder / "rules").glob("*.yml")))]):
        result = subprocess.run(["promtool", *args], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
