"""``--help`` with a command's own options first, the shared ones under headings.

``wscli tail --help`` listed 17 connection options before ``--duration``; a reader
looking for what *tail* does had to scroll past TLS and proxy settings first. Click
has no option groups, so shared decorators tag the options they add (:func:`grouped`)
and :class:`GroupedCommand` prints untagged options under "Options", then each
heading in :data:`HEADINGS` order. Only the help layout changes: parsing, the man page
and completion see the same parameters in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

OWN = "Options"
HEADINGS = (OWN, "Output", "Filters", "Connection", "TLS", "Proxy")
_ATTRIBUTE = "wscli_help_group"
COLUMN_MAX = 30  # click's own limit for the option column


def grouped(heading: str, *decorators: Callable[[Any], Any]) -> list[Callable[[Any], Any]]:
    """The option ``decorators``, each tagging the parameter it adds with ``heading``."""
    return [_tagging(heading, decorator) for decorator in decorators]


def _tagging(heading: str, decorator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(function: Any) -> Any:
        before = len(getattr(function, "__click_params__", ()))
        function = decorator(function)
        for param in getattr(function, "__click_params__", ())[before:]:
            tag(param, heading)
        return function

    return apply


def tag(param: click.Parameter, heading: str) -> click.Parameter:
    """Put ``param`` under ``heading`` in ``--help``."""
    setattr(param, _ATTRIBUTE, heading)
    return param


def heading_of(param: click.Parameter) -> str:
    return str(getattr(param, _ATTRIBUTE, OWN))


class GroupedCommand(click.Command):
    """A command whose ``--help`` shows its own options first, then the shared groups."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None and not isinstance(param, click.Argument):
                sections.setdefault(heading_of(param), []).append(record)
        order = [*HEADINGS, *(name for name in sections if name not in HEADINGS)]
        # One first-column width for every section, so the help texts line up.
        column = min(
            COLUMN_MAX, max((len(n) for rows in sections.values() for n, _ in rows), default=0)
        )
        for name in order:
            rows = sections.get(name)
            if rows:
                with formatter.section(name):
                    formatter.write_dl([(n.ljust(column), text) for n, text in rows], COLUMN_MAX)
