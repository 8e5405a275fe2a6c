"""Driving the CLI the way users do, and the waits every test shares.

Two drivers: :func:`run_cli` (in-process, ``CliRunner``: quick) and
:func:`run_wscli` (the installed entry point as a subprocess: end to end). Every
wait is a multiple of :func:`unit`, scaled by ``WSCLI_TEST_TIMEOUT_FACTOR`` for
slow machines.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]

TIMEOUT_FACTOR = float(os.environ.get("WSCLI_TEST_TIMEOUT_FACTOR", "1"))


def unit(seconds: float = 1.0) -> float:
    """A wait, scaled for slow machines."""
    return seconds * TIMEOUT_FACTOR


def wscli_executable() -> str:
    """The installed ``wscli`` entry point next to this interpreter."""
    candidate = Path(sys.executable).with_name("wscli")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("wscli")
    assert found, "the wscli entry point is not installed"
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a subprocess: no proxies, no colour surprises."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and k not in ("NO_COLOR", "FORCE_COLOR", "WSCLI_URL", "WSCLI_TOKEN")
    }
    env.update(extra)
    return env


def without_coverage(env: dict[str, str]) -> dict[str, str]:
    """``env`` minus coverage's subprocess measurement (``pytest --cov``).

    For the few tests that check a process-level fact coverage itself would change:
    which modules a command loads (coverage imports tomllib for its config) or what
    a file-size limit does (coverage writes its data file at exit).
    """
    return {key: value for key, value in env.items() if not key.startswith("COVERAGE_")}


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    json_lines: list[Any] = field(default_factory=list)


def _parse_lines(stdout: str) -> list[Any]:
    parsed: list[Any] = []
    for line in stdout.splitlines():
        try:
            parsed.append(json.loads(line))
        except ValueError:
            parsed.append(None)
    return parsed


def run_cli(*args: str, expect: int | None = 0, input: str | None = None) -> CliResult:
    """Run wscli in-process with CliRunner; fail on an unexpected status or a traceback."""
    from wscli.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
    out = CliResult(result.exit_code, result.stdout, result.stderr, _parse_lines(result.stdout))
    assert "Traceback" not in out.stderr, out.stderr
    if expect is not None:
        assert out.exit_code == expect, (out.exit_code, out.stderr, out.stdout[-2000:])
    return out


def run_wscli(
    *args: str,
    expect: int | None = 0,
    timeout: float = 30.0,
    input: str | None = None,
    env: dict[str, str] | None = None,
    allow_traceback: bool = False,
) -> CliResult:
    """Run the installed entry point as a subprocess, the way users do."""
    proc = subprocess.run(
        [wscli_executable(), *args],
        capture_output=True,
        text=True,
        timeout=unit(timeout),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        env=env or clean_env(),
    )
    out = CliResult(proc.returncode, proc.stdout, proc.stderr, _parse_lines(proc.stdout))
    assert allow_traceback or "Traceback" not in out.stderr, out.stderr
    if expect is not None:
        assert out.exit_code == expect, (out.exit_code, out.stderr, out.stdout[-2000:])
    return out


def await_upgrade_request(listener: socket.socket) -> socket.socket:
    """Accept one client and read its whole request: it is now waiting for the 101."""
    listener.settimeout(unit(30))
    conn, _ = listener.accept()
    conn.settimeout(unit(30))
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        assert chunk, "the client closed before sending its request"
        request += chunk
    return conn


def count_json_decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count jsonstream's decode attempts: a one-item list that grows as they happen."""
    import wscli.validate.jsonstream as jsonstream

    count = [0]
    real = jsonstream._DECODER

    class Counting:
        def raw_decode(self, s: str, idx: int = 0) -> tuple[Any, int]:
            count[0] += 1
            return real.raw_decode(s, idx)

    monkeypatch.setattr(jsonstream, "_DECODER", Counting())
    return count
