"""The root command: lazy subcommands, global options, and the one error boundary.

``main`` is the only place that turns exceptions into exit statuses, so every
command can simply raise (httpie's ``raw_main``/``program`` split).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from wscli import __version__
from wscli.errors import EXIT_CODE_HELP, ExitStatus, Terminated, interrupt_status
from wscli.options.state import AppState

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

# Click's standard completion variable: `eval "$(_WSCLI_COMPLETE=bash_source wscli)"`.
COMPLETE_VAR = "_WSCLI_COMPLETE"

ENVIRONMENT_HELP = """\b
Environment:
  WSCLI_URL       default URL for every command that connects
  WSCLI_TOKEN     bearer token, instead of --token (keeps it out of shell history)
  WSCLI_PROFILE   profile from the config file, instead of --profile
  WSCLI_CONFIG    config file (default: ~/.config/wscli/config.toml on Linux)
  NO_COLOR        no colour or styling codes at all (so does TERM=dumb)
"""

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
    "probe": (
        "wscli.commands.probe:probe",
        "Diagnose a connection step by step; gate CI on a live stream.",
    ),
    "load": (
        "wscli.commands.load:load",
        "Many streaming users at once on Locust: thresholds, fan-out check.",
    ),
    "serve": (
        "wscli.commands.serve:serve",
        "Run the simulated sensor backend, with fault injection.",
    ),
    "tap": (
        "wscli.commands.tap:tap",
        "Proxy between a client and its backend: every frame, faults, a client verdict.",
    ),
    "connect": (
        "wscli.commands.connect:connect",
        "Talk to an endpoint: a prompt on a terminal, --send/stdin from a script.",
    ),
    "replay": (
        "wscli.commands.replay:replay",
        "Play a recording: on the terminal, as a mock server, or against a server.",
    ),
    "config": (
        "wscli.commands.config:config",
        "Show the resolved settings and where each came from (secrets redacted).",
    ),
    "man": (
        "wscli.commands.man:man",
        "Print the man page, made from the commands' own help.",
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

    def invoke(self, ctx: click.Context) -> Any:
        # Here, not in main(): root --help exits while parsing and never pays for
        # importing signal (bench/startup.py holds it within 1.2x of `import click`).
        _install_sigterm_handler()
        return super().invoke(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands:
            module_name, attr = self.lazy_commands[cmd_name][0].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            _accept_root_options(command)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Unknown names get a "did you mean" from the lazy map (issue #10)."""
        name = args[0] if args else ""
        known = self.list_commands(ctx)
        if name and name not in known and not name.startswith("-") and not ctx.resilient_parsing:
            import difflib

            close = difflib.get_close_matches(name, known, n=1)
            if close:
                raise click.UsageError(f"No such command {name!r}. Did you mean {close[0]!r}?", ctx)
        return super().resolve_command(ctx, args)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names and summaries from the lazy map, without importing any command."""
        from click.shell_completion import CompletionItem

        items = [
            CompletionItem(name, help=summary)
            for name, (_, summary) in sorted(self.lazy_commands.items())
            if name.startswith(incomplete)
        ]
        return items + click.Command.shell_complete(self, ctx, incomplete)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy_commands[name][1]) for name in sorted(self.lazy_commands)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _complete_profiles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Profile names from the config file, for the shell; silent when it is unreadable."""
    try:
        from wscli.profiles import profile_names

        return [name for name in profile_names() if name.startswith(incomplete)]
    except Exception:
        return []


_COLOR_HELP = "Colour on a terminal only (auto), always, or never. NO_COLOR is honoured."
_TRACEBACK_HELP = "Show Python tracebacks instead of one-line errors (for bug reports)."
_PROFILE_HELP = "Use this profile from the config file (see `wscli config`)."


