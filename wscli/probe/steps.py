"""``wscli probe``'s network steps: URL, resolve, TCP per address, proxy, TLS, upgrade,
first message, ping, then the CI checks' listening window.

Probe does the steps below the WebSocket layer itself (``getaddrinfo``, one TCP connect
per address, ``ssl``), each timed, then hands the connected socket to
:func:`wscli.net.connection.open_connection` for the upgrade, so headers, tap, ``--max-size``
and error words are the ones ``tail`` uses (issue #8). Every failure still becomes a
:class:`~wscli.errors.WscliError` through :func:`wscli.net.connection.classify`; this module
adds only what a step-by-step view knows (which address, which proxy, which certificate).
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from wscli.errors import (
    ConnectionRefused,
    ExitStatus,
    NameResolutionFailed,
    TimedOut,
    TLSFailure,
    WscliError,
)
from wscli.net import connection, hints
from wscli.net.connection import classify
from wscli.net.resolving import ResolveTimeout, resolve_within
from wscli.net.sniff import speaks_plain_http, speaks_tls
from wscli.net.tap import Redactor, Tap
from wscli.net.target import ConnectOptions
from wscli.probe.checks import (
    FAILED,
    NOT_RUN,
    OK,
    SKIPPED,
    STEP_NAMES,
    CheckResult,
    Plan,
    Step,
    StepFailed,
    Window,
    evaluate,
)
from wscli.probe.stream import StreamCheck
from wscli.probe.tls import (
    names_on_certificate,
    ssl_context,
    tls_details,
    tls_summary,
)

if TYPE_CHECKING:
    from wscli.checks.schema import Validator

Resolver = Callable[[str, int], list[tuple[int, str]]]
INTERESTING_HEADERS = ("upgrade", "sec-websocket-protocol", "server", "via")


@dataclass
class ProbeResult:
    """Everything a report needs: the steps, the checks and the verdict."""

    url: str
    steps: list[Step]
    checks: list[CheckResult] = field(default_factory=list)
    window: Window | None = None
    exit_code: int = ExitStatus.OK
    error: WscliError | None = None
    interrupted: KeyboardInterrupt | None = None
    lost: WscliError | None = None  # the stream closed or dropped inside the checks' window
    seconds: float = 0.0
    not_measured: str = "the connection failed first"  # why checks were skipped

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitStatus.OK


def parse_resolve(entries: tuple[str, ...]) -> dict[tuple[str, int], list[str]]:
    """curl's ``--resolve HOST:PORT:ADDR[,ADDR...]``, as {(host, port): [addr, ...]}.

    Raises:
        ValueError: an entry that is not HOST:PORT:ADDR.
    """
    table: dict[tuple[str, int], list[str]] = {}
    for entry in entries:
        host, sep, rest = entry.partition(":")
        port, sep2, addrs = rest.partition(":")
        if not (sep and sep2 and host and port.isdigit() and addrs):
            raise ValueError(f"--resolve {entry!r} is not HOST:PORT:ADDR[,ADDR...]")
        table[(host.lower(), int(port))] = [a.strip("[] ") for a in addrs.split(",") if a.strip()]
    return table


def system_resolver(overrides: dict[tuple[str, int], list[str]]) -> Resolver:
    """``getaddrinfo`` in the system's order, unless ``--resolve`` names the host."""

    def resolve(host: str, port: int) -> list[tuple[int, str]]:
        fixed = overrides.get((host.lower(), port))
        if fixed is not None:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, a) for a in fixed]
        found: list[tuple[int, str]] = []
        for family, _, _, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
            address = str(sockaddr[0])
            if (family, address) not in found:
                found.append((family, address))
        return found

    return resolve


