"""How many streaming users one load process sustains, wscli's user against a bare one.

Starts ``wscli serve --broadcast --rate 1`` once, then for each user count of
``--users`` (a ladder, ascending) runs, one after the other in the same run:

- ``wscli``: ``wscli load URL -u N -r R -t T --csv ...`` (wscli's user: reconnects,
  heartbeat, size limit, the connection module);
- ``bare``: ``locust -f bench/clients/bare_locust_user.py --headless ...``, a bare
  Locust user on websocket-client (``clients/bare_locust_user.py``).

A contender *sustains* N users when every user connected and fewer than 1 % of the
messages were late by more than 1 s: the 99th percentile of ``sensor_reading``
delivery delay (Locust's own, from its CSV) is at most 1000 ms. CPU per message is
the load process's user+system CPU time (``wait4``) over the messages it counted,
ramp-up included; the ratio wscli/bare is taken at each N both sustained.
Targets: >= 2,000 users per process, ratio <= 1.2x. Every subprocess has a
timeout; the whole run is bounded by ``--budget`` seconds (ladder steps that would
not fit are skipped and said so).

    python bench/load_concurrency.py [--users 500,1000,2000,3000] [--duration 30]
        [--spawn-rate 200] [--budget 900] [--json bench/results/load.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import clean_env, find_wscli  # noqa: E402

HERE = Path(__file__).parent
LATE_MS = 1000.0
SETTLE = 5.0


def _raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*find_wscli(), "serve", "--port", "0", "--broadcast", "--rate", "1", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=clean_env(),
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    return proc, line.split()[1]


def run_one(kind: str, url: str, users: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wscli-load-bench-") as tmp:
        prefix = os.path.join(tmp, "run")
        common = ["-u", str(users), "-r", str(args.spawn_rate)]
        if kind == "wscli":
            command = [*find_wscli(), "load", url, *common, "-t", str(args.duration)]
            command += ["--csv", prefix, "-o", "json"]
        else:
            locust = str(Path(sys.executable).with_name("locust"))
            command = [locust, "-f", str(HERE / "clients" / "bare_locust_user.py"), "--headless"]
            command += [*common, "-t", f"{args.duration}s", "--host", url, "--csv", prefix]
            command += ["--only-summary", "--loglevel", "ERROR"]
        started = time.monotonic()
        # stderr to a file, not a pipe nobody reads while it runs (a full pipe blocks it)
        errors = open(os.path.join(tmp, "stderr"), "w+b")  # noqa: SIM115
        proc = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            stdin=subprocess.DEVNULL,
            env=clean_env(),
        )
        deadline = started + args.duration * 3 + 120
        samples: list[tuple[float, float]] = []  # (wall clock, CPU seconds so far)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            cpu_now = _cpu_seconds(proc.pid)
            if cpu_now is not None:
                samples.append((time.time(), cpu_now))
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                return {"kind": kind, "users": users, "error": "timed out"}
            time.sleep(0.5)
        wall = time.monotonic() - started
        cpu = usage.ru_utime + usage.ru_stime
        errors.seek(0)
        stderr_tail = errors.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        errors.close()
        rows = _stats_rows(prefix + "_stats.csv")
        steady = _steady(samples, prefix + "_stats_history.csv", users / args.spawn_rate)
    reading = rows.get(("recv", "sensor_reading"), {})
    connect = rows.get(("connect", "connect"), {})
    messages = sum(int(r["Request Count"]) for (t, _), r in rows.items() if t.startswith("recv"))
    connected = int(connect.get("Request Count", 0)) - int(connect.get("Failure Count", 0))
    p99 = float(reading.get("99%", "nan") or "nan")
    return {
        "kind": kind,
        "users": users,
        "connected": connected,
        "messages": messages,
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 1),
        "cpu_us_per_msg": round(cpu / messages * 1e6, 1) if messages else None,
        "steady_cpu_us_per_msg": steady,
        "delay_p99_ms": p99,
        "sustained": connected >= users and messages > 0 and p99 <= LATE_MS,
        "exit": os.waitstatus_to_exitcode(status),
        **({"stderr": stderr_tail} if not messages else {}),
    }


def _cpu_seconds(pid: int) -> float | None:
    """utime + stime of a running process, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _steady(samples: list[tuple[float, float]], history: str, ramp: float) -> float | None:
    """CPU per message once every user is connected: start-up and ramp-up left out.

    The window runs from 5 s after the ramp-up to 2 s before the end; messages in it
    come from Locust's per-second history (its total request count; the connects
    are all done by then), CPU from /proc samples at the same wall-clock seconds.
    """
    try:
        with open(history, newline="") as handle:
            counts = {
                int(r["Timestamp"]): int(r["Total Request Count"])
                for r in csv.DictReader(handle)
                if r["Name"] == "Aggregated"
            }
    except (OSError, ValueError, KeyError):
        return None
    if not counts or len(samples) < 4:
        return None
    first, last = min(counts), max(counts)
    start, end = first + int(ramp) + 5, last - 2
    if end - start < 5 or start not in counts or end not in counts:
        return None

    def cpu_at(second: int) -> float:
        return min(samples, key=lambda s: abs(s[0] - second))[1]

    messages = counts[end] - counts[start]
    cpu = cpu_at(end) - cpu_at(start)
    return round(cpu / messages * 1e6, 1) if messages > 0 else None


