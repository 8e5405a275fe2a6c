"""``wscli tail --health``: a live table on a terminal, JSON Lines + a report in a pipe."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.support.cli import run_wscli
from tests.support.pty import run_on_terminal, visible
from wscli.checks.health import HealthConfig
from wscli.output.terminal import Output
from wscli.server.simulator import Simulator, StreamFaults
from wscli.session.health_view import HealthView


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_live_table_redraws_at_most_ten_times_a_second() -> None:
    """5,000 messages over 2 simulated seconds: about 20 redraws, not 5,000."""
    from rich.console import Console

    clock = Clock()
    console = Console(file=io.StringIO(), force_terminal=True, width=120, highlight=False)
    view = HealthView(
        HealthConfig(),
        Output(stdout=io.BytesIO(), is_tty=True, err_is_tty=False),
        live=True,
        console=console,
        clock=clock,
    )
    view.start()
    sim = Simulator(3)
    for _ in range(5_000):
        view.observe(sim.next_message())
        clock.now += 2.0 / 5_000
    result = view.finish()
    assert 19 <= view.draws <= 21
    assert result.ok
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "basement_wall" in shown and "health OK: 8 sources" in shown


def test_in_a_pipe_nothing_is_drawn_until_the_end() -> None:
    err = io.StringIO()
    view = HealthView(
        HealthConfig(expect_count=9),
        Output(stdout=io.BytesIO(), is_tty=False, err_is_tty=False, stderr=err),
        live=False,
    )
    view.start()
    sim = Simulator(3)
    for _ in range(200):
        view.observe(sim.next_message())
    assert view.draws == 0 and err.getvalue() == ""
    result = view.finish()
    assert not result.ok
    assert err.getvalue().splitlines()[-1].startswith("health FAILED: 8 sources")


@pytest.mark.slow
def test_tail_health_in_a_pipe_keeps_json_lines_and_reports_on_stderr(serve: Any) -> None:
    server = serve(seed=4, rate=200.0, stream_faults=StreamFaults(skew={6: 900.0}))
    url = f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"
    result = run_wscli("tail", url, "-n", "100", "--health", expect=1)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 100
    row = next(line for line in result.stderr.splitlines() if line.startswith("6 "))
    assert "fail clock_skew" in row
    assert "health FAILED: 8 sources: 7 pass, 0 suspect, 1 fail" in result.stderr


@pytest.mark.slow
def test_tail_health_on_a_terminal_shows_the_table_instead_of_lines(serve: Any) -> None:
    server = serve(seed=4, rate=200.0)
    url = f"ws://127.0.0.1:{server.port}/api/ws/sensor/stream"
    screen = run_on_terminal("tail", url, "-n", "200", "--health", columns=120)
    assert screen.exit_code == 0, screen.stderr
    out = visible(screen.stdout)
    assert "sensor_reading" not in out  # no message lines: the table replaces them
    assert "crawl_space" in out and "moisture_level" in out
    assert out.rstrip().splitlines()[-1] == "health OK: 8 sources: 8 pass, 0 suspect, 0 fail"
