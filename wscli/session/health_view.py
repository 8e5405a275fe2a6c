"""``tail --health``: a live per-source table on a terminal, a final report in a pipe.

On a terminal the table replaces the scrolling lines and is redrawn in place (rich
``Live``), at most :data:`MAX_REDRAWS` times a second whatever the message rate:
drawing is by far the dearest thing per message, so it is throttled by the clock,
not by a message count. In a pipe the JSON Lines flow as usual and the health
report goes to stderr at the end, so ``tail --health | jq`` sees clean data.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wscli.checks.health import HealthConfig, HealthEngine, HealthResult

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

    from wscli.checks.schema import Problem
    from wscli.output.terminal import Output

MAX_REDRAWS = 10  # per second


class HealthView:
    """Feeds the engine and draws it; ``live`` is the terminal table, else a pipe."""

    def __init__(
        self,
        config: HealthConfig,
        output: Output,
        *,
        live: bool,
        console: Console | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = HealthEngine(config)
        self.output = output
        self.live = live
        self.clock = clock
        self.wall = wall
        self.interval = 1.0 / MAX_REDRAWS
        self.drawn_at = -1e9
        self.draws = 0
        self._console = console
        self._live: Live | None = None

    def start(self) -> None:
        if not self.live:
            return
        from rich.live import Live

        self._live = Live(console=self.console(), auto_refresh=False, transient=False)
        self._live.start()

    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(
                file=sys.stdout,
                force_terminal=True,
                no_color=not self.output.color,
                highlight=False,
                markup=False,
                emoji=False,
            )
        return self._console

    def observe(self, message: Any) -> None:
        """One message: into the engine, and a redraw if the last is 1/10 s old."""
        self.engine.observe(message, self.wall())
        if self._live is not None:
            now = self.clock()
            if now - self.drawn_at >= self.interval:
                self.drawn_at = now
                self.draw()

    def message(self, data: bytes, obj: Any, problems: list[Problem] | None = None) -> bool:
        """The renderer's place on a terminal: the table shows it, no line is printed."""
        return True

    def draw(self) -> None:
        if self._live is None:
            return
        result = self.engine.result(end=self.wall())
        width = self.console().width
        self._live.update(_Frame(result, width), refresh=True)
        self.draws += 1

    def finish(self, *, stopped: str = "") -> HealthResult:
        """Stop drawing and write the final report: stdout on a terminal, else stderr."""
        from wscli.checks.health_report import health_text

        result = self.engine.result(end=self.wall())
        result.stopped = stopped
        if self._live is not None:
            self._live.update(_Frame(result, self.console().width), refresh=True)
            self._live.stop()
            self._live = None
            self.console().print(result.verdict(), markup=False, soft_wrap=True)
            return result
        from wscli.output.terminal import stream_columns

        width = stream_columns(self.output.err) or 120
        text = health_text(result, color=self.output.err_color, width=width)
        self.output.flush()
        self.output.err.write(text)
        self.output.err.flush()
        return result


class _Frame:
    """What the live display shows: the table and the verdict so far."""

    def __init__(self, result: HealthResult, width: int) -> None:
        self.result = result
        self.width = width

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        from wscli.checks.health_report import health_table

        return Group(health_table(self.result, width=self.width), Text(self.result.verdict()))
