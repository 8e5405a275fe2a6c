"""`wscli probe`: each step's failure gives its exit code, its words and a parseable report."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli, run_wscli, unit
from tests.support.connect_proxy import ConnectProxy
from tests.support.probe import CannedHTTPServer, env_with, probe


def test_healthy_stream_passes_every_step(serve: Any, tmp_path: Path) -> None:
    """Against `wscli serve` every step is ok, timed, and the verdict is exit 0."""
    server = serve()
    probed = probe(tmp_path, server.url, expect=0)
    for name in ("url", "resolve", "tcp", "upgrade", "first message", "ping"):
        step = probed.step(name)
        assert step["status"] == "ok" and step["seconds"] is not None, step
    assert probed.step("tls")["status"] == "skipped"
    assert probed.step("proxy")["status"] == "skipped"
    assert probed.step("upgrade")["details"]["status"] == 101
    assert probed.step("upgrade")["details"]["headers"]["upgrade"].lower() == "websocket"
    assert probed.step("ping")["details"]["rtt_ms"] >= 0
    assert probed.step("first message")["details"]["type"] in (
        "sensor_reading",
        "sensor_status",
        "error",
    )


def test_text_checklist_in_a_pipe_is_plain(serve: Any) -> None:
    """Piped, the checklist has no colour codes or symbols, one line per step, then the verdict."""
    server = serve()
    result = run_wscli("probe", server.url)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok   url")
    assert any(line.startswith("-    tls") for line in lines)
    assert lines[-1].startswith("OK: ")
    assert "\x1b[" not in result.stdout and "✓" not in result.stdout


def test_quiet_prints_only_the_verdict(serve: Any) -> None:
    """-q: one verdict line."""
    server = serve()
    result = run_wscli("probe", server.url, "-q")
    assert len(result.stdout.splitlines()) == 1 and result.stdout.startswith("OK: ")


def test_closed_port_exits_3_naming_the_port(tmp_path: Path, free_port: int) -> None:
    """Nothing listening: the TCP step fails with exit 3 and says which port refused."""
    probed = probe(tmp_path, f"ws://127.0.0.1:{free_port}/ws", expect=3)
    failed = probed.failed
    assert failed["name"] == "tcp"
    assert str(free_port) in failed["error"] and "refused" in failed["error"]
    assert f"port {free_port}" in failed["hint"]
    assert failed["details"]["addresses"] == [
        {"address": "127.0.0.1", "result": "refused", "seconds": pytest.approx(0, abs=5)}
    ]
    assert probed.step("upgrade")["status"] == "not run"
    assert str(free_port) in probed.result.stderr


def test_invalid_host_exits_4(tmp_path: Path) -> None:
    """A *.invalid name (RFC 6761) fails at resolve with exit 4; the JSON still parses."""
    probed = probe(tmp_path, "ws://no-such-host.invalid/ws", expect=4)
    assert probed.failed["name"] == "resolve"
    assert "no-such-host.invalid" in probed.failed["error"]
    assert probed.step("tcp")["status"] == "not run"


def test_http_url_is_a_url_step_failure(tmp_path: Path) -> None:
    """http:// is named as the mistake, exit 2, and -o json still gives a document."""
    probed = probe(tmp_path, "http://127.0.0.1:8000/ws", expect=2)
    assert probed.failed["name"] == "url"
    assert "ws://127.0.0.1:8000/ws" in probed.failed["hint"]


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_ipv4_only_server_reached_through_a_name_resolving_to_ipv6_first(
    serve: Any, tmp_path: Path
) -> None:
    """A name resolving to ::1 then 127.0.0.1 (a --resolve hook the test controls), server on
    127.0.0.1 only: both addresses are shown and the note names the IPv4-only mismatch."""
    server = serve(host="127.0.0.1")
    port = server.url.split(":")[2].split("/")[0]
    url = f"ws://dual.test:{port}/api/ws/sensor/stream"
    probed = probe(tmp_path, url, "--resolve", f"dual.test:{port}:::1,127.0.0.1", expect=0)
    assert probed.step("resolve")["details"]["addresses"] == ["::1", "127.0.0.1"]
    tcp = probed.step("tcp")
    assert [a["result"] for a in tcp["details"]["addresses"]] == ["refused", "connected"]
    assert "IPv4 only" in tcp["hint"] and "::1" in tcp["hint"]


