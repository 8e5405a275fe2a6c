"""More pins for ``wscli.options.connection``: the URL argument, ``_guess_given``, and more.

Every decorator and type is applied inside the test, not at import, so what it builds
is what the test inspects. Values are compared exactly: names, defaults, help text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import click
import pytest
from click.testing import CliRunner

from tests.unit.test_options_pins import base_values as values_with
from wscli.errors import BadUsage
from wscli.options.connection import (
    GIVEN,
    AliasedChoice,
    ByteSize,
    _guess_given,
    _profile_name,
    build_connection,
    connection_params,
    given_options,
    resolve_settings,
    time_options,
)
from wscli.options.state import AppState

UTC_HELP = "Show times in UTC (marked Z) instead of local time."
TIMESTAMPS_HELP = (
    "Times in pretty output and --stats: clock (HH:MM:SS.mmm) or iso (RFC 3339, dated)."
)


# -- the URL argument ---------------------------------------------------------------------


def url_command(seen: list[dict[str, Any]]) -> click.Command:
    @click.command()
    @connection_params()
    def show(conn_values: dict[str, Any]) -> None:
        seen.append(conn_values)

    return show


def test_url_argument_is_declared_exactly() -> None:
    """The positional is ``url``, optional, read from WSCLI_URL, shown as ``[URL]``."""
    command = url_command([])
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    assert len(arguments) == 1
    (url,) = arguments
    assert url.name == "url"
    assert url.opts == ["url"]
    assert url.required is False
    assert url.envvar == "WSCLI_URL"
    assert url.metavar == "[URL]"


def test_url_from_the_environment_is_recorded_as_such() -> None:
    """WSCLI_URL reaches ``conn_values`` and its source is named ``env WSCLI_URL``."""
    seen: list[dict[str, Any]] = []
    result = CliRunner().invoke(url_command(seen), [], env={"WSCLI_URL": "ws://env.example/e"})
    assert result.exit_code == 0, result.output
    (values,) = seen
    assert values["url"] == "ws://env.example/e"
    assert values[GIVEN] == {"url": "env WSCLI_URL"}


def test_url_on_the_command_line_is_recorded_as_such() -> None:
    """A typed URL wins over WSCLI_URL and is recorded as ``command line``."""
    seen: list[dict[str, Any]] = []
    result = CliRunner().invoke(
        url_command(seen), ["ws://arg.example/"], env={"WSCLI_URL": "ws://env.example/e"}
    )
    assert result.exit_code == 0, result.output
    assert seen[0]["url"] == "ws://arg.example/"
    assert seen[0][GIVEN] == {"url": "command line"}


# -- _guess_given ---------------------------------------------------------------------------


def test_guess_given_keeps_exactly_the_non_defaults() -> None:
    """Skipped keys first (a ``break`` would lose the rest); defaults and max_size never count."""
    values: dict[str, Any] = {
        GIVEN: {"anything": "x"},
        "verbose": True,
        "tap_file": "rec.jsonl",
        "no_redact": True,
        "max_size": 1024,
        "connect_timeout": 10.0,
        "url": None,
        "headers": (),
        "no_proxy": False,
        "ping_timeout": 20.0,
        "insecure": True,
        "token": "abc",
        "ping_interval": 5.0,
        "subprotocols": ("p1",),
        "extra": "not a ConnectOptions field",
    }
    assert _guess_given(values) == {
        "insecure": "command line",
        "token": "command line",
        "ping_interval": "command line",
        "subprotocols": "command line",
        "extra": "command line",
    }


def test_guess_given_nothing_for_defaults() -> None:
    """All defaults, whatever their order: nothing was given."""
    values: dict[str, Any] = {
        "connect_timeout": 10.0,
        "max_size": 16 * 1024 * 1024,
        "ping_interval": 20.0,
        "verbose": False,
        "tap_file": None,
    }
    assert _guess_given(values) == {}


def test_guess_given_max_size_first_does_not_stop_the_rest() -> None:
    """max_size is skipped, and the keys after it are still looked at."""
    assert _guess_given({"max_size": 1, "origin": "https://o.example"}) == {
        "origin": "command line"
    }


def test_guess_given_unknown_key_counts_as_given() -> None:
    """A key ConnectOptions lacks is never equal to a default: it was given."""
    assert _guess_given({"some_new_setting": 3}) == {"some_new_setting": "command line"}


# -- AliasedChoice --------------------------------------------------------------------------


def test_aliased_choice_resolves_aliases_and_hints() -> None:
    """Aliases map to their choice; a hinted near miss fails with the hint, exactly."""
    choice = AliasedChoice(
        ("jsonl", "pretty"), aliases={"json": "jsonl"}, hints={"xml": "use -o jsonl"}
    )
    assert tuple(choice.choices) == ("jsonl", "pretty")
    assert choice.aliases == {"json": "jsonl"}
    assert choice.hints == {"xml": "use -o jsonl"}
    assert choice.convert("json", None, None) == "jsonl"
    assert choice.convert("pretty", None, None) == "pretty"
    with pytest.raises(click.BadParameter) as hinted:
        choice.convert("xml", None, None)
    assert hinted.value.message == "'xml' is not a choice here: use -o jsonl"
    with pytest.raises(click.BadParameter) as missed:
        choice.convert("yaml", None, None)
    assert "'yaml' is not one of 'jsonl', 'pretty'" in missed.value.message


def test_aliased_choice_without_aliases_or_hints() -> None:
    """Neither given: empty dicts, and plain choices still convert."""
    choice = AliasedChoice(("a", "b"))
    assert choice.aliases == {}
    assert choice.hints == {}
    assert choice.convert("b", None, None) == "b"
    with pytest.raises(click.BadParameter):
        choice.convert("c", None, None)


# -- time_options ---------------------------------------------------------------------------


def times_command() -> click.Command:
    @click.command()
    @time_options
    def show(timestamps: str, utc: bool) -> None:
        click.echo(f"{timestamps} {utc}")

    return show


def test_time_options_are_declared_exactly() -> None:
    """``--utc`` is a flag, ``--timestamps`` a clock/iso choice defaulting to clock, shown."""
    command = times_command()
    assert [p.name for p in command.params] == ["utc", "timestamps"]
    utc, timestamps = command.params
    assert isinstance(utc, click.Option) and isinstance(timestamps, click.Option)
    assert utc.opts == ["--utc"]
    assert utc.is_flag is True
    assert utc.help == UTC_HELP
    assert timestamps.opts == ["--timestamps"]
    assert timestamps.is_flag is False
    assert isinstance(timestamps.type, click.Choice)
    assert tuple(timestamps.type.choices) == ("clock", "iso")
    assert timestamps.default == "clock"
    assert timestamps.show_default is True
    assert timestamps.help == TIMESTAMPS_HELP


def test_time_options_behave() -> None:
    """Defaults are clock, local; both flags reach the command; help shows the default."""
    runner = CliRunner()
    plain = runner.invoke(times_command(), [])
    assert (plain.exit_code, plain.output) == (0, "clock False\n")
    both = runner.invoke(times_command(), ["--utc", "--timestamps", "iso"])
    assert (both.exit_code, both.output) == (0, "iso True\n")
    bad = runner.invoke(times_command(), ["--timestamps", "ISO"])
    assert bad.exit_code == 2
    shown = runner.invoke(times_command(), ["--help"], terminal_width=200)
    assert shown.exit_code == 0
    assert shown.output.splitlines()[3:5] == [
        f"  --utc                     {UTC_HELP}",
        f"  --timestamps [clock|iso]  {TIMESTAMPS_HELP}  [default: clock]",
    ]


T = TypeVar("T")


def outside_click(function: Callable[[], T]) -> T:
    """Call ``function`` where no Click context exists, whoever runs the tests.

    Click keeps its context stack per thread; a test runner that is itself a Click
    command (mutmut) has one pushed on the main thread.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result()


