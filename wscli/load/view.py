"""Progress while ``wscli load`` runs: a live view on a terminal, a line every 5 s in a pipe.

Numbers are read from Locust's statistics (current msg/s, percentiles) about once
a second; nothing here counts on its own.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wscli.frames import escape

if TYPE_CHECKING:
    from wscli.output.terminal import Output

PIPE_EVERY = 5.0


def snapshot(env: Any, target: int, elapsed: float) -> dict[str, Any]:
    """The figures the view shows, from Locust's statistics."""
    from locust.stats import StatsEntry

    from wscli.load.run import connected_users

    stats = env.stats
    delay = StatsEntry(stats, "delay", "recv", use_response_times_cache=False)
    rps = 0.0
    for (_, method), entry in list(stats.entries.items()):
        if method in ("recv", "recv-untimed"):
            rps += entry.current_rps
            if method == "recv":
                delay.extend(entry)
    connect = stats.entries.get(("connect", "connect"))
    reconnect = stats.entries.get(("reconnect", "stream"))

    def pct(entry: Any, q: float) -> str:
        if entry is None or not entry.num_requests:
            return "-"
        # Locust's bucketed value, capped at the exact maximum (as the summary does).
        value = min(entry.get_response_time_percentile(q), entry.max_response_time)
        return f"{round(value, 1):g}"

    return {
        "elapsed": elapsed,
        "connected": connected_users(env),
        "target": target,
        "rate": rps,
        "connect": (pct(connect, 0.5), pct(connect, 0.99)),
        "delay": (pct(delay, 0.5), pct(delay, 0.99)),
        "failures": stats.total.num_failures,
        "reconnects": reconnect.num_requests if reconnect is not None else 0,
    }


def clock_text(elapsed: float, total: float | None) -> str:
    """``12 s / 60 s, 48 s left``: where the run is (``12 s`` when the end is unknown)."""
    if not total:
        return f"{elapsed:.0f} s"
    left = max(total - elapsed, 0.0)
    return f"{elapsed:.0f} s / {total:g} s, {left:.0f} s left"


def status_line(s: dict[str, Any]) -> str:
    return (
        f"wscli load: {clock_text(s['elapsed'], s.get('total'))},"
        f" users {s['connected']}/{s['target']},"
        f" {s['rate']:.1f} msg/s, connect p50/p99 {s['connect'][0]}/{s['connect'][1]} ms,"
        f" delay p50/p99 {s['delay'][0]}/{s['delay'][1]} ms,"
        f" failures {s['failures']}, reconnects {s['reconnects']}"
    )


class ProgressView:
    """Call :meth:`tick` about once a second; :meth:`close` before the summary."""

    def __init__(
        self, output: Output, target: int, *, role: str = "local", duration: float | None = None
    ) -> None:
        self.output = output
        self.target = target
        self.duration = duration  # --duration: the view counts down to it
        self.role = role
        self.live: Any = None
        self.last_line = time.monotonic()
        if output.err_is_tty and role != "worker":
            from rich.live import Live

            self.live = Live(
                console=output.err_console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
            )
            self.live.start()

    def tick(self, env: Any, elapsed: float) -> None:
        if self.role == "worker":
            from wscli.load.user import REGISTRY

            if time.monotonic() - self.last_line >= PIPE_EVERY:
                self.last_line = time.monotonic()
                messages = sum(r.messages for r in REGISTRY.records)
                self.output.note(
                    f"wscli load (worker): {elapsed:.0f} s, users {REGISTRY.connected}"
                    f"/{len(REGISTRY.records)}, {messages} messages"
                )
            return
        if self.live is not None:
            self.live.update(self._table(self._snapshot(env, elapsed)), refresh=True)
        elif time.monotonic() - self.last_line >= PIPE_EVERY:
            self.last_line = time.monotonic()
            self.output.note(status_line(self._snapshot(env, elapsed)))

    def _snapshot(self, env: Any, elapsed: float) -> dict[str, Any]:
        figures = snapshot(env, self.target, elapsed)
        figures["total"] = self.duration
        return figures

    def _table(self, s: dict[str, Any]) -> Any:
        from rich.table import Table

        title = f"wscli load  {clock_text(s['elapsed'], s.get('total'))}"
        table = Table(title=title, show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("users", f"{s['connected']}/{s['target']}")
        table.add_row("msg/s", f"{s['rate']:.1f}")
        table.add_row("connect p50/p99", f"{s['connect'][0]} / {s['connect'][1]} ms")
        table.add_row("delay p50/p99", f"{s['delay'][0]} / {s['delay'][1]} ms")
        table.add_row("failures", str(s["failures"]))
        table.add_row("reconnects", str(s["reconnects"]))
        return table

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


__all__ = ["ProgressView", "escape", "status_line"]
