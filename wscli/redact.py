"""Hiding credentials: the one URL redaction function and the header/text redactor.

Every place wscli writes a URL (recordings, the tap, ``-v``, one-line errors,
reports) goes through :func:`redact_url`, so a secret in the userinfo or in a
credential query parameter never reaches a file or a terminal. It works on the
text, not on a parsed URL: it must never fail (an invalid URL is exactly what an
error message quotes), and its output is never parsed again.

Pure and cheap to import (``re`` only): :mod:`wscli.errors` uses it for every
error line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from wscli.frames import OP_CLOSE

REDACTED = "[redacted]"
_REDACTED_BYTES = REDACTED.encode("ascii")
# Userinfo is replaced by a marker that is itself valid userinfo, so a redacted URL
# still parses (``[redacted]@`` does not: brackets in a netloc mean an IPv6 host).
REDACTED_USERINFO = "redacted"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "x-xsrf-token",
    }
)

# Credential query parameters, compared in lower case with "-" as "_". Whole names,
# plus any name ending in one of the suffixes (``refresh_token``, ``client_secret``).
SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "auth",
        "authorization",
        "api_key",
        "apikey",
        "key",
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "signature",
        "sig",
        "jwt",
        "session",
        "sessionid",
        "session_id",
        "code",
        "ticket",
        "credential",
        "credentials",
    }
)
SECRET_PARAM_SUFFIXES = (
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "api_key",
    "_key",
    "signature",
    "credential",
    "sessionid",
    "session_id",
)

# A URL inside free text: scheme, then everything up to whitespace or a quote, less a
# trailing punctuation mark (``redirects to URL: connect`` keeps its colon).
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>`]*[^\s'\"<>`.,:;)]")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")


def is_secret_param(name: str) -> bool:
    """True for a query parameter name that carries a credential, in any letter case."""
    key = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), name).strip().lower().replace("-", "_")
    return key in SECRET_PARAMS or key.endswith(SECRET_PARAM_SUFFIXES)


def _redact_query(query: str) -> str:
    parts = re.split(r"([&;])", query)
    for index in range(0, len(parts), 2):
        name, sep, _value = parts[index].partition("=")
        if sep and is_secret_param(name):
            parts[index] = f"{name}={REDACTED}"
    return "".join(parts)


def redact_url(url: str, secrets: Iterable[str] = ()) -> str:
    """``url`` with its userinfo, credential query values and known secrets hidden.

    ``ws://user:pw@h/x?Token=abc&room=1`` becomes
    ``ws://redacted@h/x?Token=[redacted]&room=1``. A username alone is hidden too (it
    is often a token). Anything that is not a URL is returned with only ``secrets``
    replaced. Never raises.
    """
    text = url
    scheme, sep, rest = text.partition("://")
    if sep:
        cut = len(rest)
        for mark in "/?#":
            found = rest.find(mark)
            if found != -1:
                cut = min(cut, found)
        authority, tail = rest[:cut], rest[cut:]
        if "@" in authority:
            authority = f"{REDACTED_USERINFO}@{authority.rsplit('@', 1)[1]}"
        # The fragment too: OAuth's implicit flow puts ``#access_token=...`` there.
        before_fragment, hashmark, fragment = tail.partition("#")
        path, qmark, query = before_fragment.partition("?")
        tail = path + (qmark + _redact_query(query)) + (hashmark + _redact_query(fragment))
        text = f"{scheme}://{authority}{tail}"
    return redact_text(text, secrets)


def redact_target(target: str, secrets: Iterable[str] = ()) -> str:
    """A request target (``/x?token=abc``) redacted like a URL's path and query."""
    return redact_url(f"x://h{target}", secrets).removeprefix("x://h")


LOCATION_HEADERS = frozenset({"location", "content-location"})


def redact_location(value: str, secrets: Iterable[str] = ()) -> str:
    """A ``Location`` value, absolute (``wss://h/x?access_token=``) or relative (``/x?token=``)."""
    if "://" in value:
        return redact_url(value, secrets)
    return redact_target(value, secrets)


