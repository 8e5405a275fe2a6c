"""`wscli probe` over TLS (trustme certificates): details when good, plain words when not."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import trustme

from tests.support.probe import probe


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway CA and four server certificates: good, expired, other name, unknown CA."""
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    stranger = trustme.CA()
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    certs = {
        "good": ca.issue_cert("127.0.0.1", "localhost"),
        "expired": ca.issue_cert(
            "127.0.0.1",
            not_before=datetime.datetime(2020, 1, 1),
            not_after=datetime.datetime(2021, 1, 1),
        ),
        "other_name": ca.issue_cert("other.example", "127.0.0.2"),
        "unknown_ca": stranger.issue_cert("127.0.0.1"),
    }
    paths = {"ca": str(folder / "ca.pem")}
    for name, cert in certs.items():
        path = folder / f"{name}.pem"
        cert.private_key_and_cert_chain_pem.write_to_path(str(path))
        paths[name] = str(path)
    return paths


def test_good_certificate_with_cacert_shows_details(
    serve: Any, pki: dict[str, str], tmp_path: Path
) -> None:
    """--cacert trusts the CA: exit 0, TLS version, cipher, names, issuer and days left shown."""
    server = serve(certfile=pki["good"])
    probed = probe(tmp_path, server.url, "--cacert", pki["ca"], expect=0)
    tls = probed.step("tls")
    assert tls["status"] == "ok"
    details = tls["details"]
    assert details["version"].startswith("TLSv1.")
    assert details["cipher"]
    assert details["san"] == ["127.0.0.1", "localhost"]
    assert "trustme" in details["issuer"]
    assert details["days_left"] > 300


def test_insecure_skips_verification_and_says_so(
    serve: Any, pki: dict[str, str], tmp_path: Path
) -> None:
    """-k connects to an untrusted certificate and the TLS step says it was not verified."""
    server = serve(certfile=pki["unknown_ca"])
    probed = probe(tmp_path, server.url, "-k", expect=0)
    assert probed.step("tls")["details"]["certificate"] == "not verified (-k)"


@pytest.mark.parametrize(
    ("cert", "url_host", "reason", "hint"),
    [
        ("unknown_ca", None, "unknown CA", "--cacert"),
        ("expired", None, "has expired", "renew"),
        ("other_name", None, "not valid for 127.0.0.1; it covers other.example, 127.0.0.2", "name"),
        ("other_name", "wrong.test", "not valid for wrong.test; it covers other.example", "name"),
    ],
)
def test_certificate_failures_exit_5_in_plain_words(
    serve: Any,
    pki: dict[str, str],
    tmp_path: Path,
    cert: str,
    url_host: str | None,
    reason: str,
    hint: str,
) -> None:
    """Unknown CA, expired, wrong IP, wrong host name: each exit 5 with its own reason."""
    server = serve(certfile=pki[cert])
    url, extra = server.url, ["--cacert", pki["ca"]]
    if cert == "unknown_ca":
        extra = []
    if url_host is not None:
        port = url.split(":")[2].split("/")[0]
        url = url.replace("127.0.0.1", url_host)
        extra += ["--resolve", f"{url_host}:{port}:127.0.0.1"]
    probed = probe(tmp_path, url, *extra, expect=5)
    failed = probed.failed
    assert failed["name"] == "tls"
    assert reason in failed["error"], failed["error"]
    assert hint in failed["hint"]
    assert probed.step("upgrade")["status"] == "not run"


def test_wss_url_on_a_plain_port(serve: Any, tmp_path: Path) -> None:
    """wss:// to a plain ws:// server: exit 5, the port speaks plain HTTP, use ws://."""
    server = serve()
    probed = probe(tmp_path, server.url.replace("ws://", "wss://"), expect=5)
    failed = probed.failed
    assert failed["name"] == "tls" and "plain HTTP" in failed["error"]
    assert "ws://" in failed["hint"]


def test_ws_url_on_a_tls_port(serve: Any, pki: dict[str, str], tmp_path: Path) -> None:
    """ws:// to a TLS server: exit 5 at the upgrade, the port speaks TLS, use wss://."""
    server = serve(certfile=pki["good"])
    probed = probe(tmp_path, server.url.replace("wss://", "ws://"), expect=5)
    failed = probed.failed
    assert failed["name"] == "upgrade" and "speaks TLS" in failed["error"]
    assert "wss://" in failed["hint"]


def test_wss_through_a_proxy_still_shows_the_certificate(
    serve: Any, pki: dict[str, str], tmp_path: Path
) -> None:
    """Through --proxy (CONNECT), TLS is done during the upgrade and its details still shown."""
    from tests.support.connect_proxy import ConnectProxy

    server = serve(certfile=pki["good"])
    with ConnectProxy() as proxy:
        probed = probe(tmp_path, server.url, "--cacert", pki["ca"], "--proxy", proxy.url, expect=0)
        assert proxy.tunnels
    assert probed.step("proxy")["details"]["source"] == "--proxy"
    tls = probed.step("tls")
    assert tls["status"] == "ok" and tls["details"]["san"] == ["127.0.0.1", "localhost"]