# -- profiles: _profile_name, resolve_settings, build_connection ------------------------------


def test_profile_name_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside any command: WSCLI_PROFILE, and an empty one means none."""
    monkeypatch.setenv("WSCLI_PROFILE", "staging")
    assert outside_click(_profile_name) == "staging"
    monkeypatch.setenv("WSCLI_PROFILE", "")
    assert outside_click(_profile_name) is None
    monkeypatch.delenv("WSCLI_PROFILE")
    assert outside_click(_profile_name) is None


def test_profile_name_from_the_command_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside a command, ``--profile`` (kept in AppState) beats WSCLI_PROFILE."""
    monkeypatch.setenv("WSCLI_PROFILE", "from-env")
    with click.Context(click.Command("x"), obj=AppState(profile="from-flag")):
        assert _profile_name() == "from-flag"
    with click.Context(click.Command("x"), obj=AppState()):
        assert _profile_name() is None
    with click.Context(click.Command("x")):
        assert _profile_name() == "from-env"


@pytest.fixture
def profile_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config with profile ``p`` (URL, origin, token from $P_TOKEN), chosen by WSCLI_PROFILE."""
    path = tmp_path / "config.toml"
    path.write_text(
        "[profiles.p]\n"
        'url = "ws://profile.example/"\n'
        'origin = "https://prof.example"\n'
        'token_env = "P_TOKEN"\n'
        "[profiles.lacking]\n"
        'url = "ws://lacking.example/"\n'
        'token_env = "NOPE_TOKEN_FOR_WSCLI_TESTS"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("WSCLI_CONFIG", str(path))
    monkeypatch.setenv("WSCLI_PROFILE", "p")
    monkeypatch.setenv("P_TOKEN", "tok-from-env")
    monkeypatch.delenv("NOPE_TOKEN_FOR_WSCLI_TESTS", raising=False)
    monkeypatch.delenv("WSCLI_URL", raising=False)
    return path


def test_resolve_settings_uses_the_recorded_sources(profile_file: Path) -> None:
    """A recorded source is kept as recorded; the profile fills what was not given."""
    label = f"profile p ({profile_file})"
    values = values_with(origin="https://flag.example", **{GIVEN: {"origin": "env X_ORIGIN"}})
    merged, origins, profile = resolve_settings(values)
    assert profile is not None and profile.name == "p"
    assert merged["url"] == "ws://profile.example/"
    assert merged["origin"] == "https://flag.example"
    assert merged["token"] == "tok-from-env"
    assert GIVEN not in merged
    assert origins["url"] == label
    assert origins["origin"] == "env X_ORIGIN"
    assert origins["token"] == f"env P_TOKEN ({label})"
    assert origins["max_size"] == "default"


def test_resolve_settings_counts_a_url_as_given(profile_file: Path) -> None:
    """A URL in the values that no source names was typed: it beats the profile's."""
    merged, origins, _ = resolve_settings(values_with(url="ws://arg.example/", **{GIVEN: {}}))
    assert merged["url"] == "ws://arg.example/"
    assert origins["url"] == "command line"
    assert origins["origin"] == f"profile p ({profile_file})"


