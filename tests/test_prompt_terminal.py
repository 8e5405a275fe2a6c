"""``connect``'s terminal writer: every line a receiver writes is shown, in order (#17 item 8).

prompt_toolkit's ``patch_stdout`` queued a write on the prompt's event loop and forgot it,
so a session the server ended right after the upgrade sometimes lost its last message
and the close line. These run a real prompt (pipe input, no terminal) and end it from
another thread in the middle of a burst of writes, as the receiver does.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest

from wscli.interactive import AbovePrompt

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
