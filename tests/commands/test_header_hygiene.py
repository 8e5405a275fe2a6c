"""What wscli puts in the upgrade request's headers, and what ``serve`` makes of them (issue #17).

A CR/LF inside a header setting would add header lines of the user's own making
on the wire, while ``-v`` shows one escaped header: refused, exit 2, before any
byte is sent. ``--token`` beside ``-H 'Authorization: ...'`` sends one header,
and ``serve --require-token`` answers a client that sends two with a 400 it logs.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import clean_env, run_wscli, unit
from tests.support.hostile_server import HostileServer, Peer, close_frame, switching_protocols


def _accept_then_close(peer: Peer, request: bytes) -> None:
    peer.send(switching_protocols(request))
    peer.send(close_frame(1000))
    peer.drain(2)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("flags", "env_extra", "named"),
    [
        (["--token", "abc\r\nX-Injected: 1"], {}, "--token"),
        (["--origin", "https://a.example\r\nX-Injected: 1"], {}, "--origin"),
        (["--subprotocol", "v1\nX-Injected: 1"], {}, "--subprotocol"),
        (["-H", "X-Team: qa\r\nX-Injected: 1"], {}, "-H"),
        (["-H", "X-Team: qa\x1b[2J"], {}, "-H"),
        ([], {"WSCLI_TOKEN": "abc\r\nX-Injected: 1"}, "env WSCLI_TOKEN"),
    ],
)
def test_a_line_break_in_a_header_setting_is_refused_before_sending(
    flags: list[str], env_extra: dict[str, str], named: str
) -> None:
    """Exit 2, one line naming the setting, and the server never sees a request."""
    with HostileServer(_accept_then_close) as server:
        result = run_wscli(
            "tail", server.url, "-n", "1", "-v", *flags, env=clean_env(**env_extra), expect=2
        )
        requests = list(server.requests)
    assert requests == []
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wscli: error: bad header"), result.stderr
    assert named in lines[0]
    assert "X-Injected" not in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting",
    [
        'headers = ["X-Team: qa\\r\\nX-Injected: 1"]',
        'headers = { X-Team = "qa\\nX-Injected: 1" }',
        'origin = "https://a.example\\r\\nX-Injected: 1"',
        'subprotocols = ["v1\\rX-Injected: 1"]',
    ],
)
def test_a_line_break_in_a_profile_header_is_refused(setting: str, tmp_path: Path) -> None:
    """The same for a profile's values: exit 2 naming the file and the line."""
    config = tmp_path / "config.toml"
    config.write_text(f"[profiles.p]\n{setting}\n")
    with HostileServer(_accept_then_close) as server:
        result = run_wscli(
            "--profile", "p", "tail", server.url, "-n", "1",
            env=clean_env(WSCLI_CONFIG=str(config)), expect=2,
        )  # fmt: skip
        requests = list(server.requests)
    assert requests == []
    assert f"{config}, line 2" in result.stderr
    assert "which a header cannot carry" in result.stderr


@pytest.mark.slow
def test_a_profile_token_variable_with_a_newline_is_refused(tmp_path: Path) -> None:
    """``token_env`` naming a variable read from a file with its final newline."""
    config = tmp_path / "config.toml"
    config.write_text('[profiles.p]\ntoken_env = "P_TOKEN"\n')
    with HostileServer(_accept_then_close) as server:
        result = run_wscli(
            "--profile", "p", "tail", server.url, "-n", "1",
            env=clean_env(WSCLI_CONFIG=str(config), P_TOKEN="abc-token\n"), expect=2,
        )  # fmt: skip
        requests = list(server.requests)
    assert requests == []
    assert "--token holds a line feed" in result.stderr and "env P_TOKEN" in result.stderr


@pytest.mark.slow
def test_explicit_authorization_header_wins_over_token(tmp_path: Path) -> None:
    """-H 'Authorization: ...' and --token: one Authorization on the wire, a warning on stderr."""
    with HostileServer(_accept_then_close) as server:
        result = run_wscli(
            "tail", server.url, "-n", "1", "--no-reconnect",
            "-H", "Authorization: Basic dXNlcjpwdw==", "--token", "tok-from-flag",
            expect=None,
        )  # fmt: skip
        requests = list(server.requests)
    assert len(requests) == 1
    sent = [
        line
        for line in requests[0].decode("latin-1").split("\r\n")
        if line.lower().startswith("authorization:")
    ]
    assert sent == ["Authorization: Basic dXNlcjpwdw=="]
    assert "wscli: warning: both an Authorization header" in result.stderr
    assert "tok-from-flag" not in result.stderr


