"""The README's CI jobs are real: their YAML parses and their wscli line runs against serve."""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli
from wscli.server.simulator import Simulator

yaml = pytest.importorskip("yaml")

README = Path(__file__).resolve().parents[2] / "README.md"
TOKEN = "ci-secret-token-42"


def _ci_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use in CI", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)


def _commands(document: Any) -> list[str]:
    """Every shell line of a job: GitHub ``run:`` values and GitLab ``script:`` items."""
    found: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key == "script" and isinstance(value, list):
                found.extend(str(item) for item in value)
            else:
                found.extend(_commands(value))
    elif isinstance(document, list):
        for item in document:
            found.extend(_commands(item))
    return found


def _noisy_seed(messages: int = 150) -> int:
    """A server seed whose first messages hold all three envelope types, ``error`` included
    (a healthy stream's normal traffic: the README's jobs must pass on it)."""
    for seed in range(1000):
        sim = Simulator(seed)
        kinds = {sim.next_message()["type"] for _ in range(messages)}
        if {"sensor_reading", "sensor_status", "error"} <= kinds:
            return seed
    raise AssertionError("no noisy seed")


def test_readme_has_a_github_and_a_gitlab_job() -> None:
    """Two YAML blocks: a GitHub Actions workflow and a GitLab CI job, both parseable."""
    blocks = [yaml.safe_load(block) for block in _ci_blocks()]
    assert len(blocks) == 2
    github, gitlab = blocks
    steps = github["jobs"]["probe"]["steps"]
    assert any(step.get("uses", "").startswith("actions/upload-artifact") for step in steps)
    assert any("secrets." in str(step.get("env", {}).get("WSCLI_TOKEN", "")) for step in steps)
    job = gitlab["stream-smoke"]
    assert job["artifacts"]["reports"]["junit"] == "probe.xml"
    for document in blocks:
        lines = _commands(document)
        assert any("install wscli-toolkit" in line for line in lines), lines
        assert sum("wscli probe" in line for line in lines) == 1


@pytest.mark.slow
@pytest.mark.parametrize("index", [0, 1], ids=["github", "gitlab"])
def test_readme_ci_probe_line_runs_against_serve(serve: Any, tmp_path: Path, index: int) -> None:
    """The job's own wscli line, URL and report path swapped for local ones, passes (exit 0)."""
    document = yaml.safe_load(_ci_blocks()[index])
    line = next(line for line in _commands(document) if "wscli probe" in line)
    server = serve(rate=40.0, seed=_noisy_seed(), require_token=TOKEN)
    args = shlex.split(line)
    assert args[:2] == ["wscli", "probe"]
    junit_file = tmp_path / "probe.xml"
    args = [server.url if a == "$STAGING_WS_URL" else a for a in args[2:]]
    args[args.index("--junit") + 1] = str(junit_file)
    result = run_wscli("probe", *args, env=clean_env(WSCLI_TOKEN=TOKEN))
    assert result.stdout.splitlines()[-1].startswith("OK: ")
    suite = ET.parse(junit_file).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert TOKEN not in result.stdout + junit_file.read_text()
    sent = server.connections[0].by_type
    assert sent["error"] and sent["sensor_status"] and sent["sensor_reading"], sent


@pytest.mark.slow
def test_forbidden_and_invalid_messages_are_shown_in_every_report(
    serve: Any, tmp_path: Path
) -> None:
    """--forbid-type error on the same stream fails, and the text, JSON and JUnit reports
    show the first offending messages, not only a count."""
    server = serve(rate=200.0, seed=_noisy_seed(), invalid_rate=0.05)
    args = [server.url, "--forbid-type", "error", "--validate", "--within", "1"]
    junit_file = tmp_path / "probe.xml"
    text = run_wscli("probe", *args, "--junit", str(junit_file), expect=1)
    shown = [line.strip() for line in text.stdout.splitlines() if line.strip().startswith("#")]
    assert any('"type": "error"' in line or '"type":"error"' in line for line in shown), shown
    assert any(" s (/" in line for line in shown), shown  # an invalid one, with its problem
    cases = {c.get("name"): c for c in ET.parse(junit_file).getroot().iter("testcase")}
    failure = cases["assert: forbid-type error"].find("failure")
    assert failure is not None and "#" in (failure.text or "") and "error" in (failure.text or "")
    doc = json.loads(run_wscli("probe", *args, "-o", "json", expect=1).stdout)
    forbid = next(a for a in doc["assertions"] if a["name"] == "forbid-type error")
    assert 1 <= len(forbid["examples"]) <= 3
    assert all(len(example) < 300 for example in forbid["examples"])
