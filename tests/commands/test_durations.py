"""Every duration option, one converter: finite, not negative, with units (issue #17).

``--connect-timeout inf`` failed a healthy server ("timestamp out of range"),
``nan`` became "invalid URL", ``connect --wait nan`` never ended. Now each
duration of each command (and of a profile) goes through
:class:`wscli.durations.Duration`, which also reads ``500ms``, ``30s``, ``5m``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import pytest

from tests.support.cli import clean_env, run_cli, run_wscli
from tests.unit.test_help_and_naming import all_commands
from wscli.durations import Duration, FiniteFloatRange, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30", 30.0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("500ms", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("2.5S", 2.5),
        (" 250 ms ", 0.25),
        ("1e3", 1000.0),
        (7, 7.0),
        (0.25, 0.25),
    ],
)
def test_durations_with_and_without_units(text: Any, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_a_plain_number_is_in_the_options_own_unit() -> None:
    """``--max-latency 250`` stays milliseconds; ``--max-latency 1.5s`` is 1500 of them."""
    assert parse_duration("250", unit="ms") == 250.0
    assert parse_duration("1.5s", unit="ms") == pytest.approx(1500.0)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("nan", "not a finite duration"),
        ("NaN", "not a finite duration"),
        ("inf", "not a finite duration"),
        ("-inf", "not a finite duration"),
        ("Infinity", "not a finite duration"),
        (math.nan, "not a finite duration"),
        (math.inf, "not a finite duration"),
        ("1e999", "not a finite duration"),
        ("1e300", "too long"),
        ("-1", "negative"),
        ("-0.5s", "negative"),
        ("5x", "unknown unit"),
        ("5 minutes", "unknown unit"),
        ("abc", "not a duration"),
        ("", "not a duration"),
        (True, "not a duration"),
    ],
)
def test_what_is_not_a_duration(text: Any, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_duration(text)


def test_zero_is_refused_only_where_a_duration_must_be_positive() -> None:
    assert parse_duration("0") == 0.0
    with pytest.raises(ValueError, match="more than 0"):
        parse_duration("0ms", positive=True)


def _float_params() -> list[tuple[str, click.Parameter]]:
    found = []
    for label, command in all_commands():
        for param in command.params:
            if isinstance(param.type, (click.FloatRange, Duration)) or param.type is click.FLOAT:
                found.append((f"{label} {param.opts[-1]}", param))
    return found


def test_every_float_option_refuses_nan_and_infinity() -> None:
    """No option is a bare FloatRange/FLOAT any more: durations are Durations, the rest finite."""
    params = _float_params()
    assert len(params) > 20
    for name, param in params:
        assert isinstance(param.type, (Duration, FiniteFloatRange)), name
        if param.metavar in ("SECONDS", "MS"):
            assert isinstance(param.type, Duration), name
            assert param.type.unit == ("ms" if param.metavar == "MS" else "s"), name


def _duration_options() -> list[tuple[str, str]]:
    out = []
    for label, param in _float_params():
        if isinstance(param.type, Duration):
            command = label.split()[1] if label.count(" ") == 2 else ""
            out.append((command, param.opts[-1]))
    return out


@pytest.mark.parametrize(("command", "option"), _duration_options())
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_every_duration_option_of_every_command_refuses(
    command: str, option: str, value: str
) -> None:
    """Exit 2 before anything connects or listens, naming the option."""
    args = [command, option, value]
    if command in ("tail", "probe", "connect", "load"):
        args.append("ws://127.0.0.1:9/never")
    result = run_cli(*args, expect=2)
    assert option in result.stderr
    assert "finite" in result.stderr or "negative" in result.stderr


@pytest.mark.slow
def test_units_work_end_to_end_against_a_real_server(serve: Any) -> None:
    """``--connect-timeout 500ms``, ``--duration 1s`` and ``--ping-interval 1m`` on tail."""
    server = serve(rate=50)
    result = run_wscli(
        "tail", server.url, "-n", "3", "--connect-timeout", "500ms",
        "--duration", "5s", "--ping-interval", "1m",
    )  # fmt: skip
    assert len(result.json_lines) == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["probe", "{url}", "--timeout", "inf"], "--timeout"),
        (["tail", "{url}", "-n", "1", "--connect-timeout", "inf"], "--connect-timeout"),
        (["tail", "{url}", "-n", "1", "--connect-timeout", "nan"], "--connect-timeout"),
        (["connect", "{url}", "--wait", "nan"], "--wait"),
    ],
)
def test_the_reported_cases_exit_2(serve: Any, args: list[str], option: str) -> None:
    """The issue's cases, against a healthy server: exit 2 at once, naming the option."""
    server = serve()
    argv = [arg.replace("{url}", server.url) for arg in args]
    result = run_wscli(*argv, expect=2, timeout=15, input="")
    assert option in result.stderr and "invalid URL" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("setting", "expect"),
    [
        ("connect_timeout = inf", 2),
        ("connect_timeout = nan", 2),
        ("ping_timeout = -1", 2),
        ("connect_timeout = 0", 2),
        ('connect_timeout = "2s"\nping_interval = "500ms"', 0),
    ],
)
def test_profile_durations_use_the_same_converter(
    serve: Any, tmp_path: Path, setting: str, expect: int
) -> None:
    server = serve()
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.p]\nurl = "{server.url}"\n{setting}\n')
    config.chmod(0o600)
    result = run_wscli(
        "--profile", "p", "tail", "-n", "1", env=clean_env(WSCLI_CONFIG=str(config)), expect=expect
    )
    if expect == 2:
        assert f"{config}, line 3" in result.stderr
