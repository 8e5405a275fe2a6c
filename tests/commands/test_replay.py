"""wscli replay: terminal playback, --serve, --to, damaged recordings (issue #9)."""

from __future__ import annotations

import json
import select
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_cli, run_wscli, unit, wscli_executable

Serve = Callable[..., Any]


# -- helpers ----------------------------------------------------------------------------------


def write_recording(path: Path, frames: list[dict[str, Any]], version: int = 1) -> Path:
    header = {"wscli": "recording", "version": version, "url": "ws://x/", "started": "now"}
    lines = [json.dumps(header)] + [json.dumps(f) for f in frames]
    path.write_text("\n".join(lines) + "\n")
    return path


def text_frame(t: float, text: str, direction: str = "in") -> dict[str, Any]:
    return {"t": t, "dir": direction, "op": "text", "len": len(text), "text": text}


def reading(n: int, value: float = 1.0) -> str:
    return json.dumps({"type": "sensor_reading", "data": {"id": n, "sensor_id": 1, "value": value}})


def frame_times(path: Path) -> list[float]:
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    return [o["t"] for o in lines if o.get("dir") == "in" and o.get("op") == "text"]


def frame_texts(path: Path) -> list[str]:
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    return [o["text"] for o in lines if o.get("dir") == "in" and o.get("op") == "text"]


class ReplayServer:
    """``wscli replay --serve 0`` as a subprocess; the URL comes from its first line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [wscli_executable(), "replay", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        assert self.proc.stderr is not None
        ready, _, _ = select.select([self.proc.stderr], [], [], unit(15))
        assert ready, "replay --serve did not announce itself"
        line = self.proc.stderr.readline()
        assert " at " in line, line
        self.url = line.split(" at ")[1].split(" ")[0]

    def stop(self) -> str:
        import signal

        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=unit(10))
        assert self.proc.returncode == 130, err
        return err


@pytest.fixture
def replay_server() -> Iterator[Callable[..., ReplayServer]]:
    started: list[ReplayServer] = []

    def start(*args: str) -> ReplayServer:
        server = ReplayServer(*args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


# -- round trip -------------------------------------------------------------------------------


@pytest.mark.slow
def test_round_trip_keeps_messages_order_and_gaps(
    serve: Serve, tmp_path: Path, replay_server: Callable[..., ReplayServer]
) -> None:
    """tail --record, replay --serve, tail again: same 100 messages, gaps within 20 ms."""
    source = serve(seed=1, count=100, rate=50.0)
    original = tmp_path / "original.jsonl"
    run_wscli("tail", source.url, "--record", str(original), "-o", "jsonl", timeout=30)
    assert len(frame_texts(original)) == 100

    server = replay_server(str(original), "--serve", "0", "-q")
    copy = tmp_path / "copy.jsonl"
    run_wscli("tail", server.url, "--record", str(copy), "-o", "jsonl", "-n", "100", timeout=30)
    assert frame_texts(copy) == frame_texts(original)
    recorded, seen = frame_times(original), frame_times(copy)
    recorded_gaps = [b - a for a, b in zip(recorded, recorded[1:], strict=False)]
    seen_gaps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    errors = [abs(s - r) for r, s in zip(recorded_gaps, seen_gaps, strict=True)]
    assert statistics.median(errors) <= 0.020, statistics.median(errors)

    fast = replay_server(str(original), "--serve", "0", "-q", "--speed", "10")
    quick = tmp_path / "quick.jsonl"
    run_wscli("tail", fast.url, "--record", str(quick), "-o", "jsonl", "-n", "100", timeout=30)
    assert frame_texts(quick) == frame_texts(original)
    span_recorded = recorded[-1] - recorded[0]
    quick_times = frame_times(quick)
    span_quick = quick_times[-1] - quick_times[0]
    assert span_recorded / 10 * 0.7 <= span_quick <= span_recorded / 10 + 0.15, (
        span_recorded,
        span_quick,
    )
    server.stop()
    fast.stop()


def test_serve_many_clients_at_once_and_the_recorded_close(
    tmp_path: Path, replay_server: Callable[..., ReplayServer]
) -> None:
    """Three clients at once each get every frame, text and binary, then close 4001 bye."""
    frames = [text_frame(i * 0.01, reading(i)) for i in range(20)]
    frames.append({"t": 0.2, "dir": "in", "op": "binary", "len": 2, "b64": "AAE="})
    frames.append({"t": 0.21, "dir": "in", "op": "close", "len": 5, "code": 4001, "reason": "bye"})
    path = write_recording(tmp_path / "rec.jsonl", frames)
    server = replay_server(str(path), "--serve", "127.0.0.1:0", "--path", "/feed")
    assert server.url.endswith("/feed")
    procs = [
        subprocess.Popen(
            [wscli_executable(), "tail", server.url, "-o", "jsonl", "--no-reconnect"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        for _ in range(3)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=unit(20))
        lines = [json.loads(line) for line in out.splitlines()]
        assert [o["data"]["id"] for o in lines[:20]] == list(range(20))
        assert lines[20] == {"binary": True, "len": 2, "b64": "AAE="}
        assert "4001" in err and "bye" in err
    log = server.stop()
    assert log.count("closed 4001") == 3


def test_serve_loop_starts_over(tmp_path: Path, replay_server: Callable[..., ReplayServer]) -> None:
    """--loop plays the recording again instead of closing."""
    path = write_recording(
        tmp_path / "rec.jsonl", [text_frame(i * 0.005, reading(i)) for i in range(3)]
    )
    server = replay_server(str(path), "--serve", "0", "--loop", "-q")
    result = run_wscli("tail", server.url, "-n", "8", "-o", "jsonl", "--field", "data.id")
    assert result.stdout.split() == ["0", "1", "2", "0", "1", "2", "0", "1"]
    server.stop()


def test_serve_tls(tmp_path: Path, replay_server: Callable[..., ReplayServer]) -> None:
    """--certfile/--keyfile serve wss:// through the server's one TLS setup."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
        str(tmp_path / "server.pem")
    )
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    path = write_recording(tmp_path / "rec.jsonl", [text_frame(0, reading(1))])
    server = replay_server(str(path), "--serve", "0", "--certfile", str(tmp_path / "server.pem"))
    assert server.url.startswith("wss://")
    result = run_wscli("tail", server.url, "--cacert", str(tmp_path / "ca.pem"), "-n", "1")
    assert result.json_lines[0]["data"]["id"] == 1
    server.stop()


