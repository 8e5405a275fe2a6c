"""Run the installed wscli on real pseudo-terminals of a chosen size (stdlib pty only).

stdout and stderr each get their own terminal, so tests can tell data from
diagnostics while both believe they are on a screen.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from dataclasses import dataclass

from tests.support.cli import clean_env, unit, wscli_executable

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass
class Screen:
    exit_code: int
    stdout: str
    stderr: str


def _terminal(columns: int, rows: int = 40) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return master, slave


def run_on_terminal(
    *args: str,
    columns: int = 80,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
    stdin_tty: bool = False,
) -> Screen:
    """Run ``wscli ARGS`` with stdout and stderr on terminals ``columns`` wide.

    ``env`` defaults to a clean environment with ``TERM=xterm-256color`` and no
    ``COLUMNS``, so the terminal's own size is what wscli finds.
    """
    out_master, out_slave = _terminal(columns)
    err_master, err_slave = _terminal(columns)
    in_master, in_slave = _terminal(columns) if stdin_tty else (-1, -1)
    if env is None:
        env = clean_env(TERM="xterm-256color")
        env.pop("COLUMNS", None)
    proc = subprocess.Popen(
        [wscli_executable(), *args],
        stdin=in_slave if stdin_tty else subprocess.DEVNULL,
        stdout=out_slave,
        stderr=err_slave,
        env=env,
    )
    for fd in (out_slave, err_slave, in_slave):
        if fd >= 0:
            os.close(fd)
    chunks: dict[int, list[bytes]] = {out_master: [], err_master: []}
    open_fds = [out_master, err_master]
    deadline = time.monotonic() + unit(timeout)
    try:
        while open_fds and time.monotonic() < deadline:
            ready, _, _ = select.select(open_fds, [], [], 0.1)
            for fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the other side closed
                    chunk = b""
                if chunk:
                    chunks[fd].append(chunk)
                else:
                    open_fds.remove(fd)
            if not ready and proc.poll() is not None:
                break
        code = proc.wait(timeout=unit(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for fd in (out_master, err_master, in_master):
            if fd >= 0:
                os.close(fd)

    def text(fd: int) -> str:
        return b"".join(chunks[fd]).decode("utf-8", "replace").replace("\r\n", "\n")

    return Screen(code, text(out_master), text(err_master))


def visible(text: str) -> str:
    """What a person sees: escape sequences removed."""
    return ANSI.sub("", text)
