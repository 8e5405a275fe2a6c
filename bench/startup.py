"""How long does ``wscli --help`` take to start, next to ``python -c "import click"``?

Usage::

    python bench/startup.py [--repeat N] [--json FILE]

Times ``wscli --help``, ``wscli tail --help``, ``python -c "import click"`` and
``python -c pass`` (the interpreter's floor), each ``--repeat`` times (default
20), round-robin so that drift on the machine hits them all alike, and prints
the medians and the ratios. Target: ``wscli --help`` <= 1.2x ``import click``.

Then runs ``python -X importtime -m wscli --help`` (and ``tail --help``) and
lists the heaviest imports, to show what could be imported lazily.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from benchlib import SCRUBBED_ENV, clean_env, find_wscli

DEFAULT_REPEAT = 20
TIMEOUT = 30.0
TARGET_RATIO = 1.2


def run_timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or (argv[-1] == "--help" and not done.stdout.strip()):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {tail[0]}")
    return elapsed


@dataclass
class Import:
    name: str
    depth: int
    self_us: int
    cumulative_us: int
    parent: str  # the module whose import pulled this one in ("" at top level)


def parse_importtime(stderr: str) -> list[Import]:
    """Parse ``-X importtime`` lines; the output is post-order (children first)."""
    rows: list[Import] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) != 3:
            continue
        self_us, cumulative_us, name = fields
        raw = name.rstrip("\n")
        stripped = raw.lstrip(" ")
        depth = (len(raw) - len(stripped) - 1) // 2
        rows.append(Import(stripped, depth, int(self_us), int(cumulative_us), ""))
    # A row's parent is the next row (later in the output) with a smaller depth.
    pending: list[Import] = []
    for row in rows:
        still: list[Import] = []
        for child in pending:
            if child.depth > row.depth:
                child.parent = row.name
            else:
                still.append(child)
        pending = [*still, row]
    return rows


def importtime(args: list[str], env: dict[str, str]) -> list[Import]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wscli", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        text=True,
    )
    return parse_importtime(done.stderr)


# Imports worth knowing about when they happen for --help.
WATCHED = (
    "websocket",
    "websockets",
    "rich",
    "jsonschema",
    "jsonschema_rs",
    "python_socks",
    "ssl",
    "urllib.request",
    "http.client",
    "email",
    "asyncio",
    "dataclasses",
    "inspect",
    "json",
)
MODULES_PROBE = """
import json, sys
sys.argv = ["wscli", *sys.argv[1:]]
from wscli.cli import main
try:
    main()
except SystemExit:
    pass
print("\\nMODULES " + json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded_modules(args: list[str], env: dict[str, str]) -> list[str]:
    """sys.modules after ``wscli ARGS`` (what -X importtime misses: importlib imports)."""
    done = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE, *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT,
        text=True,
    )
    for line in done.stderr.splitlines():
        if line.startswith("MODULES "):
            return list(json.loads(line[len("MODULES ") :]))
    return []