# -- on the terminal --------------------------------------------------------------------------


def test_terminal_playback_uses_tail_filters_and_fields(tmp_path: Path) -> None:
    """--type, --field and -n apply as in tail; sent frames are not shown."""
    frames = [
        text_frame(0.0, reading(1, 10.5)),
        text_frame(0.01, json.dumps({"type": "sensor_status", "data": {"sensor_id": 1}})),
        text_frame(0.02, "hello", direction="out"),
        text_frame(0.03, reading(2, 11.5)),
        text_frame(0.04, reading(3, 12.5)),
    ]
    path = write_recording(tmp_path / "rec.jsonl", frames)
    result = run_cli(
        "replay",
        str(path),
        "--no-delay",
        "--type",
        "sensor_reading",
        "--field",
        "data.value",
        "-n",
        "2",
    )
    assert result.stdout.split() == ["10.5", "11.5"]
    everything = run_cli("replay", str(path), "--no-delay", "-o", "jsonl")
    assert [o["type"] for o in everything.json_lines] == [
        "sensor_reading",
        "sensor_status",
        "sensor_reading",
        "sensor_reading",
    ]


def test_from_until_and_speed(tmp_path: Path) -> None:
    """--from/--until pick a window by recorded time; --speed scales the gaps."""
    frames = [text_frame(i * 0.1, reading(i)) for i in range(10)]
    path = write_recording(tmp_path / "rec.jsonl", frames)
    window = run_cli(
        "replay", str(path), "--from", "0.3", "--until", "0.55", "--no-delay", "--field", "data.id"
    )
    assert window.stdout.split() == ["3", "4", "5"]
    began = time.monotonic()
    run_cli("replay", str(path), "--speed", "4")
    elapsed = time.monotonic() - began
    assert 0.9 / 4 * 0.8 <= elapsed <= 0.9 / 4 + unit(1.0), elapsed


