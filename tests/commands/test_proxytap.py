"""``wscli tap`` in front of backends that are not wscli: loses nothing, ends only one pair."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.server import ServerConnection
from websockets.sync.server import serve as sync_serve

from tests.support.cli import clean_env, unit, wscli_executable
from tests.support.hostile_server import HostileServer, Peer, server_frame, switching_protocols

WAIT = unit(10)


class TapRun:
    """``wscli tap`` as a subprocess, the way users run it; stopped (SIGTERM) at the end."""

    def __init__(
        self, tmp: Path, upstream: str, *args: str, quiet: bool = True, scheme: str = "ws"
    ) -> None:
        port_file = tmp / f"tap{time.monotonic_ns()}.port"
        argv = [wscli_executable(), "tap", "--listen", "127.0.0.1:0", "--to", upstream]
        argv += ["--port-file", str(port_file), *(["-q"] if quiet else []), *args]
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=clean_env(),
        )
        deadline = time.monotonic() + unit(15)
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.proc.poll() is None, self.proc.communicate()
            assert time.monotonic() < deadline, "tap did not start"
            time.sleep(0.02)
        self.port = int(port_file.read_text())
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.out = self.err = ""

    def stop(self) -> int:
        """SIGTERM, then the verdict; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.out, self.err = self.proc.communicate(timeout=unit(20))
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def wait(self) -> int:
        """Until --duration ends it."""
        try:
            self.out, self.err = self.proc.communicate(timeout=unit(30))
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        assert match
        return int(match.group(1))


def _echo_or_vanish(ws: ServerConnection) -> None:
    """A plain websockets backend: echo; at /vanish, read one message and cut TCP."""
    path = ws.request.path if ws.request else "/"
    if path.startswith("/headers") and ws.request is not None:
        headers = ws.request.headers
        seen = {name: headers.get(name) for name in ("Host", "Origin", "User-Agent", "X-Trace")}
        ws.send(json.dumps({**seen, "path": path, "subprotocol": ws.subprotocol}))
    try:
        for message in ws:
            if path.startswith("/vanish"):
                ws.socket.shutdown(socket.SHUT_RDWR)
                ws.close_socket()
                return
            ws.send(message)
    except ConnectionClosed:
        pass


def _pick_subprotocol(ws: ServerConnection, offered: Any) -> Any:
    """sensor.v1 when offered, else none (a backend where subprotocols are optional)."""
    return "sensor.v1" if "sensor.v1" in offered else None