def test_resolve_settings_guesses_sources_when_none_are_recorded(profile_file: Path) -> None:
    """Values built by hand: non-defaults count as typed."""
    merged, origins, _ = resolve_settings(values_with(origin="https://flag.example"))
    assert merged["origin"] == "https://flag.example"
    assert origins["origin"] == "command line"
    assert merged["url"] == "ws://profile.example/"


def test_build_connection_names_an_unset_token_variable(
    profile_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile's token variable unset: a usage error naming profile and variable."""
    monkeypatch.setenv("WSCLI_PROFILE", "lacking")
    with pytest.raises(BadUsage) as caught:
        build_connection(values_with())
    assert caught.value.message == (
        "profile lacking takes the token from $NOPE_TOKEN_FOR_WSCLI_TESTS, which is not set"
    )
    assert caught.value.hint == "export NOPE_TOKEN_FOR_WSCLI_TESTS=..., or pass --token"
    options, tap = build_connection(values_with(token="typed"))
    tap.close()
    assert options.token == "typed"
    assert options.url == "ws://lacking.example/"


def test_build_connection_uses_the_profile(profile_file: Path) -> None:
    """The profile's URL, origin and token reach the options."""
    options, tap = build_connection(values_with())
    tap.close()
    assert (options.url, options.origin, options.token) == (
        "ws://profile.example/",
        "https://prof.example",
        "tok-from-env",
    )


def test_bad_url_message_hides_the_token_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rejected URL is quoted with the token redacted, and nothing else."""
    monkeypatch.delenv("WSCLI_PROFILE", raising=False)
    monkeypatch.setenv("WSCLI_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent-wscli-test")
    with pytest.raises(BadUsage) as caught:
        build_connection(values_with(url="http://h.example/?t=tok-secret-9", token="tok-secret-9"))
    assert caught.value.message == (
        "invalid URL 'http://h.example/?t=[redacted]': http:// is not a WebSocket URL"
    )
    with pytest.raises(BadUsage) as plain:
        build_connection(values_with(url="http://h.example/XXXX"))
    assert (
        plain.value.message == "invalid URL 'http://h.example/XXXX': http:// is not a WebSocket URL"
    )


def test_resolve_settings_keeps_a_recorded_url_source(profile_file: Path) -> None:
    """A URL whose source is recorded (WSCLI_URL) keeps that source, not "command line"."""
    values = values_with(url="ws://env.example/", **{GIVEN: {"url": "env WSCLI_URL"}})
    merged, origins, _ = resolve_settings(values)
    assert merged["url"] == "ws://env.example/"
    assert origins["url"] == "env WSCLI_URL"


# -- ByteSize, given_options, AliasedChoice, the profile name and the tap's URL ---------------


@pytest.fixture
def no_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file and no profile: build_connection uses only the given values."""
    monkeypatch.delenv("WSCLI_PROFILE", raising=False)
    monkeypatch.delenv("WSCLI_URL", raising=False)
    monkeypatch.setenv("WSCLI_CONFIG", "")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-xdg"))


# -- ByteSize ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("65536", 65536),
        ("1", 1),
        ("64K", 65536),
        ("64k", 65536),
        (" 3 kb ", 3072),
        ("0.5k", 512),
        ("16MiB", 16 * 1024 * 1024),
        ("1.5m", 1572864),
        ("2G", 2 * 1024**3),
        ("1gib", 1024**3),
        ("10B", 10),
    ],
)
def test_byte_size_converts_curl_style_sizes(text: str, size: int) -> None:
    """Each unit multiplies by its power of 1024; case and a trailing (i)b do not matter."""
    assert ByteSize().convert(text, None, None) == size


