"""How each client behaved on the wire, and whether that matches what was expected.

``serve`` and ``tap`` see every connection attempt; neither can tell from one
connection whether a client backs off, gives up or keeps alive as designed. This
module keeps a timeline per client (identified by address, ``User-Agent`` and an
optional key the user chooses), classifies the reconnect delays into a schedule
(``exponential ×2 from 1 s``, ``linear 1 s steps``, ``constant``, ``immediate``) and
judges the ``--expect-*`` options. No I/O and no clock of its own beyond
``time.monotonic`` as a default: tests feed synthetic timelines with ``at=``.

Memory stays bounded: a client keeps at most :data:`MAX_CONNECTIONS` connections in
detail (older ones only in the counts) and pings are summarised, not listed.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_CONNECTIONS = 1000  # per client, kept in detail; the rest only counted
MAX_CLIENTS = 10_000  # distinct clients kept; later ones share one overflow entry
MAX_KEPT = 100_000  # connections kept in detail over all clients (about 30 MB)
IMMEDIATE_S = 0.1  # a reconnect this soon after the ending did not back off at all
ABS_TOL_S = 0.05  # jitter of timers and of the loopback, in seconds
REL_TOL = 0.12  # ... and as a share of the delay the model predicts
MIN_RATIO = 1.3  # below this growth factor a schedule is not called exponential
HERD_WINDOW_S = 0.05  # reconnects this close together after one drop are a herd
HERD_MIN = 3  # ... when at least this many clients (and most of them) do it
GAVE_UP_FACTOR = 1.5  # silent this many times its longest delay: it gave up
GAVE_UP_MIN_S = 0.5
PING_SLACK = 1.5  # --expect-ping-every S fails a gap over 1.5 x S

# How a connection ended, from the client's point of view: whether it should reconnect.
BY_CLIENT = "client"  # the client closed or went away: it chose to leave
BY_SERVER = "server"  # the server (or a fault) ended it: a reconnect is expected
REFUSED = "refused"  # the handshake was refused: a reconnect (with backoff) is expected
SHUTDOWN = "shutdown"  # our own shutdown ended it: not judged

BACKOFF_KINDS = ("exponential", "linear", "constant", "any")


def seconds(value: float) -> str:
    """``1.0 s``, ``0.25 s``: delays as the text report shows them."""
    return f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"


def _close_to(measured: float, model: float) -> bool:
    return abs(measured - model) <= max(ABS_TOL_S, REL_TOL * abs(model))


def _number(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


# -- one connection and one client ---------------------------------------------------------


@dataclass
class Connection:
    """One connection attempt, from the request to its ending."""

    start: float
    upgraded: float | None = None  # when the upgrade finished (None: refused or failed)
    end: float | None = None
    ending: str = ""  # e.g. "closed 1000 by client", "dropped by server", "refused 503"
    by: str = ""  # BY_CLIENT, BY_SERVER, REFUSED or SHUTDOWN
    from_client: int = 0
    from_server: int = 0
    client_pings: int = 0
    last_ping: float | None = None
    max_ping_gap: float = 0.0  # longest time without a client ping while open
    server_pings: int = 0
    client_pongs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    # Feeding: called by the server's or the proxy's connection, any thread.

    def opened(self, *, at: float | None = None) -> None:
        self.upgraded = time.monotonic() if at is None else at

    def message(self, direction: str) -> None:
        """``direction`` is ``"out"`` (client to server) or ``"in"``."""
        if direction == "out":
            self.from_client += 1
        else:
            self.from_server += 1

    def ping(self, direction: str, *, at: float | None = None) -> None:
        """A ping frame: ``"out"`` sent by the client, ``"in"`` sent to it by the server."""
        if direction != "out":
            self.server_pings += 1
            return
        now = time.monotonic() if at is None else at
        with self._lock:
            since = self.last_ping if self.last_ping is not None else (self.upgraded or self.start)
            self.max_ping_gap = max(self.max_ping_gap, now - since)
            self.last_ping = now
            self.client_pings += 1

    def pong(self, direction: str) -> None:
        if direction == "out":
            self.client_pongs += 1

    def ended(self, ending: str, by: str, *, at: float | None = None) -> None:
        """The first ending counts; later ones (both sides noticing) are ignored."""
        with self._lock:
            if self.end is not None:
                return
            self.end = time.monotonic() if at is None else at
            self.ending, self.by = ending, by
            if self.upgraded is not None:
                since = self.last_ping if self.last_ping is not None else self.upgraded
                self.max_ping_gap = max(self.max_ping_gap, self.end - since)

    @property
    def established(self) -> bool:
        return self.upgraded is not None and self.by != REFUSED

    def open_for(self, now: float) -> float:
        if self.upgraded is None:
            return 0.0
        return (self.end if self.end is not None else now) - self.upgraded


@dataclass
class Client:
    """Everything one client did, oldest connection first."""

    number: int
    address: str
    user_agent: str
    key: str | None
    connections: list[Connection] = field(default_factory=list)
    earlier: int = 0  # connections no longer kept in detail (MAX_CONNECTIONS)

    @property
    def name(self) -> str:
        return self.key if self.key else f"c{self.number}"

    @property
    def connects(self) -> int:
        return self.earlier + len(self.connections)


class ClientBook:
    """Every client's timeline, fed by ``serve`` or ``tap`` from any thread.

    Args:
        client_key: a query parameter or cookie name whose value tells clients apart
            (``--client-key``); without it a client is its address and User-Agent.
    """

    def __init__(self, client_key: str | None = None) -> None:
        self.client_key = client_key
        self.clients: dict[tuple[str, str, str | None], Client] = {}
        self.started = time.monotonic()
        self.kept = 0  # connections held in detail, over all clients
        self._lock = threading.Lock()

    def identify(self, path: str, headers: Any) -> str | None:
        """The ``--client-key`` value from the query string or a cookie, if any."""
        if not self.client_key:
            return None
        values = parse_qs(urlsplit(path).query).get(self.client_key)
        if values:
            return str(values[0])
        for cookie in headers.get_all("Cookie") if hasattr(headers, "get_all") else []:
            for part in cookie.split(";"):
                name, _, value = part.strip().partition("=")
                if name == self.client_key:
                    return str(value)
        return None

    def attempt(
        self,
        address: str,
        user_agent: str = "",
        key: str | None = None,
        *,
        at: float | None = None,
    ) -> Connection:
        """A new connection attempt (the upgrade request arrived); returns its record."""
        conn = Connection(start=time.monotonic() if at is None else at)
        ident = (address, user_agent, key)
        with self._lock:
            client = self.clients.get(ident)
            if client is None:
                if len(self.clients) >= MAX_CLIENTS:
                    ident = ("(more clients)", "", None)
                    client = self.clients.get(ident)
                if client is None:
                    client = Client(len(self.clients) + 1, ident[0], ident[1], ident[2])
                    self.clients[ident] = client
            if len(client.connections) >= MAX_CONNECTIONS or (
                self.kept >= MAX_KEPT and client.connections
            ):
                client.connections.pop(0)
                client.earlier += 1
                self.kept -= 1
            client.connections.append(conn)
            self.kept += 1
        return conn

    def snapshot(self) -> list[Client]:
        with self._lock:
            return list(self.clients.values())


def host_of(peer: str) -> str:
    """``127.0.0.1`` from ``127.0.0.1:51234``: a client's port changes on every connect."""
    if peer.startswith("["):
        return peer[1 : peer.find("]")]
    return peer.rpartition(":")[0] or peer