def test_validate_marks_invalid_recorded_messages(tmp_path: Path) -> None:
    """--fail-on-invalid works on a recording as on a live stream (exit 1)."""
    path = write_recording(tmp_path / "rec.jsonl", [text_frame(0, '{"type": "sensor_reading"}')])
    result = run_cli("replay", str(path), "--no-delay", "--fail-on-invalid", expect=1)
    assert "invalid" in result.stderr


# -- damaged recordings -----------------------------------------------------------------------


@pytest.fixture
def five_frames(tmp_path: Path) -> Path:
    return write_recording(
        tmp_path / "rec.jsonl", [text_frame(i * 0.001, reading(i)) for i in range(5)]
    )


def test_truncated_last_line_is_named(five_frames: Path) -> None:
    """A recorder killed mid-line leaves a cut-off last line: exit 2 naming line 6."""
    text = five_frames.read_text()
    five_frames.write_text(text[: len(text) - 20])
    result = run_wscli("replay", str(five_frames), "--no-delay", expect=2)
    assert "line 6" in result.stderr and "cut off" in result.stderr
    assert result.stdout == ""  # nothing is played from a recording that fails the check
    lenient = run_wscli("replay", str(five_frames), "--no-delay", "--lenient", "--field", "data.id")
    assert lenient.stdout.split() == ["0", "1", "2", "3"]
    assert "line 6" in lenient.stderr


def test_corrupt_line_is_named(five_frames: Path) -> None:
    """A line that is not JSON, or a frame with a bad field, is an error naming its line."""
    lines = five_frames.read_text().splitlines()
    lines[2] = "{not json"
    lines[4] = json.dumps({"t": "soon", "dir": "in", "op": "text", "text": "x"})
    five_frames.write_text("\n".join(lines) + "\n")
    result = run_wscli("replay", str(five_frames), "--no-delay", expect=2)
    assert result.stderr.count("\n") == 1 and "line 3" in result.stderr
    assert "Traceback" not in result.stderr
    lenient = run_wscli("replay", str(five_frames), "--no-delay", "--lenient", "--field", "data.id")
    assert lenient.stdout.split() == ["0", "2", "4"]
    assert "line 3" in lenient.stderr and "line 5" in lenient.stderr


def test_future_version_is_named(tmp_path: Path) -> None:
    """A recording from a newer wscli is refused at line 1; --lenient tries anyway."""
    path = write_recording(tmp_path / "rec.jsonl", [text_frame(0, reading(7))], version=2)
    result = run_wscli("replay", str(path), expect=2)
    assert "line 1" in result.stderr and "version 2" in result.stderr
    lenient = run_wscli("replay", str(path), "--lenient", "--field", "data.id")
    assert lenient.stdout.split() == ["7"]


def test_not_a_recording(tmp_path: Path) -> None:
    """A plain JSON Lines file is not a recording: exit 2, one line."""
    path = tmp_path / "plain.jsonl"
    path.write_text(reading(1) + "\n")
    result = run_wscli("replay", str(path), expect=2)
    assert "not a wscli recording" in result.stderr


def test_bad_combinations_are_usage_errors(five_frames: Path) -> None:
    """--serve with --to, or --expect-same without --to, is exit 2."""
    run_cli("replay", str(five_frames), "--serve", "0", "--to", "ws://127.0.0.1:1/", expect=2)
    run_cli("replay", str(five_frames), "--expect-same", expect=2)
    run_cli("replay", str(five_frames), "--serve", "nope", expect=2)


# -- --to -------------------------------------------------------------------------------------


def _session(serve: Serve, tmp_path: Path) -> tuple[Any, Path]:
    """Record a connect session against the echo server."""
    server = serve(echo=True)
    path = tmp_path / "session.jsonl"
    run_wscli(
        "connect",
        server.url,
        "--send",
        '{"value": 75.5}',
        "--send",
        "two",
        "-n",
        "2",
        "--record",
        str(path),
    )
    return server, path


def _change_reply(path: Path, old: str, new: str) -> Path:
    changed = path.with_name("changed.jsonl")
    out = []
    for line in path.read_text().splitlines():
        obj = json.loads(line)
        if obj.get("dir") == "in" and obj.get("op") == "text":
            obj["text"] = obj["text"].replace(old, new)
        out.append(json.dumps(obj))
    changed.write_text("\n".join(out) + "\n")
    return changed