def _stats_rows(path: str) -> dict[tuple[str, str], dict[str, str]]:
    try:
        with open(path, newline="") as handle:
            return {(r["Type"], r["Name"]): r for r in csv.DictReader(handle)}
    except OSError:
        return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="500,1000,2000,3000")
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--spawn-rate", type=float, default=200.0)
    parser.add_argument("--budget", type=float, default=900.0, help="seconds for the whole run")
    parser.add_argument("--json", dest="json_file")
    parser.add_argument("--only", default="wscli,bare", help="contenders, comma-separated")
    args = parser.parse_args()
    _raise_nofile()
    ladder = [int(n) for n in args.users.split(",")]
    server, url = start_server()
    results: list[dict[str, Any]] = []
    began = time.monotonic()
    try:
        for users in ladder:
            step = 2 * (args.duration + users / args.spawn_rate + 15 + SETTLE)
            if time.monotonic() - began + step > args.budget:
                print(f"skipped {users} users and above: over --budget {args.budget:g} s")
                break
            pair = []
            for kind in args.only.split(","):
                time.sleep(SETTLE)  # the server finishes closing the last run's clients
                pair.append(run_one(kind, url, users, args))
            for r in pair:
                results.append(r)
                print(json.dumps(r), flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print()
    print(
        f"{'users':>6} {'contender':>9} {'connected':>9} {'messages':>9} {'CPU us/msg':>10}"
        f" {'steady':>8} {'delay p99':>9}  sustained"
    )
    for r in results:
        cells = [r.get("connected", "-"), r.get("messages", "-"), r.get("cpu_us_per_msg") or "-"]
        print(
            f"{r['users']:>6} {r['kind']:>9} {cells[0]:>9} {cells[1]:>9} {cells[2]:>10}"
            f" {r.get('steady_cpu_us_per_msg') or '-':>8} {r.get('delay_p99_ms', '-'):>9}"
            f"  {'yes' if r.get('sustained') else 'NO'}"
        )
    best = {
        kind: max(
            (r["users"] for r in results if r["kind"] == kind and r.get("sustained")), default=0
        )
        for kind in ("wscli", "bare")
    }
    ratios: list[tuple[int, str, float]] = []
    for users in ladder:
        pair = {r["kind"]: r for r in results if r["users"] == users and r.get("sustained")}
        if len(pair) != 2:
            continue
        for label, key in (("whole run", "cpu_us_per_msg"), ("steady", "steady_cpu_us_per_msg")):
            if pair["wscli"].get(key) and pair["bare"].get(key):
                ratios.append((users, label, pair["wscli"][key] / pair["bare"][key]))
    print()
    print(f"largest sustained: wscli {best['wscli']} users, bare {best['bare']} users")
    for users, label, ratio in ratios:
        print(f"CPU per message wscli/bare at {users} users ({label}): {ratio:.2f}x")
    print(f"{'PASS' if best['wscli'] >= 2000 else 'FAIL'}: >= 2,000 users per load process")
    steady = [r for r in ratios if r[1] == "steady"] or ratios
    if steady:
        users, label, top = steady[-1]
        verdict = "PASS" if top <= 1.2 else "FAIL"
        print(f"{verdict}: CPU per message <= 1.2x bare ({top:.2f}x at {users} users, {label})")
    if args.json_file:
        Path(args.json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_file).write_text(json.dumps({"results": results, "best": best}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