# -- schedules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """The reconnect schedule a client follows: ``kind`` for machines, ``label`` for people."""

    kind: str  # none | immediate | single | constant | linear | exponential | unclear | irregular
    label: str


def classify(delays: list[float]) -> Schedule:
    """Name the schedule the delays follow, with tolerance for jitter and a cap."""
    n = len(delays)
    if n == 0:
        return Schedule("none", "no reconnects")
    if all(d <= IMMEDIATE_S for d in delays):
        return Schedule("immediate", "immediate")
    if n == 1:
        return Schedule("single", f"one reconnect after {seconds(delays[0])}")
    middle = statistics.median(delays)
    if all(_close_to(d, middle) for d in delays):
        return Schedule("constant", f"constant {seconds(middle)}")
    for body, cap in _with_and_without_cap(delays):
        fitted = _fit_growth(body)
        if fitted is not None:
            kind, label = fitted
            if cap is not None:
                label += f", capped at {seconds(cap)}"
            return Schedule(kind, label)
    if n == 2:
        return Schedule("unclear", "too few reconnects to tell")
    return Schedule("irregular", "irregular")


def _with_and_without_cap(delays: list[float]) -> list[tuple[list[float], float | None]]:
    """The delays as they are, then without a trailing run at the maximum (a cap)."""
    options: list[tuple[list[float], float | None]] = [(delays, None)]
    top = max(delays)
    cut = len(delays)
    while cut > 0 and _close_to(delays[cut - 1], top):
        cut -= 1
    if 0 < cut < len(delays) and len(delays) - cut >= 2:
        options.append((delays[:cut], top))
    return options


