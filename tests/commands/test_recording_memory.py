"""A huge recording line costs about its own size, not seven times it (issue 17 item 21).

A 200 MB line peaked at 1.4 GB in ``replay -o raw``: the line, its parsed object
and the decoded payload were all alive at once (a generator kept each line while
suspended), ``raw.strip()`` copied the line, and the renderer copied the payload
to add a newline. Each case runs in a fresh process and reads its own peak RSS.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import clean_env, unit, wscli_executable

if not Path("/proc/self/status").exists():
    pytest.skip("reads peak memory from /proc (Linux)", allow_module_level=True)

LINE = 40 * 1024 * 1024  # bytes of payload on the one frame line
MIB = 1024 * 1024


def _recording(path: Path, *, escaped: bool) -> Path:
    header = {"wscli": "recording", "version": 1, "url": "ws://h/x", "started": "x"}
    with path.open("w") as handle:
        handle.write(json.dumps(header) + "\n")
        if escaped:  # a JSON message inside the line: every quote escaped
            text = json.dumps({"type": "blob", "data": {"x": "a" * LINE}})
            handle.write(json.dumps({"t": 0.1, "dir": "in", "op": "text", "text": text}) + "\n")
        else:
            handle.write('{"t":0.1,"dir":"in","op":"text","text":"' + "a" * LINE + '"}\n')
    return path


def _peak_mib(code: str) -> tuple[int, int]:
    """(baseline, peak) RSS in MiB of a fresh Python running ``code`` after its imports."""
    # VmHWM, not ru_maxrss: the latter keeps the parent's size at fork time (this
    # pytest process, which just wrote the big line).
    script = (
        "def hwm():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            return int(line.split()[1]) // 1024\n"
        "from wscli.playback import ReplayPlan\n"
        "base = hwm()\n" + code + "\n"
        "print(base, hwm())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=unit(60),
        env=clean_env(),
        check=True,
    )
    base, peak = proc.stdout.split()
    return int(base), int(peak)


@pytest.mark.slow
@pytest.mark.parametrize("escaped", [False, True])
def test_reading_a_huge_line_holds_few_copies(tmp_path: Path, escaped: bool) -> None:
    """The line, its object, then its payload: never all three at once."""
    path = _recording(tmp_path / "big.jsonl", escaped=escaped)
    base, peak = _peak_mib(
        f"for frame in ReplayPlan({str(path)!r}, no_delay=True).timed():\n"
        "    size = len(frame.payload)\n"
        "del frame"
    )
    assert peak - base < 3.1 * LINE / MIB, (base, peak)  # was 3.7x


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "copies"), [("raw", 3.0), ("json", 3.8)])
def test_replay_of_a_huge_malformed_line_stays_near_its_size(
    tmp_path: Path, mode: str, copies: float
) -> None:
    """The whole command, checked then played to stdout (was 6x in raw, 7x in JSON Lines:
    the malformed record built whole, the decoder's error holding the text)."""
    path = _recording(tmp_path / "big.jsonl", escaped=False)
    code = (
        "import subprocess\n"
        f"subprocess.run([{wscli_executable()!r}, 'replay', {str(path)!r}, '--no-delay',"
        f" '-o', {mode!r}, '--max-size', '0'], stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL, check=True)\n"
        "child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024\n"
        "print(0, child)\n"
        "sys.exit(0)"
    )
    script_out = _peak_child(code)
    assert script_out < copies * LINE / MIB + 40, script_out  # + the interpreter and imports


def _peak_child(code: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", "import resource, sys\n" + code],
        capture_output=True,
        text=True,
        timeout=unit(120),
        env=clean_env(),
        check=True,
    )
    return int(proc.stdout.split()[1])