def print_heaviest(
    title: str, rows: list[Import], modules: list[str], top: int
) -> dict[str, object]:
    total = sum(r.self_us for r in rows)
    print(f"\n{title}: {len(rows)} modules, {total / 1000:.1f} ms of imports in all")
    # What a wscli module (or the entry point) pulls in itself: the lines to make lazy.
    direct = [
        r
        for r in rows
        if not r.name.startswith("wscli")
        and (r.parent.startswith("wscli") or r.parent == "")
        # the interpreter's own start-up and `-m`'s runpy, which `wscli` itself skips
        and r.name not in ("site", "runpy", "encodings", "encodings.utf_8", "zipimport", "io")
        and not r.name.startswith("_")
    ]
    direct.sort(key=lambda r: r.cumulative_us, reverse=True)
    print(f"  heaviest {top} imports made by wscli itself (cumulative):")
    for r in direct[:top]:
        # A depth-0 row is an import made while running, not while importing: in a
        # function, or in a module loaded by importlib.import_module (LazyGroup), whose
        # own row -X importtime leaves out.
        who = r.parent or "(run time: function or importlib-loaded module)"
        print(f"    {r.cumulative_us / 1000:7.1f} ms  {r.name:<28} imported by {who}")
    by_self = sorted(rows, key=lambda r: r.self_us, reverse=True)
    print(f"  heaviest {top} modules by own time (self):")
    for r in by_self[:top]:
        print(f"    {r.self_us / 1000:7.1f} ms  {r.name:<28} via {r.parent or '(run time)'}")
    ours = [m for m in modules if m == "wscli" or m.startswith("wscli.")]
    watched = [m for m in WATCHED if m in modules]
    print(f"  wscli modules loaded ({len(ours)}): {', '.join(ours) or 'none'}")
    print(f"  notable modules loaded: {', '.join(watched) or 'none'}")
    print(f"  modules loaded in all: {len(modules)}")
    return {
        "total_ms": total / 1000,
        "heaviest_direct": [asdict(r) for r in direct[:top]],
        "heaviest_self": [asdict(r) for r in by_self[:top]],
        "wscli_modules": ours,
        "notable_modules": watched,
        "modules_loaded": len(modules),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    parser.add_argument("--top", type=int, default=10, help="heaviest imports to list")
    parser.add_argument("--json", dest="json_file", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    env = clean_env()
    wscli = find_wscli()
    py = sys.executable
    commands: dict[str, list[str]] = {
        "python -c pass": [py, "-c", "pass"],
        "python -c 'import click'": [py, "-c", "import click"],
        "wscli --help": [*wscli, "--help"],
        "wscli tail --help": [*wscli, "tail", "--help"],
    }
    print(f"python {platform.python_version()} ({py}), wscli at {' '.join(wscli)}")
    scrubbed = [k for k in SCRUBBED_ENV if k in os.environ]
    if scrubbed:
        print(f"removed from the environment: {', '.join(scrubbed)}")
    try:
        for argv_ in commands.values():  # warm-up: page cache, __pycache__
            run_timed(argv_, env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, argv_ in commands.items():
                times[name].append(run_timed(argv_, env))
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"FAILED: {exc}")
        return 1

    medians = {name: statistics.median(values) for name, values in times.items()}
    click_s, floor_s = medians["python -c 'import click'"], medians["python -c pass"]
    print(f"\nmedian of {args.repeat} runs each (round-robin)")
    header = f"{'command':<26} {'median ms':>10} {'min ms':>8} {'vs import click':>16}"
    print(header)
    print("-" * len(header))
    for name, values in times.items():
        print(
            f"{name:<26} {medians[name] * 1000:>10.1f} {min(values) * 1000:>8.1f} "
            f"{medians[name] / click_s:>15.2f}x"
        )
    help_s = medians["wscli --help"]
    ratio = help_s / click_s
    ok = ratio <= TARGET_RATIO
    print(
        f"\n{'PASS' if ok else 'FAIL'}  wscli --help <= {TARGET_RATIO}x import click: "
        f"{help_s * 1000:.1f} vs {click_s * 1000:.1f} ms = {ratio:.2f}x "
        f"(above the bare interpreter: {(help_s - floor_s) * 1000:.1f} vs "
        f"{(click_s - floor_s) * 1000:.1f} ms)"
    )

    imports = {
        " ".join(["wscli", *cmd]): print_heaviest(
            " ".join(["python -X importtime -m wscli", *cmd]),
            importtime(cmd, env),
            loaded_modules(cmd, env),
            args.top,
        )
        for cmd in (["--help"], ["tail", "--help"])
    }
    if args.json_file:
        report = {
            "repeat": args.repeat,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "medians_s": medians,
            "times_s": times,
            "target": {"ratio": ratio, "limit": TARGET_RATIO, "pass": ok},
            "imports": imports,
        }
        Path(args.json_file).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_file).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