def test_server_checking_origin_is_403_with_the_headers_sent(serve: Any, tmp_path: Path) -> None:
    """--allowed-origin: exit 6 at the upgrade, the hint names Origin and what was sent."""
    server = serve(allowed_origin=("https://app.example",))
    probed = probe(tmp_path, server.url, "--origin", "https://evil.example", expect=6)
    failed = probed.failed
    assert failed["name"] == "upgrade" and "403" in failed["error"]
    assert "Origin" in failed["hint"] and "https://evil.example" in failed["hint"]
    assert failed["details"]["sent"] == {"Origin": "https://evil.example"}
    probe(tmp_path, server.url, "--origin", "https://app.example", expect=0)


def test_token_required_is_401_and_the_token_is_redacted(serve: Any, tmp_path: Path) -> None:
    """--require-token: a wrong token gives 401 (exit 6); the token never appears in output."""
    server = serve(require_token="right-token-1234")
    probed = probe(tmp_path, server.url, "--token", "wrong-token-5678", expect=6)
    assert "401" in probed.failed["error"] and "--token" in probed.failed["hint"]
    everything = probed.result.stdout + probed.result.stderr
    everything += (tmp_path / "probe.xml").read_text()
    assert "wrong-token-5678" not in everything
    assert "Bearer [redacted]" in probed.failed["hint"]
    probe(tmp_path, server.url, "--token", "right-token-1234", expect=0)


def test_token_in_the_url_is_redacted(serve: Any, tmp_path: Path) -> None:
    """A credential query parameter is hidden in every report."""
    server = serve(require_token="query-secret-99")
    probed = probe(tmp_path, server.url + "?token=query-secret-99", expect=0)
    assert "query-secret-99" not in probed.result.stdout
    assert "query-secret-99" not in (tmp_path / "probe.xml").read_text()


def test_handshake_slower_than_connect_timeout_exits_7(serve: Any, tmp_path: Path) -> None:
    """--handshake-delay longer than --connect-timeout: the upgrade step times out, exit 7."""
    server = serve(handshake_delay=3.0)
    probed = probe(tmp_path, server.url, "--connect-timeout", "0.5", expect=7)
    assert probed.failed["name"] == "upgrade"
    assert "timeout" in probed.failed["error"] and "upgrade" in probed.failed["error"]
    assert probed.step("tcp")["status"] == "ok"


def test_wrong_path_is_404(serve: Any, tmp_path: Path) -> None:
    """A wrong path: exit 6, HTTP 404 with the body's first line and the path hint."""
    server = serve()
    probed = probe(tmp_path, server.url + "/nope", expect=6)
    failed = probed.failed
    assert "404" in failed["error"] and "/api/ws/sensor/stream" in failed["error"]
    assert "path" in failed["hint"]