def _set_from_subcommand(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """A root option given after the subcommand (`wscli tail --color never`) wins."""
    from click.core import ParameterSource

    if param.name and ctx.get_parameter_source(param.name) in (
        ParameterSource.COMMANDLINE,
        ParameterSource.ENVIRONMENT,
    ):
        state = ctx.ensure_object(AppState)
        setattr(state, param.name, value)


def _accept_root_options(command: click.Command) -> None:
    """Give a subcommand the root's options too, so they work on either side of its name."""
    if getattr(command, "_wscli_root_options", False):
        return
    names = {name for param in command.params for name in param.opts}
    extra: list[click.Parameter] = []
    if "--color" not in names:
        extra.append(
            click.Option(
                ["--color"],
                type=click.Choice(["auto", "always", "never"]),
                expose_value=False,
                callback=_set_from_subcommand,
                help=_COLOR_HELP,
            )
        )
    if "--profile" not in names and "--header" in names:  # only where it means something
        extra.append(
            click.Option(
                ["--profile"],
                metavar="NAME",
                expose_value=False,
                callback=_set_from_subcommand,
                shell_complete=_complete_profiles,
                help=_PROFILE_HELP,
            )
        )
    if "--traceback" not in names:
        extra.append(
            click.Option(
                ["--traceback"],
                is_flag=True,
                expose_value=False,
                callback=_set_from_subcommand,
                help=_TRACEBACK_HELP,
            )
        )
    from wscli.options.help import tag

    for param in extra:  # where --help lists them (wscli.options.help)
        if param.name == "color":
            tag(param, "Output")
        elif param.name == "profile":
            tag(param, "Connection")
    command.params.extend(extra)
    command._wscli_root_options = True  # type: ignore[attr-defined]


@click.group(
    cls=LazyGroup,
    lazy_commands=LAZY_COMMANDS,
    epilog=ENVIRONMENT_HELP + "\n" + EXIT_CODE_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help=_COLOR_HELP,
)
@click.option(
    "--profile",
    envvar="WSCLI_PROFILE",
    metavar="NAME",
    shell_complete=_complete_profiles,
    help=_PROFILE_HELP + " [env: WSCLI_PROFILE]",
)
@click.option(
    "--traceback",
    is_flag=True,
    envvar="WSCLI_TRACEBACK",
    help=_TRACEBACK_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="wscli")
@click.pass_context
def cli(ctx: click.Context, color: str, profile: str | None, traceback: bool) -> None:
    """Test and debug WebSocket streams.

    Start with the built-in demo stream:  wscli tail --demo

    Options shown here can also follow the command: wscli tail --color never
    """
    # Runs before a subcommand parses --help: store, never work (the profile is
    # read only when a command connects).
    ctx.obj = AppState(color=color, traceback=traceback, profile=profile)
    from wscli.redact import forget_secrets

    forget_secrets()  # one invocation's credentials (in-process runs share the module)


def _wants_traceback(argv: list[str]) -> bool:
    return "--traceback" in argv or os.environ.get("WSCLI_TRACEBACK", "") not in ("", "0")


def _quiet_stdout() -> None:
    """After a closed pipe, point stdout at /dev/null so the final flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _on_sigterm(signum: int, frame: object) -> None:
    """Turn SIGTERM into :class:`Terminated` so the Ctrl-C ending runs (issue #7).

    A second SIGTERM while that ending runs kills at once, as users expect.
    """
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise Terminated()


def _install_sigterm_handler() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def _complete() -> None:
    """Answer the shell's completion request (Click's standard mechanism), then exit.

    Kept outside the error boundary's normal path but never noisy: a completion
    that fails completes nothing rather than printing a traceback into the prompt.
    """
    from click.shell_completion import shell_complete

    instruction = os.environ[COMPLETE_VAR]
    code: int
    try:
        code = shell_complete(cli, {}, "wscli", COMPLETE_VAR, instruction)
    except Exception:
        code = int(ExitStatus.CHECK_FAILED)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into SPEC's exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(COMPLETE_VAR):
        _complete()
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
    except KeyboardInterrupt as exc:
        code = interrupt_status(exc)
    except click.Abort:
        code = ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # `wscli tail | head -3`: the reader has all it wanted. Commands with a
        # verdict (validate) never let a closed stdout reach here (issue #6).
        _quiet_stdout()
        code = ExitStatus.OK
    except Exception as exc:
        if _wants_traceback(args):
            raise
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            code = _cannot_write(exc)  # a full disk is not a bug (issue #6)
            sys.exit(code)
        from wscli.errors import safe_line

        sys.stderr.write(
            safe_line(
                f"wscli: error: unexpected {type(exc).__name__}: {exc}"
                " (a bug in wscli: rerun with --traceback and report it)"
            )
            + "\n"
        )
        code = ExitStatus.CHECK_FAILED
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        _quiet_stdout()
    except OSError as exc:  # `wscli --help > /dev/full`
        code = _cannot_write(exc)
    sys.exit(code)


# A write the system refused for a reason the user fixes: one line, exit 2.
_WRITE_ERRNOS = frozenset(
    getattr(errno, name)
    for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EIO")
    if hasattr(errno, name)
)


def _cannot_write(exc: OSError) -> int:
    """Last net for writers not wrapped in :func:`wscli.output.files.write_failed`."""
    from wscli.output.files import write_failed

    _quiet_stdout()
    write_failed(str(exc.filename) if exc.filename else "stdout", exc).show()
    return ExitStatus.USAGE
