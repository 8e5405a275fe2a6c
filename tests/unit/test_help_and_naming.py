"""Help text, names and small usage rules a new user meets first (issue #10)."""

from __future__ import annotations

import json
import select
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import click
import pytest

from tests.support.cli import (
    clean_env,
    run_cli,
    run_wscli,
    unit,
    without_coverage,
    wscli_executable,
)
from wscli.cli import LAZY_COMMANDS, cli


def all_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli, info_name="wscli")
    commands: list[tuple[str, click.Command]] = [("wscli", cli)]
    for name in sorted(LAZY_COMMANDS):
        command = cli.get_command(ctx, name)
        assert command is not None
        commands.append((f"wscli {name}", command))
    return commands


def test_every_option_has_help_text() -> None:
    """No option of any command is left without a help line (--retries had none)."""
    missing = [
        f"{where} {param.opts[-1]}"
        for where, command in all_commands()
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()
    ]
    assert missing == []


def test_root_help_names_the_environment_variables() -> None:
    """--help says which variables wscli reads."""
    out = run_cli("--help").stdout
    for name in ("WSCLI_URL", "WSCLI_TOKEN", "WSCLI_PROFILE", "WSCLI_CONFIG", "NO_COLOR"):
        assert name in out


def test_a_mistyped_command_gets_a_suggestion() -> None:
    """`wscli tial` suggests `tail`, exit 2."""
    result = run_cli("tial", expect=2)
    assert "Did you mean 'tail'?" in result.stderr
    assert "Did you mean" not in run_cli("zzzzzz", expect=2).stderr


def test_serve_help_lists_serves_own_exit_statuses() -> None:
    """serve documents its endings, not the client's connection codes."""
    out = run_cli("serve", "--help").stdout
    epilog = out.split("Exit codes:", 1)[1]
    assert "address in use" in epilog and "130" in epilog and "143" in epilog
    assert "name resolution" not in epilog and "handshake rejected" not in epilog


def test_demo_with_a_url_is_a_usage_error() -> None:
    """`tail --demo URL` cannot do both: exit 2 with the reason."""
    result = run_cli("tail", "--demo", "ws://127.0.0.1:1/", expect=2)
    assert "--demo" in result.stderr and "not both" in result.stderr


def test_demo_ignores_an_ambient_wscli_url() -> None:
    """WSCLI_URL in the environment does not make --demo an error."""
    result = run_wscli("tail", "--demo", "-n", "1", env=clean_env(WSCLI_URL="ws://127.0.0.1:1/"))
    assert len(result.json_lines) == 1


def test_tail_accepts_json_as_an_alias_of_jsonl(serve: Any) -> None:
    """`tail -o json` is JSON Lines, the same as `-o jsonl`."""
    server = serve(seed=1)
    lines = run_cli("tail", server.url, "-n", "3", "-o", "json").json_lines
    assert len(lines) == 3 and all(isinstance(line, dict) for line in lines)


def test_validate_rejects_jsonl_with_a_hint() -> None:
    """`validate -o jsonl` is refused, pointing at -o json."""
    result = run_cli("validate", "-o", "jsonl", "x.jsonl", expect=2)
    assert "use -o json" in result.stderr


# -- serve's machine-readable ready line ------------------------------------------------------


def test_serve_port_file_and_json_ready_line(tmp_path: Path) -> None:
    """`serve --port 0 --port-file F --json`: the port in F and a JSON line on stdout."""
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [wscli_executable(), "serve", "--port", "0", "--port-file", str(port_file), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=clean_env(),
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], unit(20))
        assert ready, "no ready line"
        event = json.loads(proc.stdout.readline())
        assert event["event"] == "listening"
        assert event["url"].startswith("ws://127.0.0.1:")
        assert port_file.read_text() == f"{event['port']}\n"
        result = run_wscli("tail", event["url"], "-n", "2")
        assert len(result.json_lines) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=unit(20))
    assert code == 143
    deadline = time.monotonic() + unit(5)
    while port_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not port_file.exists()


def test_serve_port_file_in_a_missing_folder_is_a_usage_error() -> None:
    """The folder is checked before binding: exit 2, one line."""
    result = run_wscli("serve", "--port", "0", "--port-file", "/nonexistent/x/port", expect=2)
    assert result.stderr.startswith("wscli: error:") and "--port-file" in result.stderr


@pytest.mark.parametrize("command", ["tail", "validate", "serve", "config"])
def test_root_options_are_listed_in_subcommand_help(command: str) -> None:
    """--color can follow any command, --profile any that connects; their help lists them."""
    out = run_cli(command, "--help").stdout
    assert "--color" in out
    assert ("--profile" in out) == (command != "serve")


def test_traceback_after_the_command_shows_the_chain(free_port: int) -> None:
    """`wscli tail --traceback` works like `wscli --traceback tail`."""
    result = run_wscli(
        "tail", f"ws://127.0.0.1:{free_port}/", "--traceback", expect=3, allow_traceback=True
    )
    assert "ConnectionRefusedError" in result.stderr


LIGHT_PROBE = """
import sys
from wscli.cli import main
try:
    main({args!r})
except SystemExit:
    pass
print("LOADED=" + ",".join(m for m in {names!r} if m in sys.modules))
"""


@pytest.mark.parametrize("args", [["--help"], ["tail", "--help"], ["--profile", "x", "--help"]])
def test_help_reads_no_config_and_imports_no_config_parser(args: list[str]) -> None:
    """The root callback stores --profile; the file, tomllib and platformdirs wait for a connect."""
    import sys

    names = ("wscli.profiles", "tomllib", "tomli", "platformdirs", "rich", "websocket")
    proc = subprocess.run(
        [sys.executable, "-c", LIGHT_PROBE.format(args=args, names=names)],
        capture_output=True,
        text=True,
        timeout=unit(60),
        env=without_coverage(clean_env(WSCLI_CONFIG="/nonexistent/config.toml")),
    )
    assert "LOADED=\n" in proc.stdout or proc.stdout.endswith("LOADED="), proc.stdout[-300:]


SHARED_HEADINGS = ["Options:", "Output:", "Filters:", "Connection:", "TLS:", "Proxy:"]


def _headings(help_text: str) -> list[str]:
    return [line for line in help_text.splitlines() if line.endswith(":") and line[:1].isalpha()]


def test_tail_help_lists_its_own_options_before_the_shared_groups() -> None:
    """`tail --help`: --duration comes first; the 17 shared options sit under headings (#22)."""
    out = run_cli("tail", "--help").stdout
    assert _headings(out)[:6] == SHARED_HEADINGS
    own = out.split("Options:", 1)[1].split("Output:", 1)[0]
    assert "--duration" in own and "--demo" in own and "--header" not in own
    assert "--location" in out.split("Filters:", 1)[1].split("Connection:", 1)[0]
    assert "--cacert" in out.split("TLS:", 1)[1].split("Proxy:", 1)[0]
    assert "--no-proxy" in out.split("Proxy:", 1)[1]
    assert "--token" in out.split("Connection:", 1)[1].split("TLS:", 1)[0]


@pytest.mark.parametrize("command", ["connect", "load", "probe", "config", "replay", "validate"])
def test_every_command_with_connection_options_groups_them(command: str) -> None:
    """The same headings wherever the connection options are shared; own options first."""
    out = run_cli(command, "--help").stdout
    headings = _headings(out)
    assert headings[0] == "Options:" and "Connection:" in headings
    assert headings.index("Connection:") < headings.index("TLS:") < headings.index("Proxy:")
    assert "--header" not in out.split("Options:", 1)[1].split(headings[1], 1)[0]
