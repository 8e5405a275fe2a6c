"""Options for how a stream of messages is shown, and the :class:`TailRun` they build.

``tail`` and ``replay`` (and any later command that shows messages through
tail's loop) take them from here as one decorator, and receive one
:class:`ViewOptions` value, so the two commands cannot drift apart.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from wscli.errors import BadUsage
from wscli.options.connection import AliasedChoice, time_options
from wscli.options.help import grouped
from wscli.output.terminal import MODE_ALIASES, MODES

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ViewOptions:
    mode: str
    utc: bool
    timestamps: str
    received_at: bool
    types: tuple[str, ...]
    sensors: tuple[str, ...]
    locations: tuple[str, ...]
    field_path: str | None
    count: int | None
    validate: bool
    schema_file: str | None
    fail_on_invalid: bool
    stats: bool
    stats_json: str | None

    def tail_run(self, color: str) -> Any:
        """The per-message loop configured by these options (a :class:`TailRun`).

        The same checks and wiring as ``tail``'s own options.
        """
        from wscli.filters import MessageFilter, parse_field_path
        from wscli.output.clock import Clock
        from wscli.output.files import check_writable
        from wscli.output.terminal import Output
        from wscli.session.render import MessageRenderer
        from wscli.session.tailing import TailRun, load_validator

        mode = self.mode
        if self.received_at:
            if self.field_path is not None:
                raise click.UsageError("--with-received-at wraps whole messages: drop --field")
            if mode in ("pretty", "raw"):
                raise click.UsageError(
                    f"--with-received-at is for JSON Lines, not -o {mode}"
                    " (pretty lines show the time already)"
                )
            mode = "jsonl"
        path = None
        if self.field_path is not None:
            try:
                path = parse_field_path(self.field_path)
            except ValueError as exc:
                raise BadUsage(str(exc), hint="write paths like data.value") from exc
        validate = self.validate or self.fail_on_invalid or bool(self.schema_file)
        output = Output(color=color)
        output.clock = Clock(utc=self.utc, iso=self.timestamps == "iso")
        run = TailRun(
            output=output,
            renderer=MessageRenderer(output, mode, field_path=path, received_at=self.received_at),
            message_filter=MessageFilter.from_options(self.types, self.sensors, self.locations),
            validator=load_validator(self.schema_file) if validate else None,
            fail_on_invalid=self.fail_on_invalid,
            count=self.count,
            show_stats=self.stats,
        )
        if self.stats_json is not None:
            run.stats_json = check_writable(self.stats_json, "--stats-json")
        return run


def _complete_types(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The home stream's envelope types; any other type is still accepted."""
    from wscli.server.config import MESSAGE_TYPES

    return [kind for kind in MESSAGE_TYPES if kind.startswith(incomplete)]


_VIEW_PARAMS = (
    *grouped(
        "Output",
        click.option(
            "-o",
            "--output",
            "mode",
            type=AliasedChoice(MODES, aliases=MODE_ALIASES),
            default="auto",
            show_default=True,
            help="pretty on a terminal, jsonl in a pipe (json is the same); raw prints payloads"
            " as they came.",
        ),
        time_options,
        click.option(
            "--with-received-at",
            "received_at",
            is_flag=True,
            help='JSON Lines: wrap each message as {"received_at": RFC 3339 UTC, "message": ...}.',
        ),
    ),
    *grouped(
        "Filters",
        click.option(
            "--type",
            "types",
            multiple=True,
            shell_complete=_complete_types,
            help="Only this message type (repeatable).",
        ),
        click.option(
            "--sensor", "sensors", multiple=True, help="Only this sensor_id (repeatable)."
        ),
        click.option(
            "--location", "locations", multiple=True, help="Only this location (repeatable)."
        ),
    ),
    *grouped(
        "Output",
        click.option(
            "--field", "field_path", metavar="PATH", help="Print one field, e.g. data.value."
        ),
        click.option(
            "-n", "--count", type=click.IntRange(min=1), help="Stop after N messages shown."
        ),
        click.option("--validate", is_flag=True, help="Check each message against the schema."),
        click.option(
            "--schema",
            "schema_file",
            type=click.Path(exists=True, dir_okay=False),
            help="JSON Schema to validate with (default: the built-in sensor stream schema).",
        ),
        click.option(
            "--fail-on-invalid", is_flag=True, help="Stop with exit 1 at the first invalid one."
        ),
        click.option("--stats", is_flag=True, help="Print a summary table on stderr at exit."),
        click.option(
            "--stats-json",
            "stats_json",
            type=click.Path(dir_okay=False, writable=True),
            metavar="FILE",
            help="Also write the --stats summary as JSON to FILE, on every ending (atomic).",
        ),
    ),
)

_VIEW_KEYS = (
    "mode",
    "utc",
    "timestamps",
    "received_at",
    "types",
    "sensors",
    "locations",
    "field_path",
    "count",
    "validate",
    "schema_file",
    "fail_on_invalid",
    "stats",
    "stats_json",
)


def view_options(function: F) -> F:
    """Add tail's output, filter, validation and stats options; pass ``view``."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        view = ViewOptions(**{key: kwargs.pop(key) for key in _VIEW_KEYS})
        return function(*args, view=view, **kwargs)

    decorated: Any = wrapper
    for param in reversed(_VIEW_PARAMS):
        decorated = param(decorated)
    return decorated  # type: ignore[no-any-return]
