"""Click options shared by every command that connects, defined once.

Grouped like websockets' ``connect()``: HTTP, TLS, proxy, timeouts, debug.
The decorator folds them into one :class:`~wscli.net.connection.ConnectOptions`
and a :class:`~wscli.net.tap.Tap`, so commands receive two values, not twenty.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from wscli.durations import POSITIVE_SECONDS, SECONDS
from wscli.errors import BadUsage, warn
from wscli.net.tap import Tap, environment_secrets
from wscli.net.target import DEFAULT_URL, ConnectOptions, check_url
from wscli.options.help import grouped
from wscli.redact import Redactor, remember_secrets

F = TypeVar("F", bound=Callable[..., Any])

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b?)\s*$", re.IGNORECASE)


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    """``65536``, ``64K``, ``16MiB``, ``1M``: sizes the way curl users write them."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value))
        if not match:
            self.fail(f"{value!r} is not a size like 65536, 64K or 16M", param, ctx)
        number, unit = float(match.group(1)), match.group(2).lower()
        return int(number * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])


def _url_argument(function: F) -> F:
    return click.argument("url", required=False, envvar="WSCLI_URL", metavar="[URL]")(function)


_CONNECTION_PARAMS = (
    # HTTP
    *grouped(
        "Connection",
        click.option(
            "-H",
            "--header",
            "headers",
            multiple=True,
            metavar="'NAME: VALUE'",
            help="Extra upgrade request header (repeatable).",
        ),
        click.option("--origin", help="Origin header (sent only when given, like wscat/websocat)."),
        click.option(
            "--subprotocol", "subprotocols", multiple=True, help="Offer a subprotocol (repeatable)."
        ),
        click.option(
            "--token",
            envvar="WSCLI_TOKEN",
            help="Bearer token, sent as 'Authorization: Bearer' [env: WSCLI_TOKEN].",
        ),
    ),
    # TLS
    *grouped(
        "TLS",
        click.option(
            "-k", "--insecure", is_flag=True, help="Do not verify the server certificate (wss://)."
        ),
        click.option(
            "--cacert", type=click.Path(dir_okay=False), help="Trust this CA bundle (PEM)."
        ),
        click.option("--cert", type=click.Path(dir_okay=False), help="Client certificate (PEM)."),
        click.option(
            "--key", type=click.Path(dir_okay=False), help="Client certificate's key (PEM)."
        ),
    ),
    # Proxy
    *grouped(
        "Proxy",
        click.option("--proxy", metavar="URL", help="http:// or socks5:// proxy (default: env)."),
        click.option("--no-proxy", is_flag=True, help="Ignore proxy environment variables."),
    ),
    # Timeouts and limits
    *grouped(
        "Connection",
        click.option(
            "--connect-timeout",
            type=POSITIVE_SECONDS,
            default=10.0,
            show_default=True,
            metavar="SECONDS",
            help="Give up on TCP, TLS and the upgrade after this long.",
        ),
        click.option(
            "--max-size",
            type=ByteSize(),
            default="16M",
            show_default=True,
            help="Largest frame accepted; a bigger one ends with exit 8.",
        ),
        click.option(
            "--ping-interval",
            type=SECONDS,
            default=20.0,
            show_default=True,
            metavar="SECONDS",
            help="Heartbeat ping period (0 disables).",
        ),
        click.option(
            "--ping-timeout",
            type=POSITIVE_SECONDS,
            default=20.0,
            show_default=True,
            metavar="SECONDS",
            help="Declare the peer dead when nothing arrives this long after a ping.",
        ),
    ),
    # Debug tap
    *grouped(
        "Connection",
        click.option(
            "-v", "--verbose", is_flag=True, help="Print the handshake and every frame to stderr."
        ),
        click.option(
            "--tap",
            "tap_file",
            type=click.Path(dir_okay=False, writable=True),
            help="Write the handshake and every frame, whole, to a recording file.",
        ),
        click.option(
            "--no-redact", is_flag=True, help="Keep tokens, cookies and credentials in tap output."
        ),
    ),
)