def _fit_growth(body: list[float]) -> tuple[str, str] | None:
    """Linear or exponential growth through the first and last delays, if every one fits."""
    n = len(body)
    if n < 3 or body[0] <= 0:
        return None
    fits: list[tuple[float, str, str]] = []
    first = body[0]
    step = (body[-1] - first) / (n - 1)
    linear = [first + i * step for i in range(n)]
    if step > ABS_TOL_S and all(_close_to(d, m) for d, m in zip(body, linear, strict=True)):
        label = f"linear {seconds(step)} steps"
        if not _close_to(first, step):
            label += f" from {seconds(first)}"
        fits.append((_error(body, linear), "linear", label))
    ratio = (body[-1] / first) ** (1 / (n - 1))
    expo = [first * ratio**i for i in range(n)]
    if ratio >= MIN_RATIO and all(_close_to(d, m) for d, m in zip(body, expo, strict=True)):
        fits.append(
            (
                _error(body, expo),
                "exponential",
                f"exponential ×{_number(ratio)} from {seconds(first)}",
            )
        )
    if not fits:
        return None
    _, kind, label = min(fits)
    return kind, label


def _error(measured: list[float], model: list[float]) -> float:
    return sum(abs(a - b) / max(b, ABS_TOL_S) for a, b in zip(measured, model, strict=True))


# -- the verdict ----------------------------------------------------------------------------


@dataclass
class Expectations:
    """The ``--expect-*`` options; ``None``/``False`` means not asked."""

    backoff: str | None = None
    max_attempts: int | None = None
    reconnect_within: float | None = None
    ping_every: float | None = None
    jitter: bool = False

    @property
    def any(self) -> bool:
        return (
            any(
                v is not None
                for v in (self.backoff, self.max_attempts, self.reconnect_within, self.ping_every)
            )
            or self.jitter
        )


@dataclass
class Outcome:
    """One expectation judged for one client (``client`` is None for the whole fleet)."""

    name: str
    client: str | None
    ok: bool
    measured: str
    expected: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "client": self.client,
            "ok": self.ok,
            "measured": self.measured,
            "expected": self.expected,
        }


@dataclass
class ClientSummary:
    """What the reports say about one client."""

    client: Client
    delays: list[float]
    gave_up: bool
    schedule: Schedule
    attempts: int  # the longest run of reconnect attempts before one stayed up
    pings_sent: int
    ping_interval: float | None
    server_pings: int
    answered_server_pings: bool | None
    endings: list[str]
    upgrade_s: float | None

    def as_dict(self) -> dict[str, Any]:
        c = self.client
        return {
            "client": c.name,
            "address": c.address,
            "user_agent": c.user_agent,
            "key": c.key,
            "connects": c.connects,
            "reconnect_delays_s": [round(d, 3) for d in self.delays],
            "gave_up": self.gave_up,
            "schedule": self.schedule.label,
            "schedule_kind": self.schedule.kind,
            "max_attempts": self.attempts,
            "upgrade_s": None if self.upgrade_s is None else round(self.upgrade_s, 4),
            "pings_sent": self.pings_sent,
            "ping_interval_s": None if self.ping_interval is None else round(self.ping_interval, 3),
            "server_pings": self.server_pings,
            "answered_server_pings": self.answered_server_pings,
            "messages_from_client": sum(x.from_client for x in c.connections),
            "messages_to_client": sum(x.from_server for x in c.connections),
            "endings": self.endings,
        }

    def delays_text(self) -> str:
        parts = [seconds(d) for d in self.delays]
        if self.gave_up:
            parts.append("gave up")
        return ", ".join(parts) if parts else "none"


