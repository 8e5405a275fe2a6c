"""Helpers for the probe tests: run probe with every report and check they agree."""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cli import CliResult, clean_env, run_wscli
from tests.support.listener import ThreadedListener


@dataclass
class Probed:
    result: CliResult
    doc: dict[str, Any]
    junit: ET.Element

    def step(self, name: str) -> dict[str, Any]:
        return next(s for s in self.doc["steps"] if s["name"] == name)

    @property
    def failed(self) -> dict[str, Any]:
        return next(s for s in self.doc["steps"] if s["status"] == "failed")

    def assertion(self, name: str) -> dict[str, Any]:
        return next(a for a in self.doc["assertions"] if a["name"] == name)


def check_reports_agree(doc: dict[str, Any], junit: ET.Element, exit_code: int) -> None:
    """The JSON document, the JUnit file and the exit status tell one story."""
    assert doc["exit_code"] == exit_code
    assert doc["ok"] is (exit_code == 0)
    suite = junit.find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["exit_code"] == str(exit_code)
    failures = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
    assert (failures == 0) is (exit_code == 0), (failures, exit_code)
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    for step in doc["steps"]:
        case = cases[f"step: {step['name']}"]
        if step["status"] == "failed":
            failure = case.find("failure")
            assert failure is not None
            if step["hint"]:
                assert step["hint"] in (failure.text or "")
        elif step["status"] in ("not run", "skipped"):
            assert case.find("skipped") is not None
        else:
            assert case.find("failure") is None and case.find("skipped") is None
    for check in doc["assertions"]:
        case = cases[f"assert: {check['name']}"]
        if check["ok"] is False:
            assert case.find("failure") is not None
        elif check["ok"] is None:
            assert case.find("skipped") is not None
    # A run cut short (a signal, the stream lost in the window) has one more: an error.
    cut_short = (
        doc["interrupted"]
        or doc["reason"] == "connection_lost"
        and not any(s["status"] == "failed" for s in doc["steps"])
    )
    if cut_short:
        run = cases["run"].find("error")
        assert run is not None and run.get("type") == doc["reason"]
    assert len(cases) == len(doc["steps"]) + len(doc["assertions"]) + cut_short


def probe(tmp_path: Path, *args: str, expect: int, env: dict[str, str] | None = None) -> Probed:
    """``wscli probe ARGS -o json --junit FILE`` as a subprocess; both reports checked."""
    junit_file = tmp_path / "probe.xml"
    result = run_wscli(
        "probe", *args, "-o", "json", "--junit", str(junit_file), expect=expect, env=env
    )
    doc = json.loads(result.stdout)
    junit = ET.parse(junit_file).getroot()
    check_reports_agree(doc, junit, expect)
    if expect != 0:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("wscli: error: "), result.stderr
    return Probed(result, doc, junit)


def env_with(**extra: str) -> dict[str, str]:
    return clean_env(**extra)


class CannedHTTPServer(ThreadedListener):
    """A raw-socket HTTP server that answers every request with one fixed response
    (a proxy whose backend is down says 502, for instance)."""

    def __init__(self, response: bytes) -> None:
        super().__init__(accept_timeout=0.2, concurrent=False)
        self.response = response

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(2)
        request = b""
        try:
            while b"\r\n\r\n" not in request and len(request) < 65536:
                chunk = client.recv(4096)
                if not chunk:
                    break
                request += chunk
            client.sendall(self.response)
        except OSError:
            pass
