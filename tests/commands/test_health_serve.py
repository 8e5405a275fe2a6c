"""``wscli serve``'s stream faults, end to end: the real server and CLI, then --health."""

from __future__ import annotations

import json
import select
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli, unit, wscli_executable
from wscli.errors import BadUsage
from wscli.server.config import stream_faults
from wscli.server.simulator import DEFAULT_STALE_AFTER


def test_fault_options_become_stream_faults() -> None:
    faults = stream_faults(
        stale=("3", "4:12.5"), skew=("600", "2:-90"), flatline=("5",), duplicate_rate=0.1
    )
    assert faults is not None
    assert faults.stale == {3: DEFAULT_STALE_AFTER, 4: 12.5}
    assert faults.skew == {None: 600.0, 2: -90.0}
    assert faults.flatline == frozenset({5})
    assert stream_faults() is None  # no fault: the simulator runs clean


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"stale": ("x",)}, "--stale-sensor 'x'"),
        ({"stale": ("3:soon",)}, "'soon' is not a number of seconds"),
        ({"stale": ("3:-1",)}, "'-1' is not a number of seconds"),
        ({"skew": ("a:5",)}, "--skew 'a:5'"),
        ({"skew": ("fast",)}, "--skew 'fast'"),
        ({"flatline": ("five",)}, "--flatline 'five'"),
    ],
)
def test_bad_fault_options_name_the_option(kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(BadUsage) as caught:
        stream_faults(**kwargs)
    assert expected in caught.value.message


@pytest.fixture
def served() -> Iterator[Any]:
    """``wscli serve --port 0 --json ARGS``: yields a function returning the URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> str:
        proc = subprocess.Popen(
            [wscli_executable(), "serve", "--port", "0", "--json", "-q", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
        )
        procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], unit(20))
        assert ready, "serve printed no ready line"
        return str(json.loads(proc.stdout.readline())["url"])

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=unit(20))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "check", "level"),
    [
        (("--duplicate-rate", "0.05"), "duplicates", "fail"),
        (("--reorder-rate", "0.05"), "order", "fail"),
        (("--skew", "4:600"), "clock_skew", "fail"),
        (("--spike-rate", "0.05"), "plausibility", "fail"),
        (("--flatline", "6"), "plausibility", "suspect"),
        (("--status-rate", "0.05"), "status", "suspect"),
    ],
)
def test_each_serve_fault_is_named_by_validate_health(
    served: Any, fault: tuple[str, ...], check: str, level: str
) -> None:
    """serve's fault flag -> validate --health over the wire: the right check and level."""
    url = served("--seed", "9", "--rate", "250", "--count", "400", *fault)
    result = run_wscli("validate", url, "-n", "400", "--health", "-o", "json", expect=None)
    health = json.loads(result.stdout)["health"]
    found = {(f["check"], f["level"]) for s in health["sources"] for f in s["flags"]}
    assert found == {(check, level)}, found
    assert result.exit_code == (1 if level == "fail" else 0)
    if fault[0] in ("--skew", "--flatline"):
        flagged = [s["source"] for s in health["sources"] if s["flags"]]
        assert flagged == [fault[1].split(":")[0]]


@pytest.mark.slow
def test_a_clean_serve_stream_passes_health(served: Any) -> None:
    url = served("--seed", "2", "--rate", "250", "--count", "500")
    result = run_wscli("validate", url, "-n", "500", "--health", "--expect-sensors", "8")
    assert result.stdout.splitlines()[-1] == "health OK: 8 sources: 8 pass, 0 suspect, 0 fail"
