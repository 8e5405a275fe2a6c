"""The mock backend: real servers on 127.0.0.1:0, a websockets client on the test side."""

from __future__ import annotations

import collections
import json
import re
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.support.cli import clean_env, run_wscli, unit, wscli_executable
from wscli.checks.schema import Validator, compile_schema
from wscli.errors import BadUsage
from wscli.server.backend import BINARY_MAGIC, start_in_thread
from wscli.server.config import ServerConfig

Serve = Callable[..., Any]


@pytest.fixture(scope="module")
def validator() -> Validator:
    return compile_schema()


def receive_all(ws: ClientConnection, limit: int = 10_000) -> tuple[list[str | bytes], Any]:
    """Frames until the connection ends (bounded); returns them and the closing exception."""
    frames: list[str | bytes] = []
    while len(frames) < limit:
        try:
            frames.append(ws.recv(timeout=unit(5)))
        except ConnectionClosed as exc:
            return frames, exc
    raise AssertionError(f"more than {limit} frames")


def classify(frame: str | bytes, validator: Validator) -> str:
    """What a client would call this frame."""
    if isinstance(frame, bytes):
        return "binary"
    try:
        message = json.loads(frame)
    except ValueError:
        return "malformed"
    return message["type"] if validator.is_valid(message) else "invalid"


def rejected(url: str, **kwargs: Any) -> Any:
    """The HTTP response of a refused upgrade."""
    with pytest.raises(InvalidStatus) as info:
        connect(url, open_timeout=unit(5), **kwargs)
    return info.value.response


# -- streaming ----------------------------------------------------------------------------


def test_messages_validate(serve: Serve, validator: Validator) -> None:
    """A client gets a stream of text frames that all validate."""
    server = serve(seed=1)
    with connect(server.url, open_timeout=unit(5)) as ws:
        messages = [json.loads(ws.recv(timeout=unit(5))) for _ in range(50)]
    assert all(validator.is_valid(m) for m in messages)
    assert server.url == f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"


def test_count_then_close_1000(serve: Serve) -> None:
    """--count N: exactly N messages, then a normal close; the log line says so."""
    lines: list[str] = []
    server = serve(count=25, seed=2, log=lines.append)
    with connect(server.url) as ws:
        frames, closed = receive_all(ws)
    assert len(frames) == 25
    assert closed.rcvd is not None and closed.rcvd.code == 1000
    [stats] = server.wait_for_connections(1, unit(5))
    assert stats.done and stats.sent == 25 and stats.close_code == 1000
    types = collections.Counter(json.loads(f)["type"] for f in frames)
    assert stats.by_type == {t: types[t] for t in ("sensor_reading", "sensor_status", "error")}
    assert re.fullmatch(
        r"serve: 127\.0\.0\.1:\d+ closed 1000 after 25 messages \(sensor_reading \d+, "
        r"sensor_status \d+, error \d+; malformed 0, invalid 0, binary 0\)",
        lines[-1],
    ), lines


def test_drop_after_is_abrupt(serve: Serve) -> None:
    """--drop-after N: N messages, then TCP goes away with no close frame (1006)."""
    server = serve(drop_after=7)
    with connect(server.url) as ws:
        frames, closed = receive_all(ws)
    assert len(frames) == 7
    assert closed.rcvd is None  # no close frame from the server
    [stats] = server.wait_for_connections(1, unit(5))
    assert stats.ending == "dropped" and stats.close_code == 1006
    assert "dropped (no close frame) after 7 messages" in stats.summary()


def test_close_after_with_code_and_reason(serve: Serve) -> None:
    """--close-after N --close-code 1011: the client sees 1011 and the reason."""
    server = serve(close_after=4, close_code=1011, close_reason="backend exploded")
    with connect(server.url) as ws:
        frames, closed = receive_all(ws)
    assert len(frames) == 4
    assert closed.rcvd.code == 1011 and closed.rcvd.reason == "backend exploded"


def test_earliest_limit_wins(serve: Serve) -> None:
    """With --count and --close-after both set, the smaller one ends the stream."""
    server = serve(count=10, close_after=3, close_code=4000)
    with connect(server.url) as ws:
        frames, closed = receive_all(ws)
    assert (len(frames), closed.rcvd.code) == (3, 4000)


def test_fault_rates_match_what_the_client_saw(serve: Serve, validator: Validator) -> None:
    """Malformed, invalid and binary frames arrive, and the stats count them exactly."""
    server = serve(count=400, rate=0, seed=3, malformed_rate=0.1, invalid_rate=0.1, binary_rate=0.1)
    with connect(server.url) as ws:
        frames, _ = receive_all(ws)
    seen = collections.Counter(classify(f, validator) for f in frames)
    [stats] = server.wait_for_connections(1, unit(5))
    assert (seen["malformed"], seen["invalid"], seen["binary"]) == (
        stats.malformed,
        stats.invalid,
        stats.binary,
    )
    assert all(seen[t] == n for t, n in stats.by_type.items())
    assert min(stats.malformed, stats.invalid, stats.binary) >= 15
    assert all(f.startswith(BINARY_MAGIC) for f in frames if isinstance(f, bytes))
    assert len(frames) == stats.sent == 400


