"""TLS as ``wscli probe`` sees it: the client context, what a certificate says, and sniffs.

The sniffs open a second short connection to tell a TLS↔plain mix-up apart from other
handshake failures: a port that answers plain HTTP where TLS was expected, a port that
completes a TLS handshake where ``ws://`` was given, the names on a certificate whose
name check failed (issue #8).
"""

from __future__ import annotations

import socket
import ssl
import time
from typing import Any

from wscli.errors import TLSFailure
from wscli.net import connection
from wscli.net.sniff import SNIFF_TIMEOUT  # re-exported
from wscli.net.target import ConnectOptions


def ssl_context(options: ConnectOptions) -> ssl.SSLContext:
    """The client TLS context ``tail`` would use (websocket-client builds the same).

    Raises:
        BadUsage: a --cacert/--cert file that does not exist, --key without --cert.
        TLSFailure: a CA bundle or client certificate that does not load.
    """
    sslopt = connection._ssl_options(options)  # the same option checks and mapping as tail
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if sslopt["cert_reqs"] == ssl.CERT_NONE:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif sslopt.get("ca_certs"):
        try:
            context.load_verify_locations(cafile=sslopt["ca_certs"])
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise TLSFailure(f"cannot load --cacert {options.cacert}: {exc}") from exc
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if sslopt.get("certfile"):
        try:
            context.load_cert_chain(sslopt["certfile"], sslopt.get("keyfile"))
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise TLSFailure(f"cannot load --cert {options.cert}: {exc}") from exc
    return context


def tls_details(tls: ssl.SSLSocket) -> dict[str, Any]:
    """Version, cipher and (when verified) the certificate's subject, SANs, issuer, expiry."""
    cipher = tls.cipher()
    details: dict[str, Any] = {"version": tls.version(), "cipher": cipher[0] if cipher else None}
    cert: dict[str, Any] = dict(tls.getpeercert() or {})
    if not cert:
        details["certificate"] = "not verified (-k)"
        return details

    def name(field_name: str) -> str:
        rdns = cert.get(field_name, ())
        return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)

    not_after = str(cert.get("notAfter", ""))
    details.update(
        subject=name("subject"), issuer=name("issuer"), san=sans(cert), not_after=not_after
    )
    if not_after:
        expires = ssl.cert_time_to_seconds(not_after)
        details["days_left"] = int((expires - time.time()) // 86400)
    return details


def tls_summary(details: dict[str, Any]) -> str:
    """One checklist line: version, cipher, names, issuer, days left."""
    text = f"{details.get('version')} {details.get('cipher')}"
    if "san" in details:
        text += f", for {', '.join(details['san'][:4]) or details.get('subject')}"
        text += f", issuer {details.get('issuer')}, {details.get('days_left')} days left"
    else:
        text += ", certificate not verified (-k)"
    return text


def sans(cert: Any) -> list[str]:
    """The DNS names and IP addresses a (verified) certificate covers."""
    return [str(value) for _, value in cert.get("subjectAltName", ())]


def names_on_certificate(peer: tuple[str, int], options: ConnectOptions) -> list[str]:
    """Which names the certificate covers: a second handshake that skips the name check."""
    relaxed = ssl_context(options)
    relaxed.check_hostname = False
    try:
        with (
            socket.create_connection(peer, timeout=SNIFF_TIMEOUT) as raw,
            relaxed.wrap_socket(raw) as tls,
        ):
            return sans(tls.getpeercert() or {})
    except (OSError, ssl.SSLError):
        return []
