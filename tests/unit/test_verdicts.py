"""Verdicts a CI system can trust (issues #6 and #7).

A run that did not finish is never green and says why (``reason``); exit 7 names
which of its three causes; ``tail --validate`` fails like ``validate``; ``--field``
never hangs on a missing field; ``-o json``/``--junit`` stay bounded in memory.
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_cli, run_wscli, unit, wscli_executable

FAST = ("--connect-timeout", "5")
INVALID_LINE = b'{"type":"sensor_reading","data":{"id":"x"}}\n'


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP, never answers the upgrade."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _run_error(junit: Path) -> ET.Element | None:
    return ET.parse(junit).getroot().find("testsuite/testcase[@name='run']/error")


# -- the machine-readable reason ---------------------------------------------------------------


def test_count_not_reached_reason(serve: Any, tmp_path: Path) -> None:
    """--duration before -n: exit 7, "too few messages", reason count_not_reached, JUnit red."""
    server = serve(rate=10)
    junit = tmp_path / "r.xml"
    result = run_cli(
        "validate", server.url, *FAST, "-n", "1000", "--duration", "0.5", "-o", "json",
        "--junit", str(junit), expect=7,
    )  # fmt: skip
    assert "too few messages" in result.stderr and "--duration" in result.stderr
    document = _document(result)
    assert document["ok"] is False and document["reason"] == "count_not_reached"
    error = _run_error(junit)
    assert error is not None and error.get("type") == "count_not_reached"


def test_closed_before_count_reason(serve: Any, tmp_path: Path) -> None:
    """The server's close before -n: exit 1, reason closed_before_count, a JUnit <error>."""
    server = serve(count=5, rate=0)
    junit = tmp_path / "r.xml"
    result = run_cli(
        "validate", server.url, *FAST, "-n", "50", "-o", "json", "--junit", str(junit), expect=1
    )
    document = _document(result)
    assert document["ok"] is False and document["reason"] == "closed_before_count"
    error = _run_error(junit)
    assert error is not None and error.get("message") == (
        "run: fewer messages than -n after 5 messages"
    )


def test_connection_refused_reason(free_port: int, tmp_path: Path) -> None:
    """A refused connection: exit 3, reason connection_refused, the JUnit error in a run case."""
    junit = tmp_path / "r.xml"
    result = run_cli(
        "validate", f"ws://127.0.0.1:{free_port}/", *FAST, "-o", "json", "--junit", str(junit),
        expect=3,
    )  # fmt: skip
    document = _document(result)
    assert document["ok"] is False and document["reason"] == "connection_refused"
    error = _run_error(junit)
    assert error is not None and "connection refused" in (error.text or "")


def test_connect_timeout_reason(silent_port: int) -> None:
    """A handshake that never answers: exit 7 with reason connect_timeout."""
    result = run_cli(
        "validate", f"ws://127.0.0.1:{silent_port}/", "--connect-timeout", "0.5", "-o", "json",
        expect=7,
    )  # fmt: skip
    assert _document(result)["reason"] == "connect_timeout"


def test_reasons_of_finished_runs(tmp_path: Path) -> None:
    """A finished run: null when it passed, invalid_messages or no_messages when not."""
    good = tmp_path / "good.jsonl"
    good.write_text('{"type": "error", "data": {"message": "x"}}\n')
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(INVALID_LINE)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"wscli": "recording", "version": 1, "url": "ws://x/"}\n')
    assert _document(run_cli("validate", str(good), "-o", "json"))["reason"] is None
    assert _document(run_cli("validate", str(bad), "-o", "json", expect=1))["reason"] == (
        "invalid_messages"
    )
    assert _document(run_cli("validate", str(empty), "-o", "json", expect=1))["reason"] == (
        "no_messages"
    )


def test_stopped_run_with_json_prints_its_summary_on_stderr(serve: Any) -> None:
    """-o json keeps stdout for the document; the cut-short verdict still reaches stderr."""
    server = serve(count=2, rate=0)
    result = run_cli("validate", server.url, *FAST, "-n", "10", "-o", "json", expect=1)
    assert "STOPPED: 2 messages" in result.stderr


# -- exit 7 names its cause in tail ------------------------------------------------------------


@pytest.mark.slow
def test_tail_idle_timeout_names_its_cause(serve: Any) -> None:
    """`--idle-timeout`: the one line says "idle timeout" and names the option."""
    server = serve(rate=0.2)
    result = run_wscli("tail", server.url, "--idle-timeout", "0.5", expect=7)
    assert "idle timeout: no message for 0.5 s (--idle-timeout)" in result.stderr


@pytest.mark.slow
def test_tail_count_not_reached_names_its_cause(serve: Any) -> None:
    """-n not reached within --duration: "too few messages", naming --duration."""
    server = serve(rate=5)
    result = run_wscli("tail", server.url, "-n", "500", "--duration", "0.5", expect=7)
    assert "too few messages: only" in result.stderr and "(--duration)" in result.stderr


# -- tail --validate has a verdict --------------------------------------------------------------