def test_rate_paces_on_a_schedule(serve: Serve) -> None:
    """--rate 50: 26 messages take about half a second (first one at once)."""
    server = serve(rate=50)
    with connect(server.url) as ws:
        ws.recv(timeout=unit(5))
        start = time.monotonic()
        for _ in range(25):
            ws.recv(timeout=unit(5))
        elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 0.5 + unit(0.5)


def test_seed_reproduces_each_clients_stream(serve: Serve) -> None:
    """Same --seed, same stream for client N (timestamps aside); the next client differs."""

    def shape(url: str) -> list[tuple[Any, ...]]:
        with connect(url) as ws:
            frames, _ = receive_all(ws)
        return [
            (m["type"], m["data"].get("sensor_id"), m["data"].get("value"))
            for m in map(json.loads, frames)
        ]

    first = serve(seed=42, count=40, rate=0)
    second = serve(seed=42, count=40, rate=0)
    first_client, same_client, next_client = shape(first.url), shape(second.url), shape(first.url)
    assert first_client == same_client
    assert next_client != first_client
    assert [s.seed for s in first.wait_for_connections(2, unit(5))] == [42, 43]


def test_two_clients_at_once(serve: Serve) -> None:
    """Two clients stream concurrently, each with its own simulator."""
    server = serve(rate=100, seed=5)
    with connect(server.url) as a, connect(server.url) as b:
        got_a = [json.loads(a.recv(timeout=unit(5))) for _ in range(20)]
        got_b = [json.loads(b.recv(timeout=unit(5))) for _ in range(20)]
    assert len(got_a) == len(got_b) == 20
    assert {s.index for s in server.connections} == {0, 1}


def test_client_chatter_and_close_are_handled(serve: Serve) -> None:
    """A client sending many frames then closing 1000 is read, not ignored."""
    lines: list[str] = []
    server = serve(rate=5, log=lines.append)
    with connect(server.url) as ws:
        for i in range(100):
            ws.send(f"hello {i}")
        ws.recv(timeout=unit(5))
        ws.close(1000, "bye")
    [stats] = server.wait_for_connections(1, unit(5))
    assert stats.ending == "closed by client" and stats.close_code == 1000
    assert stats.received == 100
    assert "closed 1000 by client" in lines[-1]


def test_client_vanishing_is_quiet(serve: Serve, capfd: pytest.CaptureFixture[str]) -> None:
    """A client that drops TCP mid-stream ends its connection without a traceback."""
    lines: list[str] = []
    server = serve(rate=0, log=lines.append)
    with connect(server.url) as ws:
        ws.recv(timeout=unit(5))
        ws.socket.shutdown(socket.SHUT_RDWR)
        ws.socket.close()
    [stats] = server.wait_for_connections(1, unit(5))
    assert stats.done and stats.ending in ("lost", "closed by client")
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err


# -- handshake ----------------------------------------------------------------------------


def test_wrong_path_is_404_naming_the_right_one(serve: Serve) -> None:
    """A wrong path gets 404 and a body that says where the stream is."""
    server = serve()
    response = rejected(server.url.replace("/api/ws/sensor/stream", "/ws"))
    assert response.status_code == 404
    assert b"/api/ws/sensor/stream" in response.body


def test_token_required(serve: Serve) -> None:
    """--require-token: 401 without or with a wrong token; header or ?token= both work."""
    lines: list[str] = []
    server = serve(require_token="s3cret", count=1, log=lines.append)
    response = rejected(server.url)
    assert response.status_code == 401
    assert b"Bearer" in response.body and response.headers["WWW-Authenticate"]
    assert (
        rejected(server.url, additional_headers={"Authorization": "Bearer nope"}).status_code == 401
    )
    with connect(server.url, additional_headers={"Authorization": "Bearer s3cret"}) as ws:
        assert receive_all(ws)[0]
    with connect(server.url + "?token=s3cret") as ws:
        assert receive_all(ws)[0]
    assert any("rejected 401" in line for line in lines)


def test_origin_allowed_list(serve: Serve) -> None:
    """--allowed-origin: 403 naming the origin for others and for none; allowed passes."""
    server = serve(allowed_origin=("https://app.example",), count=1)
    response = rejected(server.url, origin="https://evil.example")
    assert response.status_code == 403
    assert b"https://evil.example" in response.body
    assert rejected(server.url).status_code == 403
    with connect(server.url, origin="https://app.example") as ws:
        assert receive_all(ws)[0]


def test_handshake_delay(serve: Serve) -> None:
    """--handshake-delay: the upgrade is answered only after the delay."""
    server = serve(handshake_delay=0.3, count=1)
    start = time.monotonic()
    with connect(server.url, open_timeout=unit(5)) as ws:
        assert time.monotonic() - start >= 0.3
        receive_all(ws)