def summarise(client: Client, now: float) -> ClientSummary:
    """Delays, schedule, attempts and keep-alive of one client, as of ``now``."""
    conns = client.connections
    delays: list[float] = []
    attempts = streak = 0
    in_streak = False
    for before, after in zip(conns, conns[1:], strict=False):
        if before.end is None or after.start < before.end:
            continue  # open side by side (a second tab): not a reconnect
        delays.append(after.start - before.end)
        if before.by in (BY_SERVER, REFUSED):
            in_streak = True
        if in_streak:
            streak += 1
            attempts = max(attempts, streak)
            if after.established:
                in_streak, streak = False, 0
    last = conns[-1] if conns else None
    # Quiet for longer than its own longest wait (and half a second) after a server-side
    # ending: the client stopped trying; sooner it may still be waiting its turn.
    patience = max(GAVE_UP_FACTOR * max(delays, default=0.0), GAVE_UP_MIN_S)
    gave_up = (
        last is not None
        and last.end is not None
        and last.by in (BY_SERVER, REFUSED)
        and now - last.end > patience
    )
    pings = sum(c.client_pings for c in conns)
    open_time = sum(c.open_for(now) for c in conns if c.client_pings)
    interval = open_time / pings if pings else None
    server_pings = sum(c.server_pings for c in conns)
    pongs = sum(c.client_pongs for c in conns)
    answered = None if server_pings == 0 else pongs >= server_pings - len(conns)
    upgrades = [c.upgraded - c.start for c in conns if c.upgraded is not None]
    return ClientSummary(
        client=client,
        delays=delays,
        gave_up=gave_up,
        schedule=classify(delays),
        attempts=attempts,
        pings_sent=pings,
        ping_interval=interval,
        server_pings=server_pings,
        answered_server_pings=answered,
        endings=[c.ending or "open" for c in conns],
        upgrade_s=statistics.median(upgrades) if upgrades else None,
    )


@dataclass
class Verdict:
    """Every client's summary and every expectation's outcome."""

    clients: list[ClientSummary]
    outcomes: list[Outcome]
    elapsed: float
    stopped: str = ""  # "interrupted" / "terminated": the run did not end as planned

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes) and not self.stopped


def judge(
    book: ClientBook, expect: Expectations, *, now: float | None = None, stopped: str = ""
) -> Verdict:
    """Summarise every client of ``book`` and judge ``expect`` against them."""
    now = time.monotonic() if now is None else now
    summaries = [summarise(c, now) for c in book.snapshot() if c.connections]
    outcomes: list[Outcome] = []
    for s in summaries:
        outcomes.extend(_judge_client(s, expect, now))
    if expect.jitter:
        outcomes.append(_judge_herd(summaries))
    if expect.any and not summaries:  # nothing seen is no evidence of good behaviour
        outcomes.append(Outcome("clients", None, False, "no client connected", "at least one"))
    return Verdict(summaries, outcomes, now - book.started, stopped)


def _judge_client(s: ClientSummary, expect: Expectations, now: float) -> list[Outcome]:
    name = s.client.name
    out: list[Outcome] = []
    delays = ", ".join(seconds(d) for d in s.delays) or "none"
    if expect.backoff is not None:
        wanted = expect.backoff
        kind = s.schedule.kind
        if wanted == "any":
            ok = kind not in ("none", "immediate")
        else:
            ok = kind == wanted
        out.append(
            Outcome(
                "backoff",
                name,
                ok,
                f"{s.schedule.label} ({delays})",
                wanted if wanted != "any" else "any backoff (not immediate)",
            )
        )
    if expect.max_attempts is not None:
        ok = s.attempts <= expect.max_attempts
        out.append(
            Outcome(
                "max-attempts",
                name,
                ok,
                f"{s.attempts} attempts in a row",
                f"at most {expect.max_attempts}",
            )
        )
    if expect.reconnect_within is not None:
        out.append(_judge_reconnect_within(s, expect.reconnect_within, now))
    if expect.ping_every is not None:
        out.append(_judge_pings(s, expect.ping_every, now))
    return out


