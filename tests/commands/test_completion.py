"""Shell completion through Click's standard `_WSCLI_COMPLETE` mechanism (issue #10)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import clean_env, run_wscli, unit, wscli_executable


def complete(shell: str, words: str, **env: str) -> list[str]:
    """What `wscli` answers when ``shell`` asks to complete ``words`` (last word incomplete)."""
    parts = words.split(" ")
    # bash and zsh pass the index of the word; fish passes the word itself.
    cword = parts[-1] if shell == "fish" else str(len(parts) - 1)
    environment = clean_env(
        _WSCLI_COMPLETE=f"{shell}_complete", COMP_WORDS=words, COMP_CWORD=cword, **env
    )
    result = run_wscli(env=environment)
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "_wscli_completion()"),
        ("zsh", "#compdef wscli"),
        ("fish", "complete --no-files --command wscli"),
    ],
)
def test_each_shell_gets_its_script(shell: str, marker: str) -> None:
    """`_WSCLI_COMPLETE=<shell>_source wscli` prints the script to source, exit 0."""
    result = run_wscli(env=clean_env(_WSCLI_COMPLETE=f"{shell}_source"))
    assert marker in result.stdout
    assert result.stderr == ""


def test_tai_completes_to_tail_in_bash() -> None:
    """`wscli tai<TAB>` offers exactly `tail` (`ta` is also `tap`)."""
    assert complete("bash", "wscli tai") == ["plain,tail"]


def test_zsh_and_fish_complete_command_names_with_their_summaries() -> None:
    """zsh and fish also get the one-line summary from the lazy command map."""
    zsh = complete("zsh", "wscli tai")
    assert zsh[:2] == ["plain", "tail"] and "Stream messages" in zsh[2]
    fish = complete("fish", "wscli tai")
    assert fish[0].startswith("plain,tail\t") and "Stream messages" in fish[0]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_real_bash_completes_tai_to_tail() -> None:
    """The sourced script, run by bash itself, fills COMPREPLY with `tail` for `tai`."""
    script = (
        'eval "$(_WSCLI_COMPLETE=bash_source wscli)"\n'
        "COMP_WORDS=(wscli tai); COMP_CWORD=1\n"
        "_wscli_completion wscli\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = clean_env()
    env["PATH"] = f"{Path(wscli_executable()).parent}:{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        timeout=unit(30),
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout.split() == ["tail"], proc.stderr


def test_options_and_their_choices_complete() -> None:
    """Option names, then the choices of -o, --color, --timestamps and --type."""
    assert "plain,--record" in complete("bash", "wscli tail --rec")
    assert complete("bash", "wscli tail -o ") == [
        "plain,auto",
        "plain,pretty",
        "plain,jsonl",
        "plain,raw",
    ]
    assert complete("bash", "wscli --color ") == ["plain,auto", "plain,always", "plain,never"]
    assert complete("bash", "wscli tail --timestamps i") == ["plain,iso"]
    assert complete("bash", "wscli validate -o ") == ["plain,text", "plain,json"]
    assert complete("bash", "wscli tail --type sensor_") == [
        "plain,sensor_reading",
        "plain,sensor_status",
    ]
    assert complete("bash", "wscli replay x.jsonl --type e") == ["plain,error"]


@pytest.mark.parametrize(
    "words",
    [
        "wscli tail --record ",
        "wscli validate --schema ",
        "wscli tail --cacert ",
        "wscli serve --port-file ",
    ],
)
def test_file_options_complete_file_paths(words: str) -> None:
    """File options ask the shell for file names."""
    assert complete("bash", words) == ["file,"]


def test_profile_names_complete_from_the_config_file(tmp_path: Path) -> None:
    """`wscli --profile <TAB>` lists the profiles in $WSCLI_CONFIG."""
    config = tmp_path / "config.toml"
    config.write_text('[profiles.staging]\nurl = "ws://a"\n[profiles.prod]\nurl = "ws://b"\n')
    found = complete("bash", "wscli --profile ", WSCLI_CONFIG=str(config))
    assert found == ["plain,prod", "plain,staging"]
    broken = tmp_path / "broken.toml"
    broken.write_text("[[[")
    assert complete("bash", "wscli --profile ", WSCLI_CONFIG=str(broken)) == []


PROBE = """
import os, sys
os.environ.update({{"_WSCLI_COMPLETE": "bash_complete", "COMP_WORDS": "wscli ", "COMP_CWORD": "1"}})
from wscli.cli import main
try:
    main([])
except SystemExit:
    pass
loaded = sorted(m for m in sys.modules if m.startswith("wscli.commands.") or m in {heavy!r})
print("LOADED=" + ",".join(loaded))
"""


def test_command_names_complete_without_importing_any_command() -> None:
    """Completing a command name reads the lazy map: no command module, nothing heavy."""
    heavy = {"rich", "jsonschema", "websockets", "websocket"}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy)],
        capture_output=True,
        text=True,
        timeout=unit(60),
        env=clean_env(),
    )
    lines = proc.stdout.splitlines()
    assert "plain,tail" in lines and "plain,validate" in lines
    assert "LOADED=" in lines, proc.stdout + proc.stderr


def _bash_completes(line: str, folder: Path, expected: str) -> str:
    """Type ``line`` then TAB into a real interactive bash on a pty; the echoed screen text."""
    import os
    import pty
    import select
    import time

    env = clean_env(TERM="dumb", PS1="$ ", HOME=str(folder), INPUTRC="/dev/null")
    env["PATH"] = f"{Path(wscli_executable()).parent}:{env.get('PATH', '')}"
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive bash in the folder
        os.chdir(folder)
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
    screen = b""

    def read_until(marker: bytes, seconds: float) -> None:
        nonlocal screen
        deadline = time.monotonic() + unit(seconds)
        while marker not in screen and time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    screen += os.read(fd, 4096)
                except OSError:
                    return

    try:
        os.write(fd, b'eval "$(_WSCLI_COMPLETE=bash_source wscli)"; echo sourced-ok\n')
        read_until(b"sourced-ok\r\n$ ", 30)
        screen = b""
        os.write(fd, line.encode() + b"\t")
        read_until(expected.encode(), 10)
    finally:
        os.write(fd, b"\x03exit\n")
        os.close(fd)
        os.waitpid(pid, 0)
    return screen.decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("command", ["validate", "replay"])
def test_real_bash_completes_file_names_for_validate_and_replay(
    tmp_path: Path, command: str
) -> None:
    """`wscli validate sess<TAB>` completes the file name in an interactive bash (#22)."""
    (tmp_path / "session.jsonl").write_text("{}\n")
    (tmp_path / "other.txt").write_text("")
    expected = f"wscli {command} session.jsonl"
    screen = _bash_completes(f"wscli {command} sess", tmp_path, expected)
    assert expected in screen, screen
