"""``--stats`` values (not just labels), ``tail`` ended by a normal close, and the
last-resort error handler in ``cli.main``."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli

ROW = re.compile(r"^[│|]\s*(?P<label>\S.*?)\s*[│|]\s*(?P<value>.*?)\s*[│|]$")


def stats_rows(stderr: str) -> dict[str, str]:
    """The ``--stats`` table as {label: value}; type rows keep their two-space indent."""
    rows: dict[str, str] = {}
    for line in stderr.splitlines():
        match = ROW.match(line.strip())
        if match:
            indent = "  " if line.strip()[1:].startswith("   ") else ""
            rows[indent + match["label"]] = match["value"]
    return rows


def test_stats_values_match_what_was_received(serve: Any) -> None:
    """25 messages over 3 connections: every count in the table is the real one."""
    server = serve(
        seed=4, rate=0, drop_after=10, invalid_rate=0.25, malformed_rate=0.1, binary_rate=0.1
    )
    result = run_cli(
        "tail", server.url, "-n", "25", "--validate", "--stats", "--backoff", "0.01", expect=1
    )  # --validate saw invalid messages: exit 1 (#7)
    rows = stats_rows(result.stderr)
    lines = result.json_lines
    assert len(lines) == 25
    binary = sum(1 for m in lines if isinstance(m, dict) and m.get("binary"))
    malformed = result.stderr.count(" is malformed: ")
    invalid = result.stderr.count(" is invalid at ")
    kinds = Counter(
        m["type"] for m in lines if isinstance(m, dict) and isinstance(m.get("type"), str)
    )
    assert binary and malformed and invalid, "the seed should give some of each"
    assert rows["messages"] == "25"
    assert rows["shown"] == "25"
    assert rows["reconnects"] == "2"
    assert rows["invalid"] == str(invalid)
    assert rows["malformed"] == str(malformed)
    assert rows["binary"] == str(binary)
    by_type = {label.strip(): int(v) for label, v in rows.items() if label.startswith("  ")}
    assert by_type == dict(kinds)
    assert sum(by_type.values()) == 25 - binary - malformed
    assert re.fullmatch(r"\d+\.\d msg/s", rows["rate"])
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", rows["last message"])


def test_stats_shown_counts_only_what_passed_the_filter(serve: Any) -> None:
    server = serve(seed=9, rate=0, count=40)
    result = run_cli("tail", server.url, "--type", "sensor_status", "--stats")
    rows = stats_rows(result.stderr)
    assert rows["messages"] == "40"
    assert rows["shown"] == str(len(result.json_lines))
    assert int(rows["  sensor_status"]) == len(result.json_lines)
    assert rows["reconnects"] == "0" and rows["invalid"] == "0" and rows["malformed"] == "0"
    assert "binary" not in rows


def test_stats_with_nothing_received(serve: Any) -> None:
    server = serve(count=0)
    result = run_cli("tail", server.url, "--stats")
    rows = stats_rows(result.stderr)
    assert rows["messages"] == "0" and rows["last message"] == "-"


# -- tail ended by the server's normal close ------------------------------------------------


def test_tail_ends_cleanly_on_a_normal_close(serve: Any) -> None:
    """The server sends 5 then closes 1000: exit 0, all 5 shown, no reconnect."""
    server = serve(count=5, rate=0)
    result = run_cli("tail", server.url)
    assert len(result.json_lines) == 5
    assert result.stderr == "wscli: server closed the stream: 1000 (normal closure)\n"
    assert len(server.connections) == 1


def test_normal_close_before_count_is_a_failed_check(serve: Any) -> None:
    """-n 10 but the server closes 1000 after 5: exit 1, saying how far it got."""
    server = serve(count=5, rate=0)
    result = run_cli("tail", server.url, "-n", "10", expect=1)
    assert len(result.json_lines) == 5
    assert "server closed the stream (1000 (normal closure)) after 5 of 10 messages" in (
        result.stderr
    )


def test_the_close_reason_is_reported() -> None:
    """1000 with a reason: the reason is in the note, and in the failed-count message."""
    from tests.support.raw_peer import PeerConnection, RawPeer

    def one_then_bye(conn: PeerConnection) -> None:
        conn.text('{"n": 1}')
        conn.close(1000, "bye now")

    with RawPeer(one_then_bye) as peer:
        ok = run_cli("tail", peer.url, "--ping-interval", "0")
    assert ok.stderr == "wscli: server closed the stream: 1000 (normal closure) bye now\n"
    with RawPeer(one_then_bye) as peer:
        short = run_cli("tail", peer.url, "-n", "3", "--ping-interval", "0", expect=1)
    assert "(1000 (normal closure) bye now) after 1 of 3 messages" in short.stderr


def test_normal_close_exactly_at_count_is_success(serve: Any) -> None:
    server = serve(count=5, rate=0)
    result = run_cli("tail", server.url, "-n", "5")
    assert len(result.json_lines) == 5
    assert "error" not in result.stderr


@pytest.mark.slow
def test_normal_close_end_to_end(serve: Any) -> None:
    """The installed entry point: exit 0 and the stats table after the server's close."""
    server = serve(count=3, rate=0)
    result = run_wscli("tail", server.url, "--stats")
    assert len(result.json_lines) == 3
    assert "server closed the stream: 1000 (normal closure)" in result.stderr
    assert stats_rows(result.stderr)["messages"] == "3"


# -- cli.main's last-resort handler ---------------------------------------------------------


def _explode(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("kaboom")


def test_unexpected_exception_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug (any exception wscli does not expect) is one line naming it, not a traceback."""
    from wscli import cli

    monkeypatch.setattr("wscli.server.backend.serve_forever", _explode)
    monkeypatch.delenv("WSCLI_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve", "--port", "0", "--quiet"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err == (
        "wscli: error: unexpected RuntimeError: kaboom"
        " (a bug in wscli: rerun with --traceback and report it)\n"
    )


@pytest.mark.parametrize("how", ["flag", "env"])
def test_traceback_option_shows_the_bug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], how: str
) -> None:
    from wscli import cli

    monkeypatch.setattr("wscli.server.backend.serve_forever", _explode)
    args = ["serve", "--port", "0", "--quiet"]
    if how == "flag":
        args.insert(0, "--traceback")
    else:
        monkeypatch.setenv("WSCLI_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="kaboom"):
        cli.main(args)