@pytest.fixture
def backend() -> Iterator[str]:
    """The ``websockets`` sync server (not wscli) on 127.0.0.1:0: its ws:// URL."""
    server = sync_serve(
        _echo_or_vanish,
        "127.0.0.1",
        0,
        compression=None,
        max_size=None,
        select_subprotocol=_pick_subprotocol,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(WAIT)


@pytest.mark.slow
def test_ten_thousand_messages_arrive_byte_identical_and_in_order(
    tmp_path: Path, backend: str
) -> None:
    """10,000 text and binary messages through the tap and back: same bytes, same order."""
    tap = TapRun(tmp_path, backend)
    sent: list[str | bytes] = []
    for i in range(10_000):
        if i % 3 == 0:
            sent.append(bytes([i % 256]) * (i % 200) + i.to_bytes(4, "big"))
        else:
            sent.append(f"{i} ünïcødé ✓ " + "x" * (i % 300))
    try:
        with connect(tap.url + "/stream", max_size=None, open_timeout=WAIT) as ws:

            def send_all() -> None:
                for message in sent:
                    ws.send(message)

            sender = threading.Thread(target=send_all, daemon=True)
            sender.start()
            got = [ws.recv(timeout=WAIT) for _ in sent]
            sender.join(WAIT)
        assert got == sent
    finally:
        code = tap.stop()
    assert code == 143, tap.err
    assert "c1" in tap.out and "connects        1" in tap.out


def test_every_frame_is_shown_both_ways_redacted_and_recorded(tmp_path: Path, backend: str) -> None:
    """Without -q every frame gets a '>' or '<' line with its client id; the recording
    names the client on every frame; the token in the query never appears."""
    record = tmp_path / "tap.jsonl"
    tap = TapRun(tmp_path, backend, "--record", str(record), quiet=False)
    try:
        with connect(tap.url + "/s?token=hunter2", open_timeout=WAIT) as ws:
            for i in range(5):
                ws.send(f"hello {i}")
                assert ws.recv(timeout=WAIT) == f"hello {i}"
    finally:
        tap.stop()
    err = tap.err
    assert err.splitlines()[0].startswith("tap: listening on ws://127.0.0.1:")
    assert len(re.findall(r"^\[c1\] > .* text .*hello \d$", err, re.M)) == 5, err
    assert len(re.findall(r"^\[c1\] < .* text .*hello \d$", err, re.M)) == 5, err
    assert re.search(r"^\[c1\] > .* close .*1000", err, re.M), err
    assert "[c1] > GET /s?token=[redacted] HTTP/1.1" in err
    assert "[c1] < HTTP/1.1 101 Switching Protocols" in err
    assert "hunter2" not in err and "hunter2" not in record.read_text()
    lines = [json.loads(line) for line in record.read_text().splitlines()]
    [handshake] = [line for line in lines if line.get("event") == "handshake"]
    assert handshake["client"] == "c1" and handshake["status"] == 101
    frames = [line for line in lines if "dir" in line]
    assert frames and all(f["client"] == "c1" for f in frames)
    assert [f["text"] for f in frames if f["op"] == "text" and f["dir"] == "in"] == [
        f"hello {i}" for i in range(5)
    ]


def test_vanishing_client_or_upstream_ends_only_its_own_pair(tmp_path: Path, backend: str) -> None:
    """A client cut off, then an upstream cut off: each ends its pair with a line saying
    which side went away; a third client through the same tap carries on."""
    tap = TapRun(tmp_path, backend)
    try:
        with connect(tap.url + "/keep", open_timeout=WAIT) as keeper:
            with connect(tap.url + "/a", open_timeout=WAIT) as gone:
                gone.send("x")
                assert gone.recv(timeout=WAIT) == "x"
                gone.socket.shutdown(socket.SHUT_RDWR)  # no close frame
                gone.close_socket()
            with connect(tap.url + "/vanish", open_timeout=WAIT) as victim:
                victim.send("bye")
                with pytest.raises(ConnectionClosed) as closed:
                    victim.recv(timeout=WAIT)
                assert closed.value.rcvd is None  # dropped, as the backend dropped the tap
            keeper.send("still here")
            assert keeper.recv(timeout=WAIT) == "still here"
    finally:
        tap.stop()
    assert re.search(r"tap: c2 \S+ client went away \(no close frame\)", tap.err), tap.err
    assert re.search(r"tap: c3 \S+ upstream went away \(no close frame\)", tap.err), tap.err


def _masked(peer: Peer, request: bytes) -> None:
    peer.send(switching_protocols(request) + server_frame(0x1, b"hidden", masked=True))
    peer.drain(2)


def _garbage(peer: Peer, request: bytes) -> None:
    peer.send(switching_protocols(request) + b"\x0f\xff not a frame at all \x00" * 4)
    peer.drain(2)


def _oversized(peer: Peer, request: bytes) -> None:
    peer.send(switching_protocols(request) + server_frame(0x1, b"y" * 5000))
    peer.drain(2)


@pytest.mark.parametrize(
    ("script", "detail"),
    [(_masked, "incorrect masking"), (_garbage, "invalid opcode"), (_oversized, "exceeds limit")],
)
def test_hostile_upstream_ends_its_pair_not_the_proxy(
    tmp_path: Path, script: Any, detail: str
) -> None:
    """Masked server frames, garbage after the upgrade, an oversized frame: the client gets
    1014 (bad gateway), one classified line says so, and the tap keeps accepting."""
    with HostileServer(script) as hostile:
        tap = TapRun(tmp_path, hostile.url, "--max-size", "1K")
        try:
            for _ in range(2):  # the second pair proves the proxy is still there
                with connect(tap.url + "/ws", open_timeout=WAIT) as ws:
                    with pytest.raises(ConnectionClosed) as closed:
                        ws.recv(timeout=WAIT)
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1014
            assert tap.proc.poll() is None
        finally:
            tap.stop()
    lines = [line for line in tap.err.splitlines() if "upstream broke the protocol" in line]
    assert len(lines) == 2, tap.err
    assert detail in lines[0], lines[0]
    assert "Traceback" not in tap.err


def test_oversized_client_message_ends_its_pair_not_the_proxy(tmp_path: Path, backend: str) -> None:
    """A client sending over --max-size is closed 1009; its upstream 1001; others go on."""
    tap = TapRun(tmp_path, backend, "--max-size", "1K")
    try:
        with connect(tap.url + "/big", open_timeout=WAIT) as ws:
            ws.send("z" * 4000)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=WAIT)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        with connect(tap.url + "/small", open_timeout=WAIT) as ws:
            ws.send("ok")
            assert ws.recv(timeout=WAIT) == "ok"
    finally:
        tap.stop()
    assert re.search(r"c1 \S+ client broke the protocol \(.*1009", tap.err), tap.err


