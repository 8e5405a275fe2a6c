"""validate reads wsdump and ``python -m websockets`` transcripts, terminal codes and all (#22).

Both tools write cursor moves and colours even into a pipe; the transcripts here
are made by running the real tools against ``wscli serve`` on loopback.
"""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_wscli, unit
from wscli.validate.sources import FileSource

WSDUMP = (
    b"Press Ctrl+C to quit\n"
    b'> \x1b[2K\x1b[E\x1b[34m< {"type": "a"}\x1b[39m\n'
    b'> \x1b[2K\x1b[E\x1b[34m< {"type": "b"}\x1b[39m\n'
    b"> "
)
WEBSOCKETS = (
    b"\r\x1b[KConnected to ws://127.0.0.1:1/ws.\n"
    b"> \x1b7\n"
    b'\x1b[A\x1b[L< {"type": "a"}\n'
    b"\x1b8\x1b[B\x1b7\n"
    b'\x1b[A\x1b[L< {"type": "b"}\n'
    b"\x1b8\x1b[B\r\x1b[KConnection closed: 1000 (OK).\n"
)


@pytest.mark.parametrize("data", [WSDUMP, WEBSOCKETS], ids=["wsdump", "websockets"])
def test_terminal_codes_are_dropped_and_the_messages_read(data: bytes) -> None:
    """Each received line is one message; prompts, codes and the tools' own lines are not."""
    source = FileSource("t", stream=io.BytesIO(data), name="t")
    items = [item for _, item in source.items()]
    assert source.kind == "transcript"
    assert items == [{"type": "a"}, {"type": "b"}]


def _received(out: bytes) -> int:
    """How many complete received-message lines ``out`` holds."""
    return sum(b"< {" in line for line in out.split(b"\n")[:-1])


def _transcript(command: list[str], url: str, messages: int) -> bytes:
    """What the tool writes into a pipe, read until ``messages`` received lines are in."""
    proc = subprocess.Popen(
        [*command, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert proc.stdout is not None
    out = b""
    deadline = time.monotonic() + unit(20)
    try:
        # Count only finished lines: stopping on a message whose line is still
        # being written would cut it off (seen under load: 4 of 5 read).
        while _received(out) < messages and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                out += chunk
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=unit(10))
    return out + rest


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "websockets"], [sys.executable, "-m", "websocket._wsdump"]],
    ids=["python -m websockets", "wsdump"],
)
def test_validate_reads_a_real_transcript(serve: Any, tmp_path: Path, command: list[str]) -> None:
    """The real tool's output, piped to a file, validates as the messages it received."""
    server = serve(rate=50.0, count=5)
    out = _transcript(command, server.url, 5)
    assert b"\x1b" in out  # the tool did write terminal codes into the pipe
    path = tmp_path / "session.txt"
    path.write_bytes(out)
    result = run_wscli("validate", str(path), "-o", "json", expect=None)
    summary = json.loads(result.stdout)["summary"]
    assert summary["messages"] == 5, result.stdout
    assert summary["malformed"] == 0 and summary["valid"] == 5, result.stdout
    assert result.exit_code == 0