class Probe:
    """Runs the steps in order; the first failure stops the chain (later ones: not run)."""

    def __init__(
        self,
        options: ConnectOptions,
        *,
        tap: Tap,
        plan: Plan,
        resolver: Resolver,
        validator: Validator | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.options = options
        self.tap = tap
        self.redactor: Redactor = tap.redactor
        self.plan = plan
        self.resolver = resolver
        self.validator = validator
        self.clock = clock
        self.steps = {name: Step(name) for name in STEP_NAMES}
        parts = urlsplit(options.url)
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "wss" else 80)
        self.proxy = connection.proxy_source(options)
        self.sock: socket.socket | None = None
        self.stream: StreamCheck | None = None
        self.addresses: list[tuple[int, str]] = []

    # -- the chain ------------------------------------------------------------------------

    def run(self) -> ProbeResult:
        """Every step, then the checks; never raises for a failed step or Ctrl-C."""
        import wscli.messages
        import wscli.net.transport  # noqa: F401  (imported now so no step's time includes it)

        started = self.clock()
        result = ProbeResult(
            url=self.redactor.url(self.options.url), steps=list(self.steps.values())
        )
        chain: list[tuple[str, Callable[[Step], None]]] = [
            ("url", self._url),
            ("resolve", self._resolve),
            ("tcp", self._tcp),
            ("proxy", self._proxy),
            ("tls", self._tls),
            ("upgrade", self._upgrade),
            ("first message", self._first_message),
            ("ping", self._ping),
        ]
        try:
            for name, action in chain:
                step = self.steps[name]
                if step.status == SKIPPED:
                    continue
                if not self._timed(step, action):
                    result.error = self._error
                    break
            if result.error is None and self.plan.checking and self.stream is not None:
                self.stream.listen()
        except KeyboardInterrupt as exc:
            result.interrupted = exc
            running = next((s for s in self.steps.values() if s.status == "running"), None)
            if running is not None:
                self._interrupted_in = running.name
                running.status, running.error = FAILED, "interrupted"
                running.seconds = self.clock() - self._step_started
        finally:
            self._close()
        for step in self.steps.values():
            if step.status == "running":
                step.status = NOT_RUN
        result.seconds = self.clock() - started
        stream = self.stream
        measured = stream is not None and (result.error is None or stream.expectation_failed)
        if self.plan.checking and stream is not None and measured and not result.interrupted:
            window = stream.window
            window.seconds = window.seconds or (self.clock() - stream.upgraded_at)
            result.window = window
            result.lost = stream.lost
            result.checks = evaluate(self.plan, window)
        else:
            if result.interrupted is not None:
                result.not_measured = self._cut_short(result.interrupted)
            result.checks = evaluate(self.plan, None)
        result.exit_code = self._exit_code(result)
        return result

    _error: WscliError | None = None
    _step_started = 0.0
    _blame: str | None = None  # the step a later step's failure belongs to (the proxy's 407)
    _interrupted_in = ""

    def _cut_short(self, interrupted: KeyboardInterrupt) -> str:
        """Why the checks were not measured, when a signal ended the run."""
        from wscli.endings import interrupt_reason

        how = interrupt_reason(interrupted)
        stream = self.stream
        if self._interrupted_in:
            return f"{how} during the {self._interrupted_in} step, before the checks' window"
        if stream is None or self._error is not None:
            return f"{how} before the checks' window began"
        listened = self.clock() - stream.upgraded_at
        count = stream.window.count
        noun = "message" if count == 1 else "messages"
        return (
            f"{how} {listened:.1f} s into the {self.plan.window:g} s window ({count:,} {noun} seen)"
        )

    def _timed(self, step: Step, action: Callable[[Step], None]) -> bool:
        step.status = "running"
        self._step_started = self.clock()
        try:
            action(step)
        except StepFailed as failed:
            step.seconds = self.clock() - self._step_started
            blamed = self.steps[self._blame] if self._blame else step
            if blamed is not step:  # an earlier step's failure, seen only now
                step.status, step.seconds = NOT_RUN, None
            self._fail(blamed, failed.error)
            return False
        except WscliError as exc:
            self._fail(step, exc)
            return False
        finally:
            if step.status != NOT_RUN:
                step.seconds = self.clock() - self._step_started
        step.status = OK
        return True

    def _fail(self, step: Step, error: WscliError) -> None:
        step.status = FAILED
        # The same redacted words on stderr, in every report and in the JUnit file.
        step.error = self.redactor.text(error.message)
        _set_message(error, step.error)
        error.hint = step.hint = self.redactor.text(error.hint) if error.hint else None
        step.exit_code = int(error.exit_code)
        if not step.summary:
            step.summary = step.error
        self._error = error

    def _exit_code(self, result: ProbeResult) -> int:
        if result.interrupted is not None:
            from wscli.errors import interrupt_status

            return int(interrupt_status(result.interrupted))
        if result.error is not None:
            return int(result.error.exit_code)
        if result.lost is not None:
            return int(result.lost.exit_code)
        if any(a.ok is False for a in result.checks):
            return int(ExitStatus.CHECK_FAILED)
        return int(ExitStatus.OK)

    # -- steps ----------------------------------------------------------------------------

    def _url(self, step: Step) -> None:
        parts = urlsplit(self.options.url)
        step.details = {
            "url": self.redactor.url(self.options.url),
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": parts.path or "/",
        }
        note = ""
        if not parts.path or parts.path == "/":
            note = " (no path: most servers serve WebSockets on one, e.g. /api/ws/sensor/stream)"
            step.details["note"] = note.strip(" ()")
        default = "" if parts.port else " (default)"
        step.summary = f"{self.scheme}://{self.host} port {self.port}{default}{note}"
        if self.scheme == "ws":
            self.steps["tls"].status = SKIPPED
            self.steps["tls"].summary = "not used (ws://)"
        if self.proxy is None:
            self.steps["proxy"].status = SKIPPED
            self.steps["proxy"].summary = "none"
        else:
            value, source = self.proxy
            self.steps["proxy"].summary = f"{self.redactor.url(value)} from {source}"

    def _target(self) -> tuple[str, int, str]:
        """Where TCP goes: the proxy when one applies, else the URL's host."""
        if self.proxy is not None:
            value = self.proxy[0]
            proxy = urlsplit(value if "://" in value else f"http://{value}")
            kind = proxy.scheme.lower()
            port = proxy.port or (1080 if kind.startswith("socks") else 80)
            return proxy.hostname or "", port, f"proxy {proxy.hostname}:{port} ({self.proxy[1]})"
        return self.host, self.port, f"{self.host}"

    def _resolve(self, step: Step) -> None:
        host, port, label = self._target()
        try:
            addresses = resolve_within(
                self.options.connect_timeout, host, lambda: self.resolver(host, port)
            )
        except ResolveTimeout as exc:
            from wscli.net.handshake import ConnectTimeout

            raise StepFailed(classify(ConnectTimeout("dns"), self.options)) from exc
        except (socket.gaierror, UnicodeError) as exc:
            error = classify(
                exc
                if isinstance(exc, socket.gaierror)
                else socket.gaierror(socket.EAI_NONAME, str(exc)),
                self.options,
            )
            if self.proxy is not None:
                error.hint = hints.proxy_hint(self.proxy[1])
                _set_message(error, f"cannot resolve the {label}")
            raise StepFailed(error) from exc
        if not addresses:
            raise StepFailed(
                NameResolutionFailed(
                    f"{host!r} resolved to no address", hint="check the host name and --resolve"
                )
            )
        self.addresses = addresses
        step.details = {"host": host, "addresses": [a for _, a in addresses]}
        if self.proxy is not None:
            step.details["proxy"] = True
        shown = ", ".join(a for _, a in addresses)
        step.summary = f"{host} -> {shown}" if shown != host else shown
        if self.proxy is not None:
            step.summary = f"{label}: {step.summary}"

    def _tcp(self, step: Step) -> None:
        host, port, label = self._target()
        tries: list[dict[str, Any]] = []
        step.details = {"port": port, "addresses": tries}
        last: BaseException | None = None
        for index, (family, address) in enumerate(self.addresses):
            began = self.clock()
            sock = None
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.settimeout(self.options.connect_timeout)
                sock.connect((address, port))
            except OSError as exc:
                if sock is not None:
                    sock.close()
                last = exc
                tries.append(
                    {
                        "address": address,
                        "result": _tcp_outcome(exc),
                        "seconds": round(self.clock() - began, 4),
                    }
                )
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
            tries.append(
                {
                    "address": address,
                    "result": "connected",
                    "seconds": round(self.clock() - began, 4),
                }
            )
            tries.extend(
                {"address": a, "result": "not tried"} for _, a in self.addresses[index + 1 :]
            )
            refused = [t["address"] for t in tries if t["result"] == "refused"]
            if refused and any((":" in r) != (":" in address) for r in refused):
                step.hint = hints.family_mismatch_hint(refused, address, port)
            break
        step.summary = "; ".join(
            f"{_join(t['address'], port)} {t['result']}"
            for t in tries
            if t["result"] != "not tried"
        )
        if self.proxy is not None:
            step.summary = f"to the proxy: {step.summary}"
        if self.sock is not None:
            return
        assert last is not None
        error = classify(last, self.options)
        if isinstance(last, socket.timeout | TimeoutError):
            error = TimedOut(
                f"TCP connect to {label} port {port} timed out after"
                f" {self.options.connect_timeout:g} s",
                where=self.options.where,
                hint="a firewall may drop the packets, or the host is down",
            )
        if self.proxy is not None:
            error = ConnectionRefused(
                f"cannot reach the {label}: {tries[-1]['result']}",
                where=self.options.where,
                hint=hints.proxy_hint(self.proxy[1]),
            )
        elif isinstance(error, ConnectionRefused) and "refused" in error.message:
            addresses = ", ".join(a["address"] for a in tries)
            _set_message(error, f"connection refused on port {port} ({addresses})")
        raise StepFailed(error)

    def _proxy(self, step: Step) -> None:
        """The proxy answered TCP; the tunnel itself is made by the upgrade (the library)."""
        assert self.proxy is not None
        value, source = self.proxy
        step.details = {"proxy": self.redactor.url(value), "source": source, "reached": True}
        step.summary = f"{self.redactor.url(value)} from {source} reached"
        # The library opens its own connection through the proxy (CONNECT or SOCKS),
        # so probe's socket only proved the proxy is there.
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.scheme == "wss":
            tls = self.steps["tls"]
            tls.status = SKIPPED
            tls.summary = "through the proxy: done during the upgrade"

    def _tls(self, step: Step) -> None:
        assert self.sock is not None
        context = ssl_context(self.options)
        self.sock.settimeout(self.options.connect_timeout)
        try:
            tls = context.wrap_socket(self.sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError as exc:
            self.sock = None
            raise StepFailed(self._verify_error(exc)) from exc
        except (ssl.SSLError, OSError) as exc:
            self.sock = None
            error = classify(exc, self.options)
            if speaks_plain_http(self.peer, self.host):
                error = connection.plain_port_error(self.options.where, scheme=self.scheme)
            elif not isinstance(error, TLSFailure) and not isinstance(error, TimedOut):
                error = TLSFailure(
                    f"TLS handshake failed: {error.message}", where=error.where, hint=error.hint
                )
            raise StepFailed(error) from exc
        self.sock = tls
        step.details = tls_details(tls)
        step.summary = tls_summary(step.details)

    def _verify_error(self, exc: ssl.SSLCertVerificationError) -> WscliError:
        names: list[str] = []
        if exc.verify_code in (62, 64):  # X509_V_ERR_HOSTNAME_MISMATCH, _IP_ADDRESS_MISMATCH
            names = names_on_certificate(self.peer, self.options)
        reason = hints.tls_verify_reason(exc.verify_code, str(exc.verify_message), self.host, names)
        error = TLSFailure(
            reason, where=self.options.where, hint=hints.tls_verify_hint(exc.verify_code)
        )
        return error

    @property
    def peer(self) -> tuple[str, int]:
        """The address TCP connected to, for the sniffs that connect again."""
        tcp = self.steps["tcp"].details.get("addresses", [])
        connected = next((t["address"] for t in tcp if t["result"] == "connected"), self.host)
        return connected, self.port

    def _first_message(self, step: Step) -> None:
        assert self.stream is not None
        self.stream.first_message(step)

    def _ping(self, step: Step) -> None:
        assert self.stream is not None
        self.stream.ping(step)

    def _upgrade(self, step: Step) -> None:
        sock, self.sock = self.sock, None
        began = self.clock()
        try:
            ws, handshake = connection.open_connection(self.options, self.tap, sock=sock)
        except WscliError as exc:
            if sock is not None:
                sock.close()
            raise StepFailed(self._upgrade_error(exc, step)) from exc
        upgraded_at = self.clock()
        self.stream = StreamCheck(
            ws,
            self.options,
            self.plan,
            validator=self.validator,
            upgraded_at=upgraded_at,
            redact=self.redactor.text,
        )
        headers = {k.lower(): v for k, v in handshake.response}
        shown = {k: headers[k] for k in INTERESTING_HEADERS if k in headers}
        step.details = {"status": handshake.status, "headers": shown}
        if handshake.subprotocol:
            step.details["subprotocol"] = handshake.subprotocol
        step.summary = f"HTTP {handshake.status} in {(upgraded_at - began) * 1000:.0f} ms"
        if "server" in shown:
            step.summary += f", server {shown['server']}"
        if self.proxy is not None and self.scheme == "wss":
            tls_sock = ws.sock
            if isinstance(tls_sock, ssl.SSLSocket):
                tls = self.steps["tls"]
                tls.status, tls.details = OK, tls_details(tls_sock)
                tls.summary = f"{tls_summary(tls.details)} (through the proxy, in the upgrade)"

    def _upgrade_error(self, error: WscliError, step: Step) -> WscliError:
        cause = error.__cause__
        status = getattr(error, "status", None)
        if status is not None:
            response = dict((getattr(cause, "resp_headers", None) or {}).items())
            headers = {k.lower(): v for k, v in response.items()}
            step.details = {
                "status": status,
                "headers": {k: headers[k] for k in INTERESTING_HEADERS if k in headers},
            }
            shown_headers = step.details["headers"]
            if shown_headers:
                said = ", ".join(f"{k}: {v}" for k, v in shown_headers.items())
                step.summary = f"{error.message} [{said}]"
            if "location" in headers:
                step.details["location"] = self.redactor.header("location", headers["location"])
            if status in (401, 403):
                sent = connection.request_headers_for_tap(self.options, self.options.header_pairs())
                wanted = ("origin", "authorization", "cookie", "sec-websocket-protocol")
                shown = [(k, v) for k, v in self.redactor.headers(sent) if k.lower() in wanted]
                step.details["sent"] = dict(shown)
                if error.hint:
                    said = ", ".join(f"{k}: {v}" for k, v in shown) or "no Origin or credentials"
                    error.hint = f"{error.hint} (sent: {said})"
            return error
        if isinstance(error, TimedOut):
            return error
        if (
            self.proxy is not None
            and isinstance(cause, Exception)
            and "proxy" in type(cause).__name__.lower()
        ):
            proxy = self.steps["proxy"]
            proxy.details["reached"] = False
            if "407" in str(cause):  # the proxy is up and wants credentials, as tail says
                proxy.details["status"] = 407
                error.hint = f"{error.hint}; the proxy comes from {self.proxy[1]}"
            else:
                error.hint = hints.proxy_hint(self.proxy[1])
            self._blame = "proxy"
            return error
        if self.scheme == "ws" and speaks_tls(self.peer, self.host):
            return connection.tls_port_error(self.options.where)
        return error

    def _close(self) -> None:
        if self.stream is not None:
            self.stream.close()  # its window stays readable for the checks
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _set_message(error: WscliError, message: str) -> None:
    """Reword a classified error (click types ``message`` as final; it is a plain attribute)."""
    setattr(error, "message", message)  # noqa: B010


def _tcp_outcome(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return "unreachable"
    return exc.strerror or str(exc)


def _join(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def url_failure(url: str, error: WscliError, redactor: Redactor) -> ProbeResult:
    """The report for a URL that cannot be probed at all (http://, no host): exit 2."""
    steps = [Step(name) for name in STEP_NAMES]
    first = steps[0]
    first.status, first.seconds = FAILED, 0.0
    first.error = first.summary = redactor.text(error.message)
    first.hint = redactor.text(error.hint) if error.hint else None
    first.exit_code = int(error.exit_code)
    first.details = {"url": redactor.url(url)}
    return ProbeResult(url=redactor.url(url), steps=steps, error=error, exit_code=first.exit_code)
