"""Start-up stays light: --help imports none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.cli import run_cli
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


@pytest.mark.parametrize("args", [["--help"], ["tail", "--help"], ["probe", "--help"]])
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
    from tests.support.cli import run_wscli

    result = run_wscli(
        "--traceback", "tail", f"ws://127.0.0.1:{free_port}/", expect=3, allow_traceback=True
    )
    assert "ConnectionRefusedError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("wscli: error: connection refused")


CONNECT_HEAVY = (*HEAVY, "prompt_toolkit", "platformdirs")


@pytest.mark.parametrize("args", [["connect", "--help"], ["replay", "--help"]])
def test_connect_and_replay_help_import_nothing_heavy(args: list[str]) -> None:
    """`connect --help` and `replay --help` load none of rich, jsonschema, websockets,
    prompt_toolkit (issue #9): the prompt is imported on the interactive path only."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=CONNECT_HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    heavy_line = [line for line in proc.stdout.splitlines() if line.startswith("HEAVY=")]
    assert heavy_line == ["HEAVY="], heavy_line


LOAD_ONLY = ("locust", "gevent")


@pytest.mark.parametrize("command", sorted(LAZY_COMMANDS))
def test_only_load_runs_import_locust_or_gevent(command: str) -> None:
    """`<command> --help`, `load --help` included, imports neither Locust nor gevent."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=[command, "--help"], heavy=LOAD_ONLY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=" in proc.stdout.splitlines(), proc.stdout


def test_a_tail_run_imports_neither_locust_nor_gevent(free_port: int) -> None:
    """A real (failing) tail run stays free of Locust and gevent's monkey-patching."""
    args = ["tail", f"ws://127.0.0.1:{free_port}/", "--no-reconnect"]
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=LOAD_ONLY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "HEAVY=" in proc.stdout.splitlines(), proc.stdout


def test_the_test_process_is_not_monkey_patched() -> None:
    """No test imports Locust in-process: gevent would patch sockets and subprocess here."""
    assert "gevent" not in sys.modules and "locust" not in sys.modules