@pytest.mark.slow
def test_two_hundred_clients_at_once_with_bounded_memory(tmp_path: Path, backend: str) -> None:
    """200 clients through one tap at the same time, 20 round trips each: all arrive;
    the tap's resident memory stays under 150 MiB."""
    from websockets.asyncio.client import connect as aconnect

    tap = TapRun(tmp_path, backend, "--client-key", "client")
    peak = 0

    async def one(i: int) -> int:
        async with aconnect(f"{tap.url}/c?client={i}", open_timeout=WAIT * 3) as ws:
            for n in range(20):
                await ws.send(f"{i}:{n}:" + "p" * 2000)
                assert (await asyncio.wait_for(ws.recv(), WAIT)).startswith(f"{i}:{n}:")
            await asyncio.sleep(0.5)  # all 200 open at once here
            return 20

    async def all_at_once() -> list[int]:
        nonlocal peak
        tasks = [asyncio.ensure_future(one(i)) for i in range(200)]
        while not all(t.done() for t in tasks):
            peak = max(peak, tap.rss_kib())
            await asyncio.sleep(0.1)
        return [t.result() for t in tasks]

    try:
        results = asyncio.run(all_at_once())
    finally:
        tap.stop()
    assert results == [20] * 200
    assert peak < 150 * 1024, f"tap RSS peaked at {peak} KiB"
    assert tap.out.rstrip().endswith("TERMINATED: 200 clients, no expectations given"), tap.out


def test_faults_drop_close_refuse_between_client_and_backend(tmp_path: Path, serve: Any) -> None:
    """--refuse-next 1 answers 503 once; --drop-after cuts the client (1006) after N
    messages; --close-after closes it with the chosen code."""
    from websockets.exceptions import InvalidStatus

    backend = serve(rate=200.0)
    drop = TapRun(tmp_path, backend.url, "--drop-after", "5", "--refuse-next", "1")
    close = TapRun(tmp_path, backend.url, "--close-after", "3", "--close-code", "4001")
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(drop.url + "/api/ws/sensor/stream", open_timeout=WAIT)
        assert refused.value.response.status_code == 503
        with connect(drop.url + "/api/ws/sensor/stream", open_timeout=WAIT) as ws:
            got = []
            with pytest.raises(ConnectionClosed) as dropped:
                while True:
                    got.append(ws.recv(timeout=WAIT))
            assert len(got) == 5 and dropped.value.rcvd is None
        with connect(close.url + "/api/ws/sensor/stream", open_timeout=WAIT) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    ws.recv(timeout=WAIT)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    finally:
        drop.stop()
        close.stop()
    assert "dropped after 5 messages (--drop-after)" in drop.err
    assert "refused 503 (--refuse-next)" in drop.err
    assert "closed 4001 after 3 messages (--close-after)" in close.err


def test_stall_and_delay(tmp_path: Path, backend: str) -> None:
    """--stall-after 2 forwards two messages then nothing, TCP open; --delay 150 holds
    each message 150 ms each way."""
    stall = TapRun(tmp_path, backend, "--stall-after", "2")
    slow = TapRun(tmp_path, backend, "--delay", "150")
    try:
        with connect(stall.url + "/s", open_timeout=WAIT) as ws:
            for i in range(3):
                ws.send(str(i))
            assert [ws.recv(timeout=WAIT) for _ in range(2)] == ["0", "1"]
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.5)
            ws.close_socket()
        with connect(slow.url + "/d", open_timeout=WAIT) as ws:
            began = time.monotonic()
            ws.send("slow")
            assert ws.recv(timeout=WAIT) == "slow"
            assert time.monotonic() - began >= 0.3
    finally:
        stall.stop()
        slow.stop()
    assert "stalled after 2 messages (--stall-after)" in stall.err


