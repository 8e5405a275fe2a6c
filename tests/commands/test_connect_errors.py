"""Every way a connection can fail maps to SPEC's exit code and one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.cli import run_wscli


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {
        "ca": folder / "ca.pem",
        "cert": folder / "server.pem",
        "key": folder / "server.key",
    }
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server_cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    for extra in server_cert.cert_chain_pems[1:]:
        extra.write_to_path(str(paths["cert"]), append=True)
    server_cert.private_key_pem.write_to_path(str(paths["key"]))
    return {name: str(path) for name, path in paths.items()}


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("wscli: error: ")
    return lines[0]


def test_closed_port_exits_3(free_port: int) -> None:
    """Nothing listening: exit 3 and a hint about the server."""
    result = run_wscli("tail", f"ws://127.0.0.1:{free_port}/", expect=3)
    assert "connection refused" in one_line(result.stderr)


def test_unresolvable_host_exits_4() -> None:
    """A name that cannot resolve (RFC 6761 .invalid): exit 4."""
    result = run_wscli("tail", "ws://no-such-host.invalid/x", expect=4)
    assert "cannot resolve host" in one_line(result.stderr)


def test_untrusted_certificate_exits_5(serve: Any, tls_files: dict[str, str]) -> None:
    """wss:// to a certificate from an unknown CA is refused with exit 5."""
    server = serve(certfile=tls_files["cert"], keyfile=tls_files["key"])
    assert server.url.startswith("wss://")
    result = run_wscli("tail", server.url, "-n", "1", expect=5)
    line = one_line(result.stderr)
    assert "certificate verification failed" in line and "--cacert" in line


def test_cacert_and_insecure_both_work(serve: Any, tls_files: dict[str, str]) -> None:
    """Trusting the CA with --cacert, or skipping checks with -k, connects."""
    server = serve(certfile=tls_files["cert"], keyfile=tls_files["key"])
    ok = run_wscli("tail", server.url, "-n", "2", "--cacert", tls_files["ca"])
    assert len(ok.json_lines) == 2
    ok = run_wscli("tail", server.url, "-n", "2", "-k")
    assert len(ok.json_lines) == 2


def test_tls_spoken_to_plain_port_exits_5(serve: Any) -> None:
    """wss:// against a plain ws:// server says TLS is not spoken there."""
    server = serve()
    url = server.url.replace("ws://", "wss://")
    result = run_wscli("tail", url, "-n", "1", expect=5)
    assert "TLS" in one_line(result.stderr)


def test_origin_rejected_exits_6_with_status(serve: Any) -> None:
    """A server that checks Origin: exit 6 naming HTTP 403; the right origin works."""
    server = serve(allowed_origin=("https://app.example",))
    result = run_wscli("tail", server.url, "-n", "1", expect=6)
    assert "HTTP 403" in one_line(result.stderr)
    result = run_wscli("tail", server.url, "-n", "1", "--origin", "https://evil.example", expect=6)
    assert "HTTP 403" in one_line(result.stderr)
    run_wscli("tail", server.url, "-n", "1", "--origin", "https://app.example")


def test_required_token(serve: Any) -> None:
    """A token-protected stream: exit 6 without --token, 0 with it."""
    server = serve(require_token="s3cret-token")
    result = run_wscli("tail", server.url, "-n", "1", expect=6)
    line = one_line(result.stderr)
    assert "HTTP 401" in line and "--token" in line
    ok = run_wscli("tail", server.url, "-n", "2", "--token", "s3cret-token")
    assert len(ok.json_lines) == 2


def test_wrong_path_exits_6_with_404_hint(serve: Any) -> None:
    """The wrong path is a 404 with a hint to check the path."""
    server = serve()
    result = run_wscli("tail", server.url + "/nope", "-n", "1", expect=6)
    assert "HTTP 404" in one_line(result.stderr)


def test_slow_handshake_exits_7(serve: Any) -> None:
    """A server slower to upgrade than --connect-timeout: exit 7."""
    server = serve(handshake_delay=3.0)
    result = run_wscli("tail", server.url, "-n", "1", "--connect-timeout", "0.5", expect=7)
    assert "connect timeout after 0.5 s" in one_line(result.stderr)


def test_bad_header_is_usage_error(serve: Any) -> None:
    """A header without a colon is a usage error (exit 2)."""
    server = serve()
    result = run_wscli("tail", server.url, "-H", "nocolon", expect=2)
    assert "bad header" in one_line(result.stderr)


def test_unwritable_record_is_usage_error(serve: Any, tmp_path: Path) -> None:
    """--record into a missing folder: exit 2, no traceback."""
    server = serve()
    result = run_wscli("tail", server.url, "--record", str(tmp_path / "no" / "r.jsonl"), expect=2)
    assert "cannot write to recording" in one_line(result.stderr)


def test_unaccepted_subprotocol_exits_6_with_hint(serve: Any) -> None:
    """Offering a subprotocol the server ignores is a handshake failure that says so."""
    server = serve()
    result = run_wscli("tail", server.url, "-n", "1", "--subprotocol", "sensor.v2", expect=6)
    assert "subprotocols (sensor.v2)" in one_line(result.stderr)


def test_url_checks() -> None:
    """Bad URLs are usage errors with the right scheme suggested; no scheme means ws://."""
    import pytest

    from wscli.errors import BadUsage
    from wscli.net.target import check_url

    assert check_url("localhost:8000/ws") == "ws://localhost:8000/ws"
    assert check_url("wss://h/x?y=1") == "wss://h/x?y=1"
    for bad, words in [
        ("https://h/ws", "use wss://h/ws"),
        ("http://h:1/", "use ws://h:1/"),
        ("ws://[::1", "Invalid IPv6 URL"),
        ("ws://h:99999/", "Port out of range"),
        ("ftp://h/", "use ws://HOST"),
        ("ws://", "use ws://HOST"),
    ]:
        with pytest.raises(BadUsage) as caught:
            check_url(bad)
        assert words in caught.value.one_line()


def test_bad_url_exits_2() -> None:
    """A malformed URL is a usage error, never a traceback."""
    result = run_wscli("tail", "ws://[::1", expect=2)
    assert "invalid URL" in one_line(result.stderr)


def test_recording_to_a_full_disk_is_one_line(serve: Any) -> None:
    """Writing a recording that fails (ENOSPC) ends with one clear line."""
    server = serve()
    result = run_wscli("tail", server.url, "--record", "/dev/full", "-n", "3", expect=2)
    assert "no space left on device" in one_line(result.stderr)