def test_byte_size_passes_integers_through() -> None:
    """An int (a default already converted) is returned as it is."""
    assert ByteSize().convert(12345, None, None) == 12345


def size_command() -> click.Command:
    @click.command()
    @click.option("--max-size", type=ByteSize(), default="16M")
    def show(max_size: int) -> None:
        click.echo(str(max_size))

    return show


def test_byte_size_error_names_the_option_and_shows_usage() -> None:
    """A bad size: Click's usage lines, then the option's name and the exact sentence."""
    result = CliRunner().invoke(size_command(), ["--max-size", "lots"])
    assert result.exit_code == 2
    assert result.output == (
        "Usage: show [OPTIONS]\n"
        "Try 'show --help' for help.\n"
        "\n"
        "Error: Invalid value for '--max-size': 'lots' is not a size like 65536, 64K or 16M\n"
    )
    ok = CliRunner().invoke(size_command(), ["--max-size", "2k"])
    assert (ok.exit_code, ok.output) == (0, "2048\n")
    default = CliRunner().invoke(size_command(), [])
    assert (default.exit_code, default.output) == (0, f"{16 * 1024 * 1024}\n")


def test_byte_size_error_alone() -> None:
    """Called directly, the failure is a BadParameter with exactly that message."""
    with pytest.raises(click.BadParameter) as caught:
        ByteSize().convert("12 bytes", None, None)
    assert caught.value.message == "'12 bytes' is not a size like 65536, 64K or 16M"


# -- given_options ----------------------------------------------------------------------------


def given_command(keys: tuple[str, ...]) -> click.Command:
    @click.command()
    @click.option("--other", envvar="OTHER_FOR_WSCLI_TESTS")
    @click.option("--token", envvar="TOKEN_FOR_WSCLI_TESTS")
    @click.option("--origin", envvar=["ORIGIN_A_FOR_WSCLI_TESTS", "ORIGIN_B_FOR_WSCLI_TESTS"])
    @click.option("--proxy")
    @click.argument("url", required=False)
    def show(**_values: Any) -> None:
        click.echo(json.dumps(given_options(keys), sort_keys=True))

    return show


def test_given_options_outside_a_command() -> None:
    """No Click context: nothing was given."""
    assert outside_click(lambda: given_options(("url", "token"))) == {}


def test_given_options_names_each_source() -> None:
    """Typed options say ``command line``, env ones name their variable; others are skipped."""
    result = CliRunner().invoke(
        given_command(("token", "origin", "proxy", "url")),
        ["--proxy", "http://p.example", "--other", "x", "ws://h.example/"],
        env={"TOKEN_FOR_WSCLI_TESTS": "tok", "OTHER_FOR_WSCLI_TESTS": "o"},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "proxy": "command line",
        "token": "env TOKEN_FOR_WSCLI_TESTS",
        "url": "command line",
    }


def test_given_options_env_from_a_list_of_variables() -> None:
    """An option read from one of several variables is shown as ``env ?``."""
    result = CliRunner().invoke(
        given_command(("origin",)), [], env={"ORIGIN_B_FOR_WSCLI_TESTS": "https://o.example"}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"origin": "env ?"}


def test_given_options_nothing_given() -> None:
    """Defaults only: an empty dict, even for keys the command has."""
    result = CliRunner().invoke(given_command(("token", "url")), [])
    assert (result.exit_code, json.loads(result.output)) == (0, {})


# -- AliasedChoice ----------------------------------------------------------------------------


def choice_command() -> click.Command:
    @click.command()
    @click.option(
        "-o",
        "--output",
        type=AliasedChoice(
            ("jsonl", "pretty"), aliases={"json": "jsonl"}, hints={"xml": "use -o jsonl"}
        ),
        default="pretty",
    )
    def show(output: str) -> None:
        click.echo(output)

    return show


