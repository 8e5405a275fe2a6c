"""What the root group shares with every command: colour, traceback, the chosen profile.

Here rather than in :mod:`wscli.cli` so that commands and option helpers reach it
without importing the root group above them (the Click pattern of ``ctx.obj`` and a
pass decorator, with the state one layer down).
"""

from __future__ import annotations

import click


class AppState:
    """What the root group knows; subcommands read it through ``pass_state``.

    A plain class, not a dataclass: importing dataclasses costs ``--help`` time.
    """

    __slots__ = ("color", "traceback", "profile")

    def __init__(
        self, color: str = "auto", traceback: bool = False, profile: str | None = None
    ) -> None:
        self.color = color
        self.traceback = traceback
        self.profile = profile  # a name only: the file is read when a command connects


pass_state = click.make_pass_decorator(AppState, ensure=True)