@pytest.mark.slow
def test_tail_validate_exits_1_with_the_counts(serve: Any) -> None:
    """Invalid and malformed messages: tail runs to -n, then exit 1 with the counts."""
    server = serve(seed=3, malformed_rate=0.2, invalid_rate=0.2, rate=0)
    result = run_wscli("tail", server.url, "-n", "40", "--validate", expect=1)
    assert len(result.json_lines) == 40
    malformed = sum(1 for m in result.json_lines if isinstance(m, dict) and "malformed" in m)
    invalid = result.stderr.count("is invalid at")
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"wscli: error: {malformed + invalid} of 40 messages failed validation")
    assert f"({invalid} invalid, {malformed} malformed)" in last


@pytest.mark.slow
def test_tail_validate_all_valid_exits_0(serve: Any) -> None:
    """A clean stream: exit 0, and stderr stays quiet."""
    server = serve(rate=0)
    result = run_wscli("tail", server.url, "-n", "20", "--validate")
    assert len(result.json_lines) == 20
    assert result.stderr == ""


@pytest.mark.slow
def test_tail_validate_when_the_server_closes(serve: Any) -> None:
    """The stream's normal end is an ending too: the verdict still applies."""
    server = serve(count=10, invalid_rate=1.0, rate=0)
    result = run_wscli("tail", server.url, "--validate", expect=1)
    assert "10 of 10 messages failed validation" in result.stderr


# -- --field never hangs --------------------------------------------------------------------------


@pytest.mark.slow
def test_field_missing_everywhere_prints_null(serve: Any) -> None:
    """--field data.nosuch -n 3: three nulls (as jq), one warning, no hang."""
    server = serve(rate=0)
    result = run_wscli("tail", server.url, "--field", "data.nosuch", "-n", "3", timeout=20)
    assert result.stdout.splitlines() == ["null", "null", "null"]
    assert result.stderr.count("--field data.nosuch: not in the first message") == 1


@pytest.mark.slow
def test_field_missing_in_raw_mode_prints_empty_lines(serve: Any) -> None:
    """Outside JSON Lines a missing field is an empty line."""
    server = serve(rate=0)
    result = run_wscli("tail", server.url, "--field", "data.nosuch", "-n", "2", "-o", "raw")
    assert result.stdout == "\n\n"


@pytest.mark.slow
def test_field_present_later_does_not_warn(serve: Any) -> None:
    """Mixed types: the field missing from some messages after it was seen is not a typo."""
    server = serve(rate=0, seed=1)
    result = run_wscli("tail", server.url, "--type", "sensor_reading", "--field", "data.value",
                       "-n", "5")  # fmt: skip
    assert "warning" not in result.stderr
    assert all(line != "null" for line in result.stdout.splitlines())


# -- bounded documents ----------------------------------------------------------------------


def _capped(limit_mb: int, *args: str) -> subprocess.CompletedProcess[bytes]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))

    return subprocess.run(
        [wscli_executable(), *args],
        capture_output=True,
        timeout=unit(120),
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        preexec_fn=cap,
    )


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_documents_stay_bounded_on_8mb_of_invalid_lines(tmp_path: Path, fmt: str) -> None:
    """8 MB of invalid lines under a 250 MB address-space cap: exact counts, 1,000 listed."""
    data = tmp_path / "bad.jsonl"
    lines = 8_000_000 // len(INVALID_LINE)
    data.write_bytes(INVALID_LINE * lines)
    junit = tmp_path / "r.xml"
    args = ["-o", "json"] if fmt == "json" else ["-q", "--junit", str(junit)]
    proc = _capped(250, "validate", str(data), *args)
    assert proc.returncode == 1, proc.stderr[-500:]
    if fmt == "json":
        document = json.loads(proc.stdout)
        assert document["summary"]["invalid"] == lines
        assert document["failures_listed"] == 1000
        assert document["failures_not_listed"] == lines - 1000
        assert document["note"] == (
            f"... and {lines - 1000} more failing messages not listed (--max-errors 1000)"
        )
        assert document["max_errors"] == 1000
    else:
        failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
        assert failure is not None
        assert (failure.text or "").endswith(f"... and {lines - 1000} more not listed")


def _places(text: str) -> set[str]:
    return {line.split(": ")[0] for line in text.splitlines() if "bad.jsonl:" in line}


def test_max_errors_bounds_the_junit_while_text_lists_all(tmp_path: Path) -> None:
    """Text streams every failure; the JUnit file beside it keeps only --max-errors."""
    data = tmp_path / "bad.jsonl"
    data.write_bytes(INVALID_LINE * 30)
    junit = tmp_path / "r.xml"
    result = run_cli("validate", str(data), "--junit", str(junit), expect=1)
    assert len(_places(result.stdout)) == 30
    limited = run_cli("validate", str(data), "--junit", str(junit), "--max-errors", "4", expect=1)
    assert len(_places(limited.stdout)) == 4
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None and (failure.text or "").endswith("... and 26 more not listed")
