"""The shared connection options, folded into ConnectOptions field by field.

A fresh command decorated in the test (so the decorators run under test, not only
at import) receives exactly what the user typed, and the documented defaults.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click
import pytest
from click.testing import CliRunner

from wscli.net.tap import REDACTED, Tap
from wscli.net.target import DEFAULT_URL, ConnectOptions
from wscli.options.connection import build_connection, connection_options, connection_params


def options_command() -> click.Command:
    @click.command()
    @connection_options
    def show(conn: ConnectOptions, tap: Tap) -> None:
        fields = dataclasses.asdict(conn)
        fields["tap_verbose"] = tap.stderr_sink is not None
        click.echo(json.dumps(fields))

    return show


def fields(*args: str, env: dict[str, str] | None = None, expect: int = 0) -> dict[str, Any]:
    result = CliRunner().invoke(options_command(), list(args), env=env or {"WSCLI_URL": ""})
    assert result.exit_code == expect, (result.output, result.exception)
    parsed: dict[str, Any] = json.loads(result.output) if expect == 0 else {}
    return parsed


def test_defaults() -> None:
    got = fields()
    assert got == {
        **json.loads(json.dumps(dataclasses.asdict(ConnectOptions()))),
        "url": DEFAULT_URL,
        "tap_verbose": False,
    }
    assert got["max_size"] == 16 * 1024 * 1024
    assert got["connect_timeout"] == 10.0
    assert got["ping_interval"] == 20.0 and got["ping_timeout"] == 20.0


def test_every_option_reaches_its_field(tmp_path: Any) -> None:
    cacert, cert, key = (tmp_path / n for n in ("ca.pem", "c.pem", "k.pem"))
    got = fields(
        "ws://h.example:81/x",
        "-H", "A: b", "--header", "C: d",
        "--origin", "https://o.example",
        "--subprotocol", "p1", "--subprotocol", "p2",
        "--token", "tok-123",
        "-k", "--cacert", str(cacert), "--cert", str(cert), "--key", str(key),
        "--proxy", "http://p.example:3128", "--no-proxy",
        "--connect-timeout", "3.5", "--max-size", "2K",
        "--ping-interval", "4", "--ping-timeout", "6", "-v",
    )  # fmt: skip
    assert got == {
        "url": "ws://h.example:81/x",
        "headers": ["A: b", "C: d"],
        "origin": "https://o.example",
        "subprotocols": ["p1", "p2"],
        "token": "tok-123",
        "insecure": True,
        "cacert": str(cacert),
        "cert": str(cert),
        "key": str(key),
        "proxy": "http://p.example:3128",
        "no_proxy": True,
        "connect_timeout": 3.5,
        "max_size": 2048,
        "ping_interval": 4.0,
        "ping_timeout": 6.0,
        "tap_verbose": True,
    }


def test_zero_means_off_for_ping_interval_and_max_size() -> None:
    got = fields("--ping-interval", "0", "--max-size", "0")
    assert got["ping_interval"] is None and got["max_size"] is None


def test_url_comes_from_the_environment() -> None:
    assert fields(env={"WSCLI_URL": "ws://env.example/s"})["url"] == "ws://env.example/s"
    given = fields("ws://arg.example/", env={"WSCLI_URL": "ws://env.example/s"})
    assert given["url"] == "ws://arg.example/"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--connect-timeout", "0"], "--connect-timeout"),
        (["--ping-timeout", "0"], "--ping-timeout"),
        (["--ping-interval", "-1"], "--ping-interval"),
        (["--max-size", "big"], "is not a size"),
        (["ws://a/", "ws://b/"], "unexpected extra argument"),
    ],
)
def test_bad_values_are_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(options_command(), args, env={"WSCLI_URL": ""})
    assert result.exit_code == 2 and message in result.output


def test_help_names_the_optional_url_argument() -> None:
    result = CliRunner().invoke(options_command(), ["--help"])
    assert result.output.splitlines()[0].endswith("[OPTIONS] [URL]")


def test_params_without_url_leave_the_url_to_the_command() -> None:
    seen: list[dict[str, Any]] = []

    @click.command()
    @connection_params(without_url=True)
    def sources(conn_values: dict[str, Any]) -> None:
        seen.append(conn_values)

    result = CliRunner().invoke(sources, ["--token", "abcd", "--max-size", "1M"])
    assert result.exit_code == 0, result.output
    (values,) = seen
    assert values["url"] is None and values["token"] == "abcd"
    assert values["max_size"] == 1024**2
    assert set(values) == {
        "url", "headers", "origin", "subprotocols", "token", "insecure", "cacert", "cert",
        "key", "proxy", "no_proxy", "connect_timeout", "max_size", "ping_interval",
        "ping_timeout", "verbose", "tap_file", "no_redact",
        "_given",  # which values the command line gave, for profile precedence (#10)
    }  # fmt: skip
    extra = CliRunner().invoke(sources, ["ws://x/"])
    assert extra.exit_code == 2


def test_params_with_url_take_one() -> None:
    seen: list[dict[str, Any]] = []

    @click.command()
    @connection_params()
    def one(conn_values: dict[str, Any]) -> None:
        seen.append(conn_values)

    assert CliRunner().invoke(one, ["ws://u.example/"], env={"WSCLI_URL": ""}).exit_code == 0
    assert seen[0]["url"] == "ws://u.example/"


def base_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "url": None, "headers": (), "origin": None, "subprotocols": (), "token": None,
        "insecure": False, "cacert": None, "cert": None, "key": None, "proxy": None,
        "no_proxy": False, "connect_timeout": 10.0, "max_size": 1024, "ping_interval": 20.0,
        "ping_timeout": 20.0, "verbose": False, "tap_file": None, "no_redact": False,
    }  # fmt: skip
    values.update(changes)
    return values


def test_build_connection_falls_back_to_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSCLI_URL", "ws://env.example/e")
    options, tap = build_connection(base_values())
    tap.close()
    assert options.url == "ws://env.example/e"
    monkeypatch.delenv("WSCLI_URL")
    options, tap = build_connection(base_values())
    tap.close()
    assert options.url == DEFAULT_URL


def test_build_connection_checks_the_url() -> None:
    from wscli.errors import BadUsage

    with pytest.raises(BadUsage, match="not a WebSocket URL"):
        build_connection(base_values(url="http://x/"))


@pytest.mark.parametrize(
    ("changes", "secret"),
    [
        ({"token": "tok-secret-1"}, "tok-secret-1"),
        ({"headers": ("Authorization: Bearer hdr-secret-2",)}, "hdr-secret-2"),
        ({"headers": ("authorization:Basic b64secret3",)}, "b64secret3"),
        ({"headers": ("Cookie: session=cookie-secret-4",)}, "session=cookie-secret-4"),
        ({"headers": ("Cookie: sid=abc:def-secret",)}, "sid=abc:def-secret"),
        ({"headers": ("Authorization: Custom two part-secret",)}, "two part-secret"),
        ({"headers": ("PROXY-Authorization: Basic pxsecret5",)}, "pxsecret5"),
        ({"headers": ("X-Trace: a:b:c-visible",)}, None),
        ({"url": "ws://user:url-secret-6@h.example/"}, "url-secret-6"),
        ({"url": "ws://h.example/", "proxy": "http://u:px-secret-7@p.example:3128"}, "px-secret-7"),
    ],
)
def test_build_connection_collects_every_secret_it_is_given(
    changes: dict[str, Any], secret: str | None
) -> None:
    """Secrets the user typed are known to the tap's redactor, wherever they travel."""
    options, tap = build_connection(base_values(**changes))
    tap.close()
    if secret is None:
        assert tap.redactor.text("a:b:c-visible") == "a:b:c-visible"
    else:
        assert tap.redactor.text(f"echo {secret} echo") == f"echo {REDACTED} echo"


def test_no_redact_keeps_secrets() -> None:
    _, tap = build_connection(base_values(token="tok-secret-1", no_redact=True))
    tap.close()
    assert tap.redactor.text("tok-secret-1") == "tok-secret-1"


def test_no_token_means_nothing_to_hide() -> None:
    _, tap = build_connection(base_values())
    tap.close()
    assert tap.redactor.text("XXXX and more") == "XXXX and more"