def _judge_reconnect_within(s: ClientSummary, limit: float, now: float) -> Outcome:
    """The first reconnect after each server-side ending comes within ``limit``."""
    conns = s.client.connections
    worst: float | None = None
    missing = 0
    for i, conn in enumerate(conns):
        if conn.by not in (BY_SERVER, REFUSED) or conn.end is None:
            continue
        if i + 1 < len(conns):
            delay = conns[i + 1].start - conn.end
            worst = delay if worst is None else max(worst, delay)
        elif now - conn.end > limit:
            missing += 1  # had the time and never came back
    expected = f"within {seconds(limit)}"
    if missing:
        return Outcome("reconnect-within", s.client.name, False, "never reconnected", expected)
    if worst is None:
        return Outcome(
            "reconnect-within",
            s.client.name,
            False,
            "no server-side ending to reconnect after",
            expected,
        )
    return Outcome(
        "reconnect-within",
        s.client.name,
        worst <= limit,
        f"slowest reconnect {seconds(worst)}",
        expected,
    )


def _judge_pings(s: ClientSummary, every: float, now: float) -> Outcome:
    """Every connection open longer than 1.5 x ``every`` has no longer gap between pings."""
    limit = PING_SLACK * every
    expected = f"a ping at least every {seconds(every)} (no gap over {seconds(limit)})"
    judged = [c for c in s.client.connections if c.open_for(now) > limit]
    name = s.client.name
    if not judged:
        return Outcome(
            "ping-every", name, False, "no connection stayed open long enough to judge", expected
        )
    gaps = []
    for c in judged:
        gap = c.max_ping_gap
        if c.end is None:
            since = c.last_ping if c.last_ping is not None else (c.upgraded or c.start)
            gap = max(gap, now - since)
        gaps.append(gap)
    worst = max(gaps)
    pings = sum(c.client_pings for c in judged)
    measured = (
        f"no ping for {seconds(worst)}"
        if pings == 0
        else f"longest gap {seconds(worst)} ({pings} pings)"
    )
    if pings == 0:
        measured = f"no ping at all in {seconds(worst)}"
    return Outcome("ping-every", name, worst <= limit, measured, expected)


def _judge_herd(summaries: list[ClientSummary]) -> Outcome:
    """After a drop, most clients reconnecting within 50 ms of each other is a herd."""
    times: list[float] = []
    for s in summaries:
        conns = s.client.connections
        for before, after in zip(conns, conns[1:], strict=False):
            if before.by in (BY_SERVER, REFUSED):
                times.append(after.start)
    times.sort()
    expected = f"reconnects spread out (fewer than {HERD_MIN} within {HERD_WINDOW_S * 1000:.0f} ms)"
    clients = sum(1 for s in summaries if len(s.client.connections) > 1)
    if clients < HERD_MIN:
        return Outcome(
            "jitter", None, False, f"{clients} reconnecting clients: too few to judge", expected
        )
    biggest = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] > HERD_WINDOW_S:
            start += 1
        biggest = max(biggest, end - start + 1)
    herd = biggest >= HERD_MIN and biggest * 2 > clients
    measured = f"{biggest} of {clients} clients reconnected within {HERD_WINDOW_S * 1000:.0f} ms"
    return Outcome("jitter", None, not herd, measured, expected)


# -- reports ----------------------------------------------------------------------------------


