"""Name resolution ends by --connect-timeout: a name server that never answers.

A test cannot point the C library at a silent name server without changing
``/etc/resolv.conf``, so the hang is made where wscli meets it: ``getaddrinfo``
for names under ``.slow.test`` blocks (bounded), every other name resolves as usual.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest

from tests.support.cli import run_cli, unit
from wscli.net.resolving import ResolveTimeout, is_address, resolve_within

HANG = 5.0  # seconds a hung lookup blocks before it fails (far past every deadline here)


@pytest.fixture
def silent_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``getaddrinfo`` hangs for ``*.slow.test``; returns the names asked for."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".slow.test"):
            asked.append(host)
            time.sleep(HANG)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_tail_gives_up_on_a_silent_name_server_at_the_connect_timeout(
    silent_dns: list[str],
) -> None:
    started = time.monotonic()
    result = run_cli("tail", "ws://stream.slow.test:9/", "--connect-timeout", "0.5", expect=7)
    assert time.monotonic() - started < unit(3)  # not the lookup's 5 s
    assert silent_dns == ["stream.slow.test"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("wscli: error: connect timeout after 0.5 s (name resolution)"), line
    assert "the name server did not answer in time" in line


def test_probe_fails_its_resolve_step_at_the_connect_timeout(silent_dns: list[str]) -> None:
    started = time.monotonic()
    result = run_cli(
        "probe", "ws://stream.slow.test:9/", "--connect-timeout", "0.5", "-o", "json", expect=7
    )
    assert time.monotonic() - started < unit(3)
    doc = json.loads(result.stdout)
    resolve = next(step for step in doc["steps"] if step["name"] == "resolve")
    assert resolve["ok"] is False
    assert "name resolution" in resolve["error"]
    assert doc["exit_code"] == 7


def test_an_answer_in_time_is_returned_and_a_failure_raised_in_the_caller() -> None:
    assert resolve_within(unit(5), "example.test", lambda: ["10.0.0.1"]) == ["10.0.0.1"]

    def refuse() -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(socket.gaierror):
        resolve_within(unit(5), "example.test", refuse)


def test_the_deadline_is_kept_and_the_lookup_left_behind() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(ResolveTimeout, match="'example.test' within 0.2 s"):
        resolve_within(0.2, "example.test", lambda: release.wait(unit(10)))
    assert time.monotonic() - started < unit(2)
    release.set()


def test_an_ip_address_is_resolved_without_a_thread() -> None:
    caller = threading.current_thread()
    seen: list[threading.Thread] = []
    resolve_within(0.0, "127.0.0.1", lambda: seen.append(threading.current_thread()))
    resolve_within(0.0, "[::1]", lambda: seen.append(threading.current_thread()))
    assert seen == [caller, caller]
    assert is_address("::1") and not is_address("localhost")