# The connection settings a profile can hold and `wscli config` shows, in that order.
SETTING_KEYS = (
    "url",
    "headers",
    "origin",
    "subprotocols",
    "token",
    "insecure",
    "cacert",
    "cert",
    "key",
    "proxy",
    "no_proxy",
    "connect_timeout",
    "max_size",
    "ping_interval",
    "ping_timeout",
)
# Plus the debug-tap switches, which are per run, not settings.
_CONNECTION_KEYS = (*SETTING_KEYS, "verbose", "tap_file", "no_redact")


GIVEN = "_given"  # the key under which connection_params records what the user set


def given_options(keys: tuple[str, ...]) -> dict[str, str]:
    """Which of ``keys`` the user set in the current command, and where (flag or env var)."""
    from click.core import ParameterSource

    from wscli.profiles import COMMAND_LINE  # lazily: --help reads no config

    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return {}
    given: dict[str, str] = {}
    for param in ctx.command.params:
        if param.name not in keys:
            continue
        source = ctx.get_parameter_source(param.name)
        if source is ParameterSource.COMMANDLINE:
            given[param.name] = COMMAND_LINE
        elif source is ParameterSource.ENVIRONMENT:
            envvar = param.envvar if isinstance(param.envvar, str) else "?"
            given[param.name] = f"env {envvar}"
    return given


def _guess_given(values: dict[str, Any]) -> dict[str, str]:
    """For callers that built ``values`` themselves: anything not a default was given."""
    from wscli.profiles import COMMAND_LINE  # lazily: --help reads no config

    defaults = ConnectOptions()
    given = {}
    for key, value in values.items():
        if key in (GIVEN, "verbose", "tap_file", "no_redact") or value in (None, (), False):
            continue
        if key == "max_size" or value == getattr(defaults, key, object()):
            continue
        given[key] = COMMAND_LINE
    return given


def _profile_name() -> str | None:
    """``--profile`` (before or after the command name), else ``WSCLI_PROFILE``."""
    from wscli.profiles import PROFILE_ENV  # lazily: --help reads no config

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        from wscli.options.state import AppState

        state = ctx.find_object(AppState)
        if state is not None:
            return state.profile
    return os.environ.get(PROFILE_ENV) or None


def resolve_settings(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str], Any]:
    """Flags and their env vars, over the profile, over the defaults (issue #10).

    Returns:
        The merged values, where each came from, and the profile used (or None).
    """
    from wscli.profiles import (
        COMMAND_LINE,  # lazily: --help reads no config
        load_profile,
        merge,
    )

    given = values.get(GIVEN)
    if given is None:
        given = _guess_given(values)
    if values.get("url") is not None and "url" not in given:
        given = {**given, "url": COMMAND_LINE}
    profile = load_profile(_profile_name())
    plain = {key: value for key, value in values.items() if key != GIVEN}
    merged, origins = merge(plain, given, profile)
    return merged, origins, profile


_HEADER_SETTINGS = (
    ("token", "--token"),
    ("origin", "--origin"),
    ("subprotocols", "--subprotocol"),
    ("headers", "-H"),
)


def check_header_settings(values: dict[str, Any], origins: dict[str, str]) -> None:
    """Refuse a setting that would not go on the wire as the one header it looks like.

    A CR/LF in ``--token`` (or ``-H``, ``--origin``, ``--subprotocol``, a profile's
    token variable) would add header lines of the user's own making: exit 2 instead.

    Raises:
        BadUsage: naming the setting and where it came from (flag, env var, profile).
    """
    from wscli.headers import hint, raw_header_problem, value_problem

    for key, label in _HEADER_SETTINGS:
        value = values.get(key)
        if not value:
            continue
        items = (value,) if isinstance(value, str) else tuple(value)
        for item in items:
            problem = raw_header_problem(item) if key == "headers" else value_problem(item)
            if problem is not None:
                where = origins.get(key, "command line")
                raise BadUsage(f"bad header: {label} {problem}", where=where, hint=hint(problem))


