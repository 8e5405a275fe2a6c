"""Secrets never reach an output: one URL redaction, every place wscli writes a URL.

Issue #6 items 1-2 and #12's redaction list: a secret in each position (userinfo,
each credential query name in any letter case, ``--token``, ``-H Authorization``,
``Cookie``, ``Set-Cookie`` from the server), grepped for in every output of
``tail`` and ``validate URL``: stdout, stderr, ``--record``, ``--tap``, ``-o json``
and ``--junit``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.cli import CliResult, run_wscli
from tests.support.hostile_server import (
    HostileServer,
    Peer,
    close_frame,
    server_frame,
    switching_protocols,
)
from wscli.redact import (
    REDACTED,
    Redactor,
    header_secrets,
    is_secret_param,
    redact_target,
    redact_url,
    redact_urls_in_text,
    url_secrets,
)

# -- the one redaction function ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("ws://user:pw-secret@h:1/x", "pw-secret"),
        ("ws://only-user-token@h/x", "only-user-token"),
        ("wss://h/x?token=t0k3n", "t0k3n"),
        ("wss://h/x?Token=t0k3n", "t0k3n"),
        ("wss://h/x?API_KEY=k3y-value", "k3y-value"),
        ("wss://h/x?api-key=k3y-value", "k3y-value"),
        ("wss://h/x?access_token=abcd&room=1", "abcd"),
        ("wss://h/x?room=1;Password=hunter22", "hunter22"),
        ("wss://h/x?refresh_token=r3fr3sh", "r3fr3sh"),
        ("wss://h/x?client_secret=s3cr3t", "s3cr3t"),
        ("wss://h/x?X-Amz-Signature=deadbeef", "deadbeef"),
        ("wss://h/x?sig=deadbeef", "deadbeef"),
        ("wss://h/cb#access_token=fr4gment", "fr4gment"),
        ("ws://u:pw-secret@h:99999/x", "pw-secret"),  # invalid port: still redacted
        ("ws://u:pw-secret@[::1/x", "pw-secret"),  # invalid IPv6: never raises
    ],
)
def test_redact_url_hides_each_position(url: str, secret: str) -> None:
    shown = redact_url(url)
    assert secret not in shown
    assert REDACTED in shown or "redacted@" in shown


def test_redacted_url_still_parses_and_keeps_the_rest() -> None:
    """The -v crash: the redacted URL was parsed again and '[redacted]@' is not a netloc."""
    shown = redact_url("wss://user:pw@host.example:8443/a/b?room=1&Token=x#frag")
    parts = urlsplit(shown)
    assert parts.hostname == "host.example" and parts.port == 8443
    assert parts.path == "/a/b" and "room=1" in parts.query and parts.fragment == "frag"
    assert redact_url("ws://h/x?room=1&page=2") == "ws://h/x?room=1&page=2"


def test_literal_secrets_anywhere_in_a_url() -> None:
    """The --token value is hidden even under a parameter name no list knows."""
    assert "tok-1234" not in redact_url("ws://h/x?t=tok-1234", ["tok-1234"])
    assert "tok-1234" not in Redactor(["tok-1234"]).url("ws://h/tok-1234/x")
    assert Redactor(["tok-1234"], enabled=False).url("ws://u:p@h/?t=tok-1234").endswith("tok-1234")
    assert redact_target("/x?Token=abc&room=1") == f"/x?Token={REDACTED}&room=1"


def test_urls_inside_error_text_are_redacted() -> None:
    text = "invalid URL 'ws://u:pw9@h:0/x?API_KEY=zz99' and https://a:b@c/?sig=1"
    shown = redact_urls_in_text(text)
    assert "pw9" not in shown and "zz99" not in shown and "a:b@" not in shown


def test_credential_names_and_literal_secrets() -> None:
    assert all(is_secret_param(n) for n in ("Token", "API_KEY", "apiKey", "SessionId", "jwt"))
    assert not any(is_secret_param(n) for n in ("room", "page", "sensor", "type"))
    assert "pw-long" in url_secrets("ws://user:pw-long@h/")
    assert "user" not in url_secrets("ws://user:pw-long@h/")  # a username beside a password
    assert "lone-user" in url_secrets("ws://lone-user@h/")
    assert "QV4L" in url_secrets("ws://h/?Token=QV4L&room=1")
    assert "c00kie-v" in header_secrets("Cookie", "a=c00kie-v; b=2")
    assert "abc.def" in header_secrets("Authorization", "Bearer abc.def")
    assert header_secrets("X-Note", "public") == []


def test_redactor_headers_cookie_and_set_cookie() -> None:
    redactor = Redactor()
    assert redactor.header("Set-Cookie", "sid=1; HttpOnly") == REDACTED
    assert redactor.header("cookie", "sid=1") == REDACTED
    assert redactor.header("Authorization", "Basic dXNlcjpwdw==") == f"Basic {REDACTED}"


# -- every output, end to end ----------------------------------------------------------------

SECRETS = {
    "user": "USERSECRET1x",
    "password": "PASSSECRET2x",
    "token_param": "QTOKEN3xyz",
    "access_param": "QACCESS4xyz",
    "api_key_param": "QAPIKEY5xyz",
    "password_param": "QPASS6xyz",
    "sig_param": "QSIG7xyz",
    "token_flag": "TOKENSECRET8x",
    "auth_header": "HDRAUTH9xyz",
    "cookie": "COOKIESECRET10x",
}


def _secret_url(base: str, path: str) -> str:
    host = base.split("://", 1)[1].split("/", 1)[0]
    query = (
        f"token={SECRETS['token_param']}&Access_Token={SECRETS['access_param']}"
        f"&API_KEY={SECRETS['api_key_param']}&Password={SECRETS['password_param']}"
        f"&Sig={SECRETS['sig_param']}&room=1"
    )
    return f"ws://{SECRETS['user']}:{SECRETS['password']}@{host}{path}?{query}"


SECRET_FLAGS = (
    "--token",
    SECRETS["token_flag"],
    "-H",
    f"X-Api-Key: {SECRETS['auth_header']}",
    "-H",
    f"Cookie: sid={SECRETS['cookie']}; theme=dark",
    "-v",
)


def _assert_no_secret(result: CliResult, *files: Path) -> None:
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    for path in files:
        outputs[path.name] = path.read_text() if path.exists() else ""
    for name, text in outputs.items():
        for label, secret in SECRETS.items():
            assert secret not in text, f"{label} secret in {name}:\n{text[:3000]}"


@pytest.mark.slow
def test_tail_writes_no_secret_anywhere(serve: Any, tmp_path: Path) -> None:
    server = serve(rate=50)
    url = _secret_url(server.url, "/api/ws/sensor/stream")
    record, tap = tmp_path / "record.jsonl", tmp_path / "tap.jsonl"
    result = run_wscli(
        "tail", url, "-n", "3", "--record", str(record), "--tap", str(tap), *SECRET_FLAGS
    )
    assert len([line for line in result.json_lines if line]) == 3
    _assert_no_secret(result, record, tap)
    header = json.loads(record.read_text().splitlines()[0])
    assert urlsplit(header["url"]).port == server.port  # redacted, yet still a URL
    assert "room=1" in header["url"]
    assert "* connecting to 127.0.0.1:" in result.stderr


@pytest.mark.slow
def test_validate_url_writes_no_secret_anywhere(serve: Any, tmp_path: Path) -> None:
    server = serve(rate=50)
    url = _secret_url(server.url, "/api/ws/sensor/stream")
    junit, tap = tmp_path / "junit.xml", tmp_path / "tap.jsonl"
    result = run_wscli(
        "validate", url, "-n", "3", "-o", "json", "--junit", str(junit), "--tap", str(tap),
        *SECRET_FLAGS,
    )  # fmt: skip
    assert json.loads(result.stdout)["summary"]["messages"] == 3
    _assert_no_secret(result, junit, tap)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["tail", "validate"])
def test_failed_handshake_writes_no_secret_anywhere(
    serve: Any, tmp_path: Path, command: str
) -> None:
    """A 404: the error line, the reports and the tap (with the 404 handshake) stay clean."""
    server = serve()
    url = _secret_url(server.url, "/nope")
    junit, tap = tmp_path / "junit.xml", tmp_path / "tap.jsonl"
    extra = ["-o", "json", "--junit", str(junit)] if command == "validate" else ["-o", "jsonl"]
    result = run_wscli(command, url, "-n", "1", "--tap", str(tap), *extra, *SECRET_FLAGS, expect=6)
    _assert_no_secret(result, junit, tap)
    events = [json.loads(line) for line in tap.read_text().splitlines()[1:]]
    handshake = next(e for e in events if e.get("event") == "handshake")
    assert handshake["status"] == 404
    assert handshake["request"]["Cookie"] == REDACTED
    assert any(e.get("event") == "error" for e in events)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["tail", "validate"])
def test_authorization_header_is_never_written(serve: Any, tmp_path: Path, command: str) -> None:
    """-H 'Authorization: ...' (not --token) is sent, accepted and redacted everywhere."""
    token = "hdr-bearer-5e6f7a"
    server = serve(require_token=token)
    tap = tmp_path / "tap.jsonl"
    extra = ["-o", "json", "--junit", str(tmp_path / "j.xml")] if command == "validate" else []
    result = run_wscli(
        command, server.url, "-n", "2", "-v", "--tap", str(tap),
        "-H", f"Authorization: Bearer {token}", *extra,
    )  # fmt: skip
    assert "> Authorization: Bearer [redacted]" in result.stderr
    outputs = [result.stdout, result.stderr, tap.read_text()]
    if command == "validate":
        outputs.append((tmp_path / "j.xml").read_text())
    for text in outputs:
        assert token not in text


@pytest.mark.slow
@pytest.mark.parametrize("command", ["tail", "validate"])
def test_invalid_url_error_writes_no_secret(command: str) -> None:
    url = f"ws://{SECRETS['user']}:{SECRETS['password']}@127.0.0.1:99999/x?Token={SECRETS['token_param']}"
    result = run_wscli(command, url, "--token", SECRETS["token_flag"], expect=2)
    assert "invalid URL" in result.stderr
    _assert_no_secret(result)


@pytest.mark.slow
def test_a_server_echoing_the_query_does_not_leak_it() -> None:
    """A 400 whose body quotes the request line (query string and all) is redacted."""

    def echo(peer: Peer, request: bytes) -> None:
        body = b"bad request: " + request.split(b"\r\n", 1)[0] + b"\n"
        peer.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    with HostileServer(echo) as server:
        url = _secret_url(server.url, "/ws")
        result = run_wscli("tail", url, "-n", "1", *SECRET_FLAGS, expect=6)
    assert "HTTP 400" in result.stderr
    _assert_no_secret(result)


@pytest.mark.slow
def test_set_cookie_from_the_server_is_redacted(tmp_path: Path) -> None:
    """Set-Cookie in the 101 answer never reaches -v or the tap file."""
    cookie = "SERVERCOOKIE11x"

    def with_cookie(peer: Peer, request: bytes) -> None:
        peer.send(switching_protocols(request, f"Set-Cookie: sid={cookie}; HttpOnly"))
        peer.send(server_frame(0x1, b'{"type": "hello"}'))
        peer.send(close_frame(1000))
        peer.drain(5)

    tap = tmp_path / "tap.jsonl"
    with HostileServer(with_cookie) as server:
        result = run_wscli("tail", server.url, "-n", "1", "-v", "--tap", str(tap))
    assert "set-cookie: [redacted]" in result.stderr.lower()
    for text in (result.stdout, result.stderr, tap.read_text()):
        assert cookie not in text


@pytest.mark.slow
@pytest.mark.parametrize("userinfo", ["user:pw-secret-1@", "user-only-secret-1@"])
@pytest.mark.parametrize("command", ["tail", "validate"])
def test_verbose_works_with_credentials_in_the_url(serve: Any, command: str, userinfo: str) -> None:
    """-v with userinfo crashed ('redacted' is not an IPv4 or IPv6 address)."""
    server = serve()
    url = server.url.replace("ws://", f"ws://{userinfo}")
    result = run_wscli(command, url, "-n", "1", "-v")
    assert "> GET /api/ws/sensor/stream HTTP/1.1" in result.stderr
    assert "< HTTP/1.1 101" in result.stderr
    assert "secret-1" not in result.stderr


@pytest.mark.slow
def test_token_in_the_url_is_redacted_like_token_flag(serve: Any, tmp_path: Path) -> None:
    """A token given as ?token= (not --token) is sent, accepted, and never written."""
    token = "urltoken-7f3a9c"
    server = serve(require_token=token)
    record, tap = tmp_path / "r.jsonl", tmp_path / "t.jsonl"
    result = run_wscli(
        "tail", f"{server.url}?token={token}", "-n", "2", "-v",
        "--record", str(record), "--tap", str(tap),
    )  # fmt: skip
    assert len(result.json_lines) == 2
    for text in (result.stdout, result.stderr, record.read_text(), tap.read_text()):
        assert token not in text


@pytest.mark.slow
def test_no_redact_keeps_the_url_in_the_tap(serve: Any, tmp_path: Path) -> None:
    """--no-redact is the one way to see credentials in the tap output."""
    server = serve()
    tap = tmp_path / "t.jsonl"
    run_wscli("tail", f"{server.url}?token=keep-me-1", "-n", "1", "--tap", str(tap), "--no-redact")
    assert "keep-me-1" in tap.read_text()


# -- properties --------------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Upper case and digits: never a piece of the lower-case host, path or marker around it.
_SECRET_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=6, max_size=20)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80))
def test_redact_url_never_raises(text: str) -> None:
    redact_url(text)
    redact_urls_in_text(text)
    redact_url("ws://" + text)


@settings(max_examples=200, deadline=None)
@given(
    password=_SECRET_TEXT,
    token=_SECRET_TEXT,
    name=st.sampled_from(["token", "TOKEN", "Access_Token", "api_key", "ApiKey", "password"]),
    path=st.text(alphabet="abc/", max_size=10),
)
def test_redact_url_hides_password_and_token_wherever(
    password: str, token: str, name: str, path: str
) -> None:
    url = f"wss://someone:{password}@host.example:9/{path}?a=1&{name}={token}#f"
    shown = redact_url(url)
    assert password not in shown and token not in shown
    assert urlsplit(shown).hostname == "host.example"