def test_upstream_refusal_status_is_passed_to_the_client(tmp_path: Path, serve: Any) -> None:
    """The backend's 401 reaches the client as a 401 with its body: the tap is invisible."""
    from websockets.exceptions import InvalidStatus

    backend = serve(require_token="s3cret")
    tap = TapRun(tmp_path, backend.url)
    try:
        with pytest.raises(InvalidStatus) as refused:
            connect(tap.url + "/api/ws/sensor/stream", open_timeout=WAIT)
        assert refused.value.response.status_code == 401
        assert b"missing or wrong token" in (refused.value.response.body or b"")
        with connect(tap.url + "/api/ws/sensor/stream?token=s3cret", open_timeout=WAIT) as ws:
            assert json.loads(ws.recv(timeout=WAIT))["type"]
    finally:
        tap.stop()
    assert "answered 401: passed on" in tap.err


def test_bad_target_is_one_line_exit_2(tmp_path: Path) -> None:
    """--to that is not ws:// or wss:// is a usage error, not a traceback."""
    proc = subprocess.run(
        [wscli_executable(), "tap", "--listen", "127.0.0.1:0", "--to", "http://x/"],
        capture_output=True,
        text=True,
        timeout=unit(20),
        env=clean_env(),
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--to must be a ws://" in proc.stderr


@pytest.mark.slow
def test_guide_client_through_tap_in_front_of_serve(tmp_path: Path, serve: Any) -> None:
    """The guide's Python client, refused by the tap: the tap's verdict shows its linear
    schedule; --expect-backoff linear passes, exponential fails naming the delays."""
    backend = serve(rate=50.0)
    common = ["--refuse-next", "100", "--duration", "5.5", "--client-key", "client"]
    linear = TapRun(tmp_path, backend.url, *common, "--expect-backoff", "linear", "-o", "json")
    expo = TapRun(tmp_path, backend.url, *common, "--expect-backoff", "exponential")
    clients = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.guide_client",
                f"{t.url}/api/ws/sensor/stream?client=guide",
                "0.2",
                "6",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).parent.parent,
        )
        for t in (linear, expo)
    ]
    try:
        assert linear.wait() == 0, (linear.out, linear.err)
        doc = json.loads(linear.out)
        [client] = doc["clients"]
        assert client["client"] == "guide" and client["connects"] == 6
        assert client["schedule"] == "linear 0.20 s steps"
        assert expo.wait() == 1, expo.err
        assert re.search(r"FAILED backoff: linear 0\.20 s steps \(0\.\d+ s, ", expo.out), expo.out
    finally:
        for proc in clients:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.private_key_and_cert_chain_pem.write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    return {name: str(path) for name, path in paths.items()}


def test_wss_on_both_sides(tmp_path: Path, serve: Any, tls_files: dict[str, str]) -> None:
    """The tap listens with --certfile/--keyfile and reaches a wss:// backend with
    --cacert; without --cacert the client gets 502 and a line says TLS failed."""
    import ssl

    from websockets.exceptions import InvalidStatus

    backend = serve(certfile=tls_files["cert"], keyfile=tls_files["key"])
    trusted = ["--certfile", tls_files["cert"], "--keyfile", tls_files["key"]]
    tap = TapRun(tmp_path, backend.url, *trusted, "--cacert", tls_files["ca"], scheme="wss")
    untrusted = TapRun(tmp_path, backend.url)
    client_tls = ssl.create_default_context(cafile=tls_files["ca"])
    try:
        with connect(tap.url + "/api/ws/sensor/stream", ssl=client_tls, open_timeout=WAIT) as ws:
            assert json.loads(ws.recv(timeout=WAIT))["type"]
        with pytest.raises(InvalidStatus) as refused:
            connect(untrusted.url + "/api/ws/sensor/stream", open_timeout=WAIT)
        assert refused.value.response.status_code == 502
    finally:
        tap.stop()
        untrusted.stop()
    assert "connected through to wss://127.0.0.1:" in tap.err
    assert re.search(r"cannot reach upstream wss://\S+: TLS failed: .*answered 502", untrusted.err)