def build_connection(values: dict[str, Any]) -> tuple[ConnectOptions, Tap]:
    """Fold the raw option values, over the profile if any, into connection options and a tap.

    Raises:
        BadUsage: a bad config file or profile, a profile's token variable unset, a bad URL.
    """
    from wscli.profiles import missing_token

    values, origins, profile = resolve_settings(values)
    check_header_settings(values, origins)
    token_env = missing_token(profile, values)
    if token_env is not None:
        raise BadUsage(
            f"profile {profile.name} takes the token from ${token_env}, which is not set",
            hint=f"export {token_env}=..., or pass --token",
        )
    token = values["token"]
    url = check_url(values["url"] or DEFAULT_URL, secrets=[token or ""])
    options = ConnectOptions(
        url=url,
        headers=tuple(values["headers"]),
        origin=values["origin"],
        subprotocols=tuple(values["subprotocols"]),
        token=token,
        insecure=values["insecure"],
        cacert=values["cacert"],
        cert=values["cert"],
        key=values["key"],
        proxy=values["proxy"],
        no_proxy=values["no_proxy"],
        connect_timeout=values["connect_timeout"],
        max_size=values["max_size"] or None,
        ping_interval=values["ping_interval"] or None,
        ping_timeout=values["ping_timeout"],
    )
    if options.token and options.has_authorization_header():
        warn(
            f"both an Authorization header ({origins.get('headers', 'command line')}) and"
            f" a token ({origins.get('token', 'command line')}): sending the header, not the token"
        )
    secrets = [*options.secrets(), *environment_secrets()]
    remember_secrets(secrets)
    redactor = Redactor(secrets, enabled=not values["no_redact"])
    tap = Tap(verbose=values["verbose"], tap_file=values["tap_file"], url=url, redactor=redactor)
    return options, tap


def connection_options(function: F) -> F:
    """Add the URL argument and every connection option; pass ``conn`` and ``tap``."""

    @functools.wraps(function)
    def wrapper(*args: Any, conn_values: dict[str, Any], **kwargs: Any) -> Any:
        options, tap = build_connection(conn_values)
        try:
            return function(*args, conn=options, tap=tap, **kwargs)
        finally:
            tap.close()

    return connection_params()(wrapper)  # type: ignore[return-value]


# -- connection options without the URL argument --------------------------------------------


def connection_params(*, without_url: bool = False) -> Callable[[F], F]:
    """Add every connection option, but leave folding them to the command.

    For commands whose positional arguments are not a single URL (``validate`` takes
    SOURCES, some of which may be URLs): the command receives the raw values as one
    ``conn_values`` dict and calls :func:`build_connection` once it knows which URL to
    open, so no tap file is created when nothing connects. With ``without_url=True`` no
    URL argument is added and ``conn_values["url"]`` is ``None``.
    """
    keys = tuple(key for key in _CONNECTION_KEYS if not (without_url and key == "url"))

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values: dict[str, Any] = {key: kwargs.pop(key) for key in keys}
            values[GIVEN] = given_options(keys)
            values.setdefault("url", None)
            return function(*args, conn_values=values, **kwargs)

        decorated: Any = wrapper
        for param in reversed(_CONNECTION_PARAMS):
            decorated = param(decorated)
        return decorated if without_url else _url_argument(decorated)  # type: ignore[no-any-return]

    return decorate


# -- output options shared by the commands that print a stream ----------------------------------


class AliasedChoice(click.Choice):  # type: ignore[type-arg]
    """A choice that also takes aliases (``json`` for ``jsonl``) and explains near misses.

    Output mode names differ between commands for a reason (``validate -o json`` is one
    document, ``tail -o jsonl`` is one line per message), so a near miss gets a hint
    instead of a bare "invalid choice".
    """

    def __init__(
        self,
        choices: tuple[str, ...],
        *,
        aliases: dict[str, str] | None = None,
        hints: dict[str, str] | None = None,
    ) -> None:
        super().__init__(choices)
        self.aliases = aliases or {}
        self.hints = hints or {}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            if value in self.aliases:
                return self.aliases[value]
            if value in self.hints:
                self.fail(f"{value!r} is not a choice here: {self.hints[value]}", param, ctx)
        return super().convert(value, param, ctx)


def time_options(function: F) -> F:
    """``--utc`` and ``--timestamps``: how pretty lines and the ``--stats`` summary show times."""
    function = click.option(
        "--timestamps",
        type=click.Choice(["clock", "iso"]),
        default="clock",
        show_default=True,
        help="Times in pretty output and --stats: clock (HH:MM:SS.mmm) or iso (RFC 3339, dated).",
    )(function)
    return click.option(
        "--utc", is_flag=True, help="Show times in UTC (marked Z) instead of local time."
    )(function)
