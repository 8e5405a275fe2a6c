"""``connect`` on a terminal: every line a receiver writes is shown, in order (#17 item 8);
the history file is the user's alone (#17 item 15).

prompt_toolkit's ``patch_stdout`` queued a write on the prompt's event loop and forgot it,
so a session the server ended right after the upgrade sometimes lost its last message
and the close line. These run a real prompt (pipe input, no terminal) and end it from
another thread in the middle of a burst of writes, as the receiver does.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from wscli.session.interactive import AbovePrompt, history_file

pytest.importorskip("prompt_toolkit")


def _session(pipe: Any) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.output import DummyOutput

    return PromptSession(input=pipe, output=DummyOutput())


def _end_prompt(session: Any) -> None:
    app = session.app
    loop = app.loop
    if loop is not None:
        try:
            loop.call_soon_threadsafe(lambda: app.is_running and app.exit(result=""))
        except RuntimeError:
            pass


def _one_session(lines: list[str], exit_at: int) -> str:
    """Run a prompt; a receiver thread writes ``lines`` and ends it after line ``exit_at``."""
    from prompt_toolkit.input import create_pipe_input

    out = io.StringIO()
    with create_pipe_input() as pipe:
        session = _session(pipe)
        terminal = AbovePrompt(session, out)
        started = threading.Event()

        def receiver() -> None:
            assert started.wait(5)
            for number, line in enumerate(lines):
                terminal.write(line)
                if number == exit_at:
                    _end_prompt(session)

        def prompt_started() -> None:
            terminal.prompt_started()
            started.set()

        thread = threading.Thread(target=receiver)
        thread.start()
        try:
            session.prompt("> ", pre_run=prompt_started)
        finally:
            terminal.flush()  # as PromptLoop.run does after every prompt
            thread.join(5)
        terminal.flush()  # as run_interactive does once the receiver is done
    return out.getvalue()


@pytest.mark.parametrize("exit_at", [0, 1, 7, 50, 199])
def test_lines_written_while_the_prompt_ends_are_all_shown_in_order(exit_at: int) -> None:
    """A writer thread ends the prompt mid-burst: after the prompt, every line is out, once."""
    lines = [f"line {n}\n" for n in range(200)]
    for _ in range(5):  # a few interleavings per exit point; each round is milliseconds
        assert _one_session(lines, exit_at) == "".join(lines)


def test_a_line_written_with_no_prompt_running_is_written_at_once() -> None:
    """Between prompts (or after the last) nothing waits for a loop that will not come."""
    from prompt_toolkit.input import create_pipe_input

    out = io.StringIO()
    with create_pipe_input() as pipe:
        terminal = AbovePrompt(_session(pipe), out)
        terminal.write("wscli: server closed the connection: 1001\n")
    assert out.getvalue() == "wscli: server closed the connection: 1001\n"


@pytest.fixture
def umask_022() -> Any:
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_history_file_is_created_0600_under_umask_022(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    """Typed lines can hold tokens: a new history file is readable by its owner only."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = history_file()
    assert path is not None and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_history_file_open_to_others_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask_022: None
) -> None:
    """A history file an older wscli left 0644 becomes 0600; its lines stay."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    old = tmp_path / "state" / "wscli" / "connect_history"
    old.parent.mkdir(parents=True)
    old.write_text("\n# 2026-01-01\n+secret line\n")
    old.chmod(0o644)
    path = history_file()
    assert path == old and stat.S_IMODE(old.stat().st_mode) == 0o600
    assert "+secret line" in old.read_text()