USAGE = "Usage: show [OPTIONS]\nTry 'show --help' for help.\n\n"


def test_aliased_choice_hint_names_the_option() -> None:
    """A hinted near miss: usage lines, the option's name, and the hint."""
    result = CliRunner().invoke(choice_command(), ["-o", "xml"])
    assert result.exit_code == 2
    assert result.output == (
        USAGE + "Error: Invalid value for '-o' / '--output': 'xml' is not a choice here:"
        " use -o jsonl\n"
    )


def test_aliased_choice_plain_miss_names_the_option() -> None:
    """Any other miss is Click's own choice error, still about the option, with usage."""
    result = CliRunner().invoke(choice_command(), ["-o", "yaml"])
    assert result.exit_code == 2
    assert result.output == (
        USAGE + "Error: Invalid value for '-o' / '--output': 'yaml' is not one of"
        " 'jsonl', 'pretty'.\n"
    )


def test_aliased_choice_converts() -> None:
    """Aliases map to their choice; real choices pass; non-strings go to Click."""
    runner = CliRunner()
    alias = runner.invoke(choice_command(), ["-o", "json"])
    assert (alias.exit_code, alias.output) == (0, "jsonl\n")
    plain = runner.invoke(choice_command(), ["--output", "jsonl"])
    assert (plain.exit_code, plain.output) == (0, "jsonl\n")
    default = runner.invoke(choice_command(), [])
    assert (default.exit_code, default.output) == (0, "pretty\n")
    choice = AliasedChoice(("a", "b"), aliases={"x": "a"})
    assert choice.convert("b", None, None) == "b"
    assert choice.convert("x", None, None) == "a"


# -- _profile_name, build_connection ------------------------------------------------------------


def test_profile_name_outside_a_command_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no Click context (a library caller), no error: WSCLI_PROFILE decides."""
    monkeypatch.setenv("WSCLI_PROFILE", "ci")
    assert outside_click(_profile_name) == "ci"


def test_tap_recording_header_holds_the_redacted_url(tmp_path: Path, no_profile: None) -> None:
    """The tap is given the URL: the recording's header names it, with the token hidden."""
    record = tmp_path / "rec.jsonl"
    options, tap = build_connection(
        values_with(
            url="ws://h.example/feed?t=sek-ret-77", token="sek-ret-77", tap_file=str(record)
        )
    )
    tap.close()
    assert options.url == "ws://h.example/feed?t=sek-ret-77"
    header = json.loads(record.read_text(encoding="utf-8").splitlines()[0])
    assert header["url"] == "ws://h.example/feed?t=[redacted]"


# -- errors carry their parameter and context ----------------------------------------------------


def option_and_context() -> tuple[click.Option, click.Context]:
    return click.Option(["--max-size"]), click.Context(click.Command("show"))


def test_byte_size_error_carries_param_and_context() -> None:
    """Called directly (no Click parser to fill them in), the error keeps param and ctx."""
    param, ctx = option_and_context()
    with pytest.raises(click.BadParameter) as caught:
        ByteSize().convert("lots", param, ctx)
    assert caught.value.param is param
    assert caught.value.ctx is ctx
    assert caught.value.format_message() == (
        "Invalid value for '--max-size': 'lots' is not a size like 65536, 64K or 16M"
    )


def test_aliased_choice_errors_carry_param_and_context() -> None:
    """Both the hinted and the plain miss keep the param and ctx they were given."""
    param, ctx = option_and_context()
    choice = AliasedChoice(("jsonl",), hints={"xml": "use -o jsonl"})
    with pytest.raises(click.BadParameter) as hinted:
        choice.convert("xml", param, ctx)
    assert (hinted.value.param, hinted.value.ctx) == (param, ctx)
    with pytest.raises(click.BadParameter) as missed:
        choice.convert("yaml", param, ctx)
    assert (missed.value.param, missed.value.ctx) == (param, ctx)
    assert missed.value.format_message() == (
        "Invalid value for '--max-size': 'yaml' is not 'jsonl'."
    )


def test_aliased_choice_honours_the_context_normaliser() -> None:
    """The context's token_normalize_func reaches Click's choice matching (``PRETTY``)."""

    @click.command(context_settings={"token_normalize_func": str.lower})
    @click.option("-o", "--output", type=AliasedChoice(("jsonl", "pretty")), default="jsonl")
    def show(output: str) -> None:
        click.echo(output)

    result = CliRunner().invoke(show, ["-o", "PRETTY"])
    assert (result.exit_code, result.output) == (0, "pretty\n")