def redact_urls_in_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Every URL found in ``text`` passed through :func:`redact_url` (for error lines)."""
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return redact_text(text, secrets)


_PROCESS_SECRETS: set[str] = set()


def remember_secrets(values: Iterable[str]) -> None:
    """Register this run's credentials so every diagnostic line hides them.

    The last net under the per-connection redaction: an error built far from the
    options (a close reason quoted by a report, a library message) still goes
    through :func:`wscli.errors.safe_line`, which hides these.
    """
    _PROCESS_SECRETS.update(value for value in values if value and len(value) >= 4)


def forget_secrets() -> None:
    """Start a new invocation with no credentials remembered."""
    _PROCESS_SECRETS.clear()


def remembered_secrets() -> frozenset[str]:
    """Every credential :func:`remember_secrets` was given in this process."""
    return frozenset(_PROCESS_SECRETS)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each literal secret (4 characters or more) replaced."""
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def url_secrets(url: str) -> list[str]:
    """The literal secrets a URL carries: its userinfo parts and credential parameter values.

    Registered with the :class:`Redactor` so that the same value is hidden when it
    travels elsewhere (a server echoing the token back in a frame).
    """
    from urllib.parse import unquote

    found: list[str] = []
    _scheme, sep, rest = url.partition("://")
    if not sep:
        return found
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        user, colon, password = authority.rsplit("@", 1)[0].partition(":")
        # A username beside a password is not secret; alone, it often is a token.
        part = password if colon else user
        found += [part, unquote(part)]
    query = rest.partition("?")[2].partition("#")[0]
    for pair in re.split(r"[&;]", query):
        name, eq, value = pair.partition("=")
        if eq and value and is_secret_param(name):
            found += [value, unquote(value.replace("+", " "))]
    return [value for value in dict.fromkeys(found) if value]


def header_secrets(name: str, value: str) -> list[str]:
    """The literal secrets in a request header the user gave (``-H``).

    The whole value, the credential after an auth scheme (``Bearer abc``), and each
    cookie's value, so that any of them is hidden wherever it shows up again.
    """
    name, value = name.strip().lower(), value.strip()
    if name not in SECRET_HEADERS or not value:
        return []
    found = [value, value.split(" ", 1)[-1]]
    if name in ("cookie", "set-cookie"):
        for pair in value.split(";"):
            found.append(pair.partition("=")[2].strip())
    return [item for item in found if item]


class Redactor:
    """Hides credentials in headers, URLs and, as a last net, any text.

    ``secrets`` are literal values (the ``--token``, a URL password) that must not
    appear anywhere a tap writes, whatever field they travel in.
    """

    def __init__(self, secrets: Iterable[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, self.secrets))) if self.secrets else None
        encoded = [re.escape(s.encode("utf-8")) for s in self.secrets]
        self._bytes_pattern = re.compile(b"|".join(encoded)) if encoded else None

    def text(self, value: str) -> str:
        if not self.enabled or self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def payload(self, data: bytes, opcode: int | None = None) -> bytes:
        """A frame payload with known secrets replaced, whatever its opcode.

        Matched on bytes, not decoded text: a binary frame (hex in ``-v``, base64 in
        ``--tap``) or a close frame (whose two code bytes are rarely valid UTF-8)
        echoing the token back must hide it as a text frame does. A close frame's
        code is kept and only its reason is searched.
        """
        if not self.enabled or self._bytes_pattern is None:
            return data
        if opcode == OP_CLOSE and len(data) >= 2:
            return data[:2] + self._bytes_pattern.sub(_REDACTED_BYTES, data[2:])
        return self._bytes_pattern.sub(_REDACTED_BYTES, data)

    def header(self, name: str, value: str) -> str:
        if not self.enabled:
            return value
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            keep = scheme if scheme.lower() in ("bearer", "basic", "token", "digest") else ""
            return f"{keep} {REDACTED}".strip()
        if name.lower() in LOCATION_HEADERS:
            return redact_location(value, self.secrets)
        # Any other header may quote a URL (``Link``, ``Refresh: 0; url=...``).
        return redact_urls_in_text(value, self.secrets)

    def headers(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(name, self.header(name, value)) for name, value in pairs]

    def url(self, url: str) -> str:
        if not self.enabled:
            return url
        return redact_url(url, self.secrets)

    def target(self, target: str) -> str:
        """An HTTP request target (``/path?query``) with its credential parameters hidden."""
        if not self.enabled:
            return target
        return redact_target(target, self.secrets)
