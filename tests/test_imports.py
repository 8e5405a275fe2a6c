"""Start-up stays light: --help imports none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import run_cli
from wscli.cli import LAZY_COMMANDS

HEAVY = ("rich", "jsonschema", "jsonschema_rs", "websockets", "websocket")

PROBE = """
import sys
from wscli.cli import main
try:
    main({args!r})
except SystemExit as exc:
    code = exc.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
sys.exit(code)
"""


@pytest.mark.parametrize("args", [["--help"], ["tail", "--help"]])
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    """`wscli --help` and `wscli tail --help` leave rich, jsonschema and websockets unloaded."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    heavy_line = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY=")]
    assert heavy_line == ["HEAVY="], heavy_line


@pytest.mark.parametrize("command", sorted(LAZY_COMMANDS))
def test_every_subcommand_help_works(command: str) -> None:
    """Every lazily loaded subcommand imports and prints its help."""
    result = run_cli(command, "--help")
    assert "Usage:" in result.stdout
    assert "Exit codes" in result.stdout


def test_root_help_lists_every_command_and_exit_codes() -> None:
    """The root help names each subcommand and documents the exit codes."""
    result = run_cli("--help")
    for command in LAZY_COMMANDS:
        assert command in result.stdout
    assert "130" in result.stdout


def test_traceback_flag_shows_the_underlying_error(free_port: int) -> None:
    """--traceback prints the library's exception chain before the one-line error."""
    from tests.conftest import run_wscli

    result = run_wscli(
        "--traceback", "tail", f"ws://127.0.0.1:{free_port}/", expect=3, allow_traceback=True
    )
    assert "ConnectionRefusedError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("wscli: error: connection refused")