def test_to_expect_same_passes_against_the_same_server(serve: Serve, tmp_path: Path) -> None:
    """--to sends the recorded frames and the replies match the recorded ones."""
    server, path = _session(serve, tmp_path)
    result = run_wscli(
        "replay", str(path), "--to", server.url, "--expect-same", "--wait", "1", "-o", "jsonl"
    )
    assert [o["data"]["text"] for o in result.json_lines] == ['{"value": 75.5}', "two"]
    assert "2 replies match" in result.stderr


def test_to_expect_same_fails_on_an_extra_reply_at_the_end(serve: Serve, tmp_path: Path) -> None:
    """A reply after the last recorded one (within --wait) is a difference, as mid-recording.

    The target plays two messages, 0.5 s apart; the recording expects only the first.
    """
    from wscli.playback import ReplayPlan

    streamed = write_recording(
        tmp_path / "target.jsonl", [text_frame(0.0, reading(1)), text_frame(0.5, reading(2))]
    )
    server = serve(replay=ReplayPlan(str(streamed)))
    path = write_recording(
        tmp_path / "session.jsonl",
        [text_frame(0.0, "hi", direction="out"), text_frame(0.01, reading(1))],
    )
    result = run_wscli(
        "replay", str(path), "--to", server.url, "--expect-same", "--wait", "2", expect=1
    )
    assert "#2 unexpected reply" in result.stderr
    assert "replies match" not in result.stderr


def test_to_reports_missing_replies(serve: Serve, tmp_path: Path) -> None:
    """A recorded reply that never comes is a difference, after --wait."""
    server, path = _session(serve, tmp_path)
    lines = path.read_text().splitlines()
    extra = json.loads([line for line in lines if '"dir":"in","op":"text"' in line][-1])
    extra["t"] += 0.01
    path.write_text("\n".join([*lines, json.dumps(extra)]) + "\n")
    result = run_wscli(
        "replay", str(path), "--to", server.url, "--expect-same", "--wait", "0.3", expect=1
    )
    assert "#3 missing reply" in result.stderr


def test_a_reconnecting_client_gets_the_playback_again(
    tmp_path: Path, replay_server: Callable[..., ReplayServer]
) -> None:
    """Like the seed's browser client: after the recorded close it reconnects and gets it all."""
    frames = [text_frame(i * 0.005, reading(i)) for i in range(3)]
    frames.append({"t": 0.02, "dir": "in", "op": "close", "len": 2, "code": 1012, "reason": ""})
    path = write_recording(tmp_path / "rec.jsonl", frames)
    server = replay_server(str(path), "--serve", "0", "-q")
    result = run_wscli(
        "tail", server.url, "-n", "6", "--backoff", "0.05", "-o", "jsonl", "--field", "data.id"
    )
    assert result.stdout.split() == ["0", "1", "2", "0", "1", "2"]
    assert "reconnected" in result.stderr
    server.stop()


def test_tail_output_options_apply(tmp_path: Path) -> None:
    """--with-received-at, --stats-json and -o json work as in tail."""
    path = write_recording(
        tmp_path / "rec.jsonl", [text_frame(0, reading(1)), text_frame(0.01, reading(2))]
    )
    stats = tmp_path / "stats.json"
    result = run_cli(
        "replay", str(path), "--no-delay", "--with-received-at", "--stats-json", str(stats)
    )
    assert [o["message"]["data"]["id"] for o in result.json_lines] == [1, 2]
    assert all("received_at" in o for o in result.json_lines)
    assert json.loads(stats.read_text())["messages"] == 2
    assert len(run_cli("replay", str(path), "--no-delay", "-o", "json").json_lines) == 2


def test_fewer_messages_than_asked_is_a_failed_check(tmp_path: Path) -> None:
    """-n beyond what the recording holds is exit 1, saying how many there were."""
    path = write_recording(tmp_path / "rec.jsonl", [text_frame(0, reading(1))])
    result = run_cli("replay", str(path), "--no-delay", "-n", "3", expect=1)
    assert "holds only 1 of 3" in result.stderr