def text_report(verdict: Verdict) -> str:
    """One block per client, then the expectations and one summary line."""
    lines: list[str] = []
    for s in verdict.clients:
        c = s.client
        who = f"{c.name}  {c.address}"
        if c.user_agent:
            who += f"  {c.user_agent!r}"
        lines.append(who)
        lines.append(f"  connects        {c.connects}")
        if s.upgrade_s is not None:
            lines.append(f"  upgrade         {s.upgrade_s * 1000:.1f} ms (median)")
        lines.append(f"  reconnects      {s.delays_text()}")
        lines.append(f"  schedule        {s.schedule.label}")
        ping = (
            "none" if not s.pings_sent else f"{s.pings_sent}, every {seconds(s.ping_interval or 0)}"
        )
        lines.append(f"  pings sent      {ping}")
        if s.answered_server_pings is not None:
            answer = "yes" if s.answered_server_pings else "NO"
            lines.append(f"  server pings    {s.server_pings}, answered: {answer}")
        counts: dict[str, int] = {}
        for ending in s.endings:
            counts[ending] = counts.get(ending, 0) + 1
        lines.append(
            "  endings         " + ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in counts.items())
        )
        for o in verdict.outcomes:
            if o.client == c.name:
                mark = "ok" if o.ok else "FAILED"
                lines.append(f"  {mark:<6} {o.name}: {o.measured} (expected {o.expected})")
        lines.append("")
    for o in verdict.outcomes:
        if o.client is None:
            lines.append(
                f"{'ok' if o.ok else 'FAILED'} {o.name}: {o.measured} (expected {o.expected})"
            )
    lines.append(summary_line(verdict))
    return "\n".join(lines) + "\n"


def summary_line(verdict: Verdict) -> str:
    failed = [o for o in verdict.outcomes if not o.ok]
    n = len(verdict.clients)
    who = f"{n} client{'s' if n != 1 else ''}"
    head = verdict.stopped.upper() if verdict.stopped else ("FAILED" if failed else "OK")
    if failed:
        return f"{head}: {who}, {len(failed)} of {len(verdict.outcomes)} expectations not met"
    if verdict.outcomes:
        so_far = " so far" if verdict.stopped else ""
        return f"{head}: {who}, all {len(verdict.outcomes)} expectations met{so_far}"
    return f"{head}: {who}, no expectations given"


def json_document(verdict: Verdict) -> dict[str, Any]:
    return {
        "ok": verdict.ok,
        "result": summary_line(verdict),
        "stopped": verdict.stopped or None,
        "elapsed_s": round(verdict.elapsed, 3),
        "clients": [s.as_dict() for s in verdict.clients],
        "expectations": [o.as_dict() for o in verdict.outcomes],
    }


def junit_xml(verdict: Verdict, suite: str) -> bytes:
    """One test case per client and expectation; an early stop is an error case."""
    from wscli.output.junit import junit_suite

    cases: list[dict[str, Any]] = []
    for o in verdict.outcomes:
        name = f"{o.client} {o.name}" if o.client else o.name
        text = f"expected {o.expected}, measured {o.measured}"
        if o.ok:
            cases.append({"name": name, "outcome": "passed", "out": text})
        else:
            cases.append(
                {"name": name, "outcome": "failure", "type": "expectation", "message": text}
            )
    if verdict.stopped:
        cases.append(
            {
                "name": "run",
                "outcome": "error",
                "type": "stopped",
                "message": f"run {verdict.stopped} before --duration ended",
            }
        )
    for case in cases:
        case["time"] = verdict.elapsed
    classname = suite.replace(" ", ".")
    return junit_suite(suite, classname, cases, elapsed=verdict.elapsed)


def write_reports(verdict: Verdict, *, output: str, junit: str | None, suite: str) -> int:
    """The report on stdout (text or JSON) and the JUnit file; returns the exit status.

    Called on every ending, Ctrl-C and SIGTERM included; an early stop never
    passes (the caller turns it into 130/143).
    """
    import json
    import sys

    from wscli.errors import ExitStatus

    if junit:
        from wscli.output.files import write_atomic

        write_atomic(junit, junit_xml(verdict, suite), target=f"--junit {junit}")
    if output == "json":
        text = json.dumps(json_document(verdict), ensure_ascii=False) + "\n"
    else:
        text = text_report(verdict)
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    return int(ExitStatus.OK if verdict.ok else ExitStatus.CHECK_FAILED)