def test_tls(serve: Serve, tmp_path: Path) -> None:
    """--certfile/--keyfile: wss:// with the real port."""
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    server = serve(certfile=str(tmp_path / "server.pem"), count=2)
    assert server.url.startswith("wss://127.0.0.1:")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with connect(server.url, ssl=context) as ws:
        assert len(receive_all(ws)[0]) == 2


# -- lifecycle ----------------------------------------------------------------------------


def test_stop_is_bounded_and_idempotent(serve: Serve) -> None:
    """stop() closes a slow stream with 1001, a pending handshake too, quickly."""
    server = serve(rate=0.2)
    with connect(server.url) as ws:
        ws.recv(timeout=unit(5))
        start = time.monotonic()
        server.stop()
        server.stop()
        assert time.monotonic() - start < unit(3)
        _, closed = receive_all(ws)
    assert closed.rcvd is not None and closed.rcvd.code == 1001


def test_stop_with_a_handshake_in_progress() -> None:
    """A client stuck in --handshake-delay does not hold stop() up."""
    server = start_in_thread(ServerConfig(port=0, handshake_delay=30))
    errors: list[BaseException] = []

    def client() -> None:
        try:
            connect(server.url, open_timeout=unit(10)).close()
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(0.2)
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < unit(3)
    thread.join(unit(5))
    assert errors and isinstance(errors[0], InvalidStatus)


def test_port_in_use_is_a_usage_error(serve: Serve) -> None:
    """A busy port: one clear line, with a hint."""
    server = serve()
    with pytest.raises(BadUsage) as info:
        start_in_thread(ServerConfig(port=server.port))
    assert info.value.one_line() == (
        f"wscli: error: cannot listen on 127.0.0.1:{server.port}: address already in use"
        ": --port 0 picks a free port"
    )


@pytest.mark.parametrize(
    "config, message",
    [
        ({"malformed_rate": 1.5}, "--malformed-rate must be between 0 and 1"),
        ({"invalid_rate": 0.6, "binary_rate": 0.6}, "add up to over 1"),
        ({"close_code": 1006}, "--close-code 1006 cannot be sent"),
        ({"path": "api"}, "--path must start with '/'"),
        ({"certfile": "/nonexistent.pem"}, "cannot load certificate /nonexistent.pem"),
    ],
)
def test_bad_settings_are_usage_errors(config: dict[str, Any], message: str) -> None:
    """Contradictory or impossible settings fail before listening."""
    with pytest.raises(BadUsage, match=re.escape(message)):
        start_in_thread(ServerConfig(port=0, **config))


# -- the command --------------------------------------------------------------------------


class ServeProcess:
    """`wscli serve --port 0 ...` as a subprocess; learns its URL from the ready line."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [wscli_executable(), "serve", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        assert self.proc.stderr is not None
        self.ready = self.proc.stderr.readline()  # bounded by the pytest timeout
        match = re.fullmatch(
            r"serving (ws://127\.0\.0\.1:\d+/api/ws/sensor/stream) \(Ctrl-C to stop\)\n",
            self.ready,
        )
        self.url = match.group(1) if match else ""

    def interrupt(self) -> str:
        """Ctrl-C, then the rest of stderr."""
        self.proc.send_signal(signal.SIGINT)
        _, err = self.proc.communicate(timeout=unit(10))
        return err

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def test_wscli_serve_subprocess_ctrl_c() -> None:
    """`wscli serve --port 0`: prints where, serves, exits 130 on SIGINT, no traceback."""
    with ServeProcess("--count", "5", "--rate", "50") as served:
        assert served.url, served.ready
        with connect(served.url, open_timeout=unit(5)) as ws:
            frames, closed = receive_all(ws)
        assert len(frames) == 5 and closed.rcvd.code == 1000
        err = served.interrupt()
    assert served.proc.returncode == 130
    assert "Traceback" not in err
    assert "closed 1000 after 5 messages" in err


def test_wscli_serve_fault_flags_reach_the_server() -> None:
    """CLI fault flags map onto the server: token, binary frames, close code and reason."""
    faults = ("--binary-rate", "0.5", "--close-after", "30", "--close-code", "4001")
    args = ("--rate", "0", "--seed", "1", "--require-token", "t0k", *faults)
    args += ("--close-reason", "bye", "--quiet")
    with ServeProcess(*args) as served:
        assert rejected(served.url).status_code == 401
        headers = {"Authorization": "Bearer t0k"}
        with connect(served.url, additional_headers=headers, open_timeout=unit(5)) as ws:
            frames, closed = receive_all(ws)
        err = served.interrupt()
    assert len(frames) == 30
    assert 5 < sum(isinstance(f, bytes) for f in frames) < 25
    assert (closed.rcvd.code, closed.rcvd.reason) == (4001, "bye")
    assert err == ""  # --quiet: nothing after the ready line


def test_wscli_serve_port_in_use(serve: Serve) -> None:
    """`wscli serve` on a busy port: exit 2 and the one-line error."""
    server = serve()
    result = run_wscli("serve", "--port", str(server.port), expect=2, timeout=20)
    assert "cannot listen on 127.0.0.1" in result.stderr
    assert "--port 0 picks a free port" in result.stderr
