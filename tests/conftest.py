"""Shared test helpers: real servers on loopback, two ways to drive the CLI.

Every wait is a multiple of :func:`unit`, scaled by ``WSCLI_TEST_TIMEOUT_FACTOR``
for slow machines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

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


@pytest.fixture
def serve() -> Iterator[Callable[..., Any]]:
    """Start wscli's own mock backend on 127.0.0.1:0; every server is stopped after the test."""
    from wscli.server import ServerConfig, start_in_thread

    running: list[Any] = []

    def start(**config: Any) -> Any:
        config.setdefault("port", 0)
        config.setdefault("rate", 200.0)
        server = start_in_thread(ServerConfig(**config))
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture
def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