def test_proxy_answering_502_names_the_backend(tmp_path: Path) -> None:
    """An HTTP server answering 502: exit 6, the server/via headers shown, proxy-backend hint."""
    body = b"upstream connect error\n"
    response = (
        b"HTTP/1.1 502 Bad Gateway\r\nServer: envoy\r\nVia: 1.1 edge\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    with CannedHTTPServer(response) as http:
        probed = probe(tmp_path, f"ws://127.0.0.1:{http.port}/ws", expect=6)
    failed = probed.failed
    assert "502" in failed["error"] and "upstream connect error" in failed["error"]
    assert "backend" in failed["hint"]
    assert failed["details"]["headers"] == {"server": "envoy", "via": "1.1 edge"}


def test_proxy_variable_pointing_at_a_closed_port(
    serve: Any, tmp_path: Path, free_port: int
) -> None:
    """http_proxy at a closed port: exit 3, the hint names the variable and --no-proxy."""
    server = serve()
    env = env_with(http_proxy=f"http://127.0.0.1:{free_port}")
    probed = probe(tmp_path, server.url, expect=3, env=env)
    failed = probed.failed
    assert "$http_proxy" in failed["hint"] and "--no-proxy" in failed["hint"]
    assert str(free_port) in failed["error"]
    assert "$http_proxy" in probed.step("proxy")["summary"]
    probe(tmp_path, server.url, "--no-proxy", expect=0, env=env)


def test_working_proxy_is_shown_as_reached(serve: Any, tmp_path: Path) -> None:
    """Through a real CONNECT proxy from the environment: the proxy step says which and ok."""
    server = serve()
    with ConnectProxy() as proxy:
        probed = probe(tmp_path, server.url, expect=0, env=env_with(HTTP_PROXY=proxy.url))
        assert proxy.tunnels
    step = probed.step("proxy")
    assert step["status"] == "ok" and step["details"]["source"] == "$HTTP_PROXY"


def test_server_closing_before_the_first_message(serve: Any, tmp_path: Path) -> None:
    """A server that closes at once (--count 0): the first-message step fails, exit 8."""
    server = serve(count=0)
    probed = probe(tmp_path, server.url, expect=8)
    assert probed.failed["name"] == "first message"
    assert "1000" in probed.failed["error"]


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A WebSocket server that accepts the upgrade and then sends nothing."""
    import threading

    from websockets.sync.server import serve as ws_serve

    done = threading.Event()

    def handler(connection: Any) -> None:
        done.wait(unit(10))

    with ws_serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/quiet"
        done.set()
        server.shutdown()
        thread.join(timeout=unit(5))


def test_silent_server_times_out_at_first_message(silent_url: str, tmp_path: Path) -> None:
    """No message within --timeout: exit 7 at the first-message step (no assertions given)."""
    probed = probe(tmp_path, silent_url, "--timeout", "0.5", expect=7)
    assert probed.failed["name"] == "first message"
    assert probed.step("ping")["status"] == "not run"


def test_silent_server_fails_expect_message_with_exit_1(silent_url: str, tmp_path: Path) -> None:
    """With --expect-message, no message is a failed expectation: exit 1, measured "none"."""
    probed = probe(tmp_path, silent_url, "--timeout", "0.5", "--expect-message", expect=1)
    assert probed.failed["name"] == "first message"
    assert probed.assertion("expect-message") == {
        "name": "expect-message",
        "ok": False,
        "expected": ">= 1 message within 0.5 s",
        "measured": "none",
        "examples": [],
    }


def test_resolve_option_is_checked() -> None:
    """A malformed --resolve is a usage error (exit 2), one line."""
    result = run_cli("probe", "ws://x.test/ws", "--resolve", "nonsense", expect=2)
    assert "HOST:PORT:ADDR" in result.stderr


def test_junit_into_missing_folder_is_usage_error(tmp_path: Path) -> None:
    """--junit into a folder that does not exist: exit 2 before anything connects."""
    missing = tmp_path / "nope" / "probe.xml"
    result = run_wscli("probe", "ws://127.0.0.1:9/ws", "--junit", str(missing), expect=2)
    assert "create the folder" in result.stderr


def test_json_is_one_document(serve: Any) -> None:
    """-o json prints exactly one JSON document."""
    server = serve()
    result = run_wscli("probe", server.url, "-o", "json")
    doc = json.loads(result.stdout)
    assert doc["ok"] is True and doc["exit_code"] == 0


def test_url_without_a_path_is_noted(serve: Any, tmp_path: Path) -> None:
    """A URL with no path: the url step notes it and the port used; the server answers 404."""
    server = serve()
    bare = server.url.split("/api/", 1)[0]
    probed = probe(tmp_path, bare, expect=6)
    url = probed.step("url")
    assert "no path" in url["details"]["note"] and url["details"]["port"] == int(
        bare.rsplit(":", 1)[1]
    )
    assert "404" in probed.failed["error"]


def test_proxy_asking_for_credentials_fails_the_proxy_step(serve: Any, tmp_path: Path) -> None:
    """A proxy answering 407: the proxy step fails (not the upgrade), "wants credentials" (#22)."""
    server = serve()
    response = (
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b'Proxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n'
    )
    with CannedHTTPServer(response) as proxy:
        env = env_with(http_proxy=f"http://127.0.0.1:{proxy.port}")
        probed = probe(tmp_path, server.url, expect=3, env=env)
        text = run_wscli("probe", server.url, env=env, expect=3).stdout
    failed = probed.failed
    assert failed["name"] == "proxy" and failed["details"]["status"] == 407
    assert "the proxy wants credentials" in failed["hint"] and "$http_proxy" in failed["hint"]
    upgrade = probed.step("upgrade")
    assert upgrade["status"] == "not run" and upgrade["seconds"] is None
    assert "FAILED at proxy:" in text
