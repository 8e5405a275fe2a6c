"""The options ``serve`` and ``tap`` share for the client verdict (issue #20).

Light on purpose: both command modules are imported by ``wscli --help``'s lazy
group only when named, but this module is plain click either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from wscli.durations import POSITIVE_SECONDS, SECONDS

if TYPE_CHECKING:
    from wscli.checks.clients import ClientBook, Expectations, Outcome

F = TypeVar("F", bound=Callable[..., Any])

VERDICT_HELP = """\b
Client verdict (with --duration, an --expect-* option, -o or --junit):
  a timeline per client (address, User-Agent, --client-key): connects,
  reconnect delays and the schedule they match (exponential, linear,
  constant, immediate), pings sent, endings; printed at the end, also on
  Ctrl-C/SIGTERM. An --expect-* that is not met makes the exit status 1."""

_OPTIONS: list[Callable[[Any], Any]] = [
    click.option(
        "--duration",
        type=POSITIVE_SECONDS,
        metavar="SECONDS",
        help="Stop after SECONDS, print the client verdict, exit with its status.",
    ),
    click.option(
        "--client-key",
        metavar="NAME",
        help="Tell clients apart by this query parameter or cookie (e.g. 'client').",
    ),
    click.option(
        "--expect-backoff",
        type=click.Choice(["exponential", "linear", "constant", "any"]),
        help="Each client's reconnect delays follow this schedule ('any': not immediate).",
    ),
    click.option(
        "--expect-max-attempts",
        type=click.IntRange(min=0),
        metavar="N",
        help="No client makes more than N reconnect attempts in a row.",
    ),
    click.option(
        "--expect-reconnect-within",
        type=SECONDS,
        metavar="S",
        help="After a drop or refusal each client is back within S seconds.",
    ),
    click.option(
        "--expect-ping-every",
        type=POSITIVE_SECONDS,
        metavar="S",
        help="Each client pings at least every S seconds (a gap over 1.5 x S fails).",
    ),
    click.option(
        "--expect-jitter",
        is_flag=True,
        help="Clients spread their reconnects: most of them within 50 ms is a thundering herd.",
    ),
    click.option(
        "-o",
        "--output",
        "verdict_output",
        type=click.Choice(["text", "json"]),
        help="The client verdict on stdout as text or one JSON document.",
    ),
    click.option(
        "--junit",
        type=click.Path(dir_okay=False, writable=True),
        metavar="FILE",
        help="Write the verdict as JUnit XML: one case per client and expectation.",
    ),
]


def verdict_options(command: F) -> F:
    """Add the verdict options to a command, in the order the help lists them."""
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


class VerdictRequest:
    """What the verdict options asked for; ``wanted`` is false when none was given."""

    def __init__(
        self,
        *,
        duration: float | None,
        client_key: str | None,
        expect_backoff: str | None,
        expect_max_attempts: int | None,
        expect_reconnect_within: float | None,
        expect_ping_every: float | None,
        expect_jitter: bool,
        verdict_output: str | None,
        junit: str | None,
    ) -> None:
        from wscli.checks.clients import ClientBook, Expectations

        self.duration = duration
        self.output = verdict_output or "text"
        self.junit = junit
        self.expect: Expectations = Expectations(
            backoff=expect_backoff,
            max_attempts=expect_max_attempts,
            reconnect_within=expect_reconnect_within,
            ping_every=expect_ping_every,
            jitter=expect_jitter,
        )
        self.wanted = bool(duration or client_key or verdict_output or junit or self.expect.any)
        self.book: ClientBook = ClientBook(client_key)
        if junit:
            from wscli.output.files import check_writable

            check_writable(junit, "--junit")

    def finish(self, suite: str, *, stopped: str = "", extra: list[Outcome] | None = None) -> int:
        """Judge and write every report; the exit status (the caller maps a stop to 130/143).

        ``extra`` are outcomes the command judged itself (``tap --validate``).
        """
        from wscli.checks.clients import judge, write_reports

        verdict = judge(self.book, self.expect, stopped=stopped)
        verdict.outcomes.extend(extra or [])
        return write_reports(verdict, output=self.output, junit=self.junit, suite=suite)


def pop_verdict_request(kwargs: dict[str, Any]) -> VerdictRequest:
    """Take the verdict options out of a command's keyword arguments."""
    names = (
        "duration",
        "client_key",
        "expect_backoff",
        "expect_max_attempts",
        "expect_reconnect_within",
        "expect_ping_every",
        "expect_jitter",
        "verdict_output",
        "junit",
    )
    return VerdictRequest(**{name: kwargs.pop(name) for name in names})