def _raw_upgrade(port: int, *headers: str) -> bytes:
    """Send an upgrade request as written and return the status line and headers."""
    lines = [
        "GET /api/ws/sensor/stream HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *headers,
        "",
        "",
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=unit(5)) as sock:
        sock.sendall("\r\n".join(lines).encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer


def test_serve_answers_two_authorization_headers_with_400_and_logs_it(serve: Any) -> None:
    """A 400 with a reason, logged, instead of an unlogged HTTP 500."""
    lines: list[str] = []
    server = serve(require_token="s3cret-tok", log=lines.append)
    answer = _raw_upgrade(
        server.port, "Authorization: Bearer s3cret-tok", "Authorization: Bearer other"
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert any("rejected 400" in line and "Authorization" in line for line in lines), lines
    assert _raw_upgrade(server.port, "Authorization: Bearer s3cret-tok").startswith(b"HTTP/1.1 101")


def test_serve_answers_two_origin_headers_with_400_and_logs_it(serve: Any) -> None:
    """Any repeated header its checks read is the client's mistake, said and logged."""
    lines: list[str] = []
    server = serve(allowed_origin=("https://a.example",), log=lines.append)
    answer = _raw_upgrade(server.port, "Origin: https://a.example", "Origin: https://b.example")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert any("rejected 400" in line and "Origin" in line for line in lines), lines


@pytest.mark.slow
def test_header_and_token_together_pass_serve_require_token(serve: Any) -> None:
    """Against the project's own server: was HTTP 500 (two headers), now the header's token."""
    server = serve(require_token="right-token-1", rate=50)
    result = run_wscli(
        "tail", server.url, "-n", "1",
        "-H", "Authorization: Bearer right-token-1", "--token", "stale-token-2",
    )  # fmt: skip
    assert len(result.json_lines) == 1
    assert "warning: both an Authorization header" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "suffix", ["?a=1\r\nX-Injected: 1", "?a=1 HTTP/1.1\r\nX-Injected: 1\r\n", "?a=\x1b[2J"]
)
def test_a_url_with_a_line_break_or_space_is_refused(suffix: str) -> None:
    """urlsplit dropped the CR/LF and the space reached the request line: now exit 2."""
    with HostileServer(_accept_then_close) as server:
        result = run_wscli("tail", server.url + suffix, "-n", "1", expect=2)
        requests = list(server.requests)
    assert requests == []
    assert "invalid URL" in result.stderr and "percent-encode" in result.stderr


def test_a_url_read_with_its_final_newline_still_works(serve: Any) -> None:
    """Surrounding whitespace (``WSCLI_URL=$(cat url.txt)`` in some shells) is dropped."""
    server = serve(rate=50)
    result = run_wscli("tail", "-n", "1", env=clean_env(WSCLI_URL=server.url + "\n"))
    assert len(result.json_lines) == 1


def test_header_rules() -> None:
    """RFC 9110: a tab and obs-text may be in a value, controls may not; a name is a token."""
    from wscli.headers import hint, name_problem, raw_header_problem, value_problem

    assert value_problem("Bearer abc\tdef é") is None
    assert value_problem("a\rb") == "holds a carriage return (\\r), which a header cannot carry"
    assert value_problem("a\nb") == "holds a line feed (\\n), which a header cannot carry"
    assert value_problem("a\x00") == "holds a NUL byte, which a header cannot carry"
    assert (
        value_problem("a\x7f") == "holds a control character (\\x7f), which a header cannot carry"
    )
    assert name_problem("X-Team_1") is None
    assert name_problem("") == "has an empty header name"
    assert (
        name_problem("X Team")
        == "has ' ' in the header name 'X Team', which a header name cannot carry"
    )
    assert raw_header_problem("nocolon") == "is not 'Name: value'"
    assert raw_header_problem(" X-A :  v ") is None
    assert "Name: value" in hint("is not 'Name: value'")
    assert "line breaks" in hint("holds a line feed (\\n), which a header cannot carry")
