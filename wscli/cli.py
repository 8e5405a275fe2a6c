"""The root command: lazy subcommands, global options, and the one error boundary.

``main`` is the only place that turns exceptions into exit statuses, so every
command can simply raise (httpie's ``raw_main``/``program`` split).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from wscli import __version__
from wscli.errors import EXIT_CODE_HELP, ExitStatus

# A literal map, not a directory scan, with each command's one-line summary so
# that root --help lists the commands without importing any of them.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "tail": (
        "wscli.commands.tail:tail",
        "Stream messages: pretty on a terminal, JSON Lines in a pipe.",
    ),
    "validate": (
        "wscli.commands.validate:validate",
        "Check messages against the schema: files, stdin or a live URL.",
    ),
    "serve": (
        "wscli.commands.serve:serve",
        "Run the simulated sensor backend, with fault injection.",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when it is needed."""

    def __init__(
        self, *args: Any, lazy_commands: dict[str, tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attr = self.lazy_commands[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy_commands[name][1]) for name in sorted(self.lazy_commands)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class AppState:
    """What the root group knows; subcommands read it through ``pass_state``.

    A plain class, not a dataclass: importing dataclasses costs ``--help`` time.
    """

    __slots__ = ("color", "traceback")

    def __init__(self, color: str = "auto", traceback: bool = False) -> None:
        self.color = color
        self.traceback = traceback


pass_state = click.make_pass_decorator(AppState, ensure=True)


@click.group(
    cls=LazyGroup,
    lazy_commands=LAZY_COMMANDS,
    epilog=EXIT_CODE_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour on a terminal only (auto), always, or never. NO_COLOR is honoured.",
)
@click.option(
    "--traceback",
    is_flag=True,
    envvar="WSCLI_TRACEBACK",
    help="Show Python tracebacks instead of one-line errors (for bug reports).",
)
@click.version_option(__version__, "-V", "--version", prog_name="wscli")
@click.pass_context
def cli(ctx: click.Context, color: str, traceback: bool) -> None:
    """Test and debug WebSocket streams.

    Start with the built-in demo stream:  wscli tail --demo
    """
    # Runs before a subcommand parses --help: store, never work.
    ctx.obj = AppState(color=color, traceback=traceback)


def _wants_traceback(argv: list[str]) -> bool:
    return "--traceback" in argv or os.environ.get("WSCLI_TRACEBACK", "") not in ("", "0")


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into SPEC's exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        # make_context/invoke rather than cli.main(): Click's main turns a closed
        # pipe into exit 1 even with standalone_mode=False.
        with cli.make_context("wscli", list(args)) as ctx:  # click consumes the list
            result = cli.invoke(ctx)
        code = int(result) if isinstance(result, int) else ExitStatus.OK
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        if exc.__cause__ is not None and _wants_traceback(args):
            import traceback

            traceback.print_exception(exc.__cause__)
        exc.show()
        code = exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        code = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # `wscli tail | head -3`: the reader has all it wanted.
        _quiet_stdout()
        code = ExitStatus.OK
    except Exception as exc:
        if _wants_traceback(args):
            raise
        sys.stderr.write(
            f"wscli: error: unexpected {type(exc).__name__}: {exc}"
            " (a bug in wscli: rerun with --traceback and report it)\n"
        )
        code = ExitStatus.CHECK_FAILED
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _quiet_stdout()
    sys.exit(code)