def test_validate_names_bad_messages_and_ctrl_c_still_reports(tmp_path: Path, serve: Any) -> None:
    """--validate checks what the backend sends: each bad message gets a line, the verdict
    fails 'schema'; Ctrl-C (SIGINT) prints that verdict and exits 130."""
    import signal

    backend = serve(invalid_rate=0.5, seed=3, rate=200.0)
    junit = tmp_path / "tap.xml"
    tap = TapRun(tmp_path, backend.url, "--validate", "--junit", str(junit))
    try:
        with connect(tap.url + "/api/ws/sensor/stream", open_timeout=WAIT) as ws:
            for _ in range(20):
                ws.recv(timeout=WAIT)
    finally:
        tap.proc.send_signal(signal.SIGINT)
        code = tap.wait()
    assert code == 130, tap.err
    assert re.search(r"tap: c1 < message \d+: /\S*: ", tap.err), tap.err
    assert re.search(r"FAILED schema: [1-9]\d* of \d+ messages to clients invalid", tap.out)
    assert tap.out.rstrip().splitlines()[-1].startswith("INTERRUPTED: 1 client")
    xml = junit.read_text()
    assert 'name="schema"' in xml and "<error" in xml


def test_headers_path_and_subprotocol_pass_through(tmp_path: Path, backend: str) -> None:
    """Path, query, User-Agent and other headers reach the backend as sent; Host and Origin
    stay the client's unless --rewrite-host/--origin; the backend's subprotocol choice
    reaches the client."""
    plain = TapRun(tmp_path, backend)
    rewriting = TapRun(tmp_path, backend, "--rewrite-host", "--origin", "https://app.example")
    headers = {"X-Trace": "abc"}
    try:
        seen = []
        for tap in (plain, rewriting):
            with connect(
                tap.url + "/headers?room=attic",
                origin=cast(Any, "http://client.example"),
                additional_headers=headers,
                user_agent_header="guide-client/1.0",
                subprotocols=cast(Any, ["sensor.v1"]),
                open_timeout=WAIT,
            ) as ws:
                assert ws.subprotocol == "sensor.v1"
                seen.append(json.loads(ws.recv(timeout=WAIT)))
    finally:
        plain.stop()
        rewriting.stop()
    backend_host = backend.removeprefix("ws://")
    assert seen[0] == {
        "Host": f"127.0.0.1:{plain.port}",
        "Origin": "http://client.example",
        "User-Agent": "guide-client/1.0",
        "X-Trace": "abc",
        "path": "/headers?room=attic",
        "subprotocol": "sensor.v1",
    }
    assert seen[1]["Host"] == backend_host and seen[1]["Origin"] == "https://app.example"


def test_recording_that_cannot_be_written_stops_the_tap_in_one_line(
    tmp_path: Path, backend: str
) -> None:
    """--record hits a 4 KiB file-size limit mid-run: the tap ends its pairs, prints the
    verdict (STOPPED, never OK) and one error line, exit 2; no traceback."""
    import resource
    import signal

    from tests.support.cli import without_coverage

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    record = tmp_path / "tap.jsonl"
    port_file = tmp_path / "tap.port"
    proc = subprocess.Popen(
        [wscli_executable(), "tap", "--listen", "127.0.0.1:0", "--to", backend, "-q"]
        + ["--port-file", str(port_file), "--record", str(record)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=without_coverage(clean_env()),
        preexec_fn=small_files,
    )
    try:
        deadline = time.monotonic() + unit(15)
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        with connect(f"ws://127.0.0.1:{int(port_file.read_text())}/r", open_timeout=WAIT) as ws:
            with pytest.raises(ConnectionClosed):
                for i in range(100):
                    ws.send(f"{i} " + "r" * 500)
                    ws.recv(timeout=WAIT)
        out, err = proc.communicate(timeout=unit(20))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, err
    assert err.splitlines()[-1].startswith(f"wscli: error: cannot write to recording {record}")
    assert "Traceback" not in err
    assert out.rstrip().splitlines()[-1].startswith("STOPPED: 1 client")


def test_listen_address_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    """A port already taken: exit 2 and one line naming it, like serve."""
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [wscli_executable(), "tap", "--listen", f"127.0.0.1:{port}", "--to", "ws://x/"],
            capture_output=True,
            text=True,
            timeout=unit(20),
            env=clean_env(),
        )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"wscli: error: cannot listen on 127.0.0.1:{port}: address already in use:"
        " --listen HOST:0 picks a free port"
    ]
