"""Stream health: judge the sensor stream as a whole, not only each message (issue 19).

Pure: no sockets, files, terminals or Click. A command feeds each decoded message
with its receive time to :meth:`HealthEngine.observe` and asks :meth:`HealthEngine.result`
for the verdict at the end (or as often as a live view wants one).

Checks, per source (``data.sensor_id`` unless a source key path says otherwise):

=============  ===========================================================  =========
check          raises                                                       level
=============  ===========================================================  =========
coverage       fewer sources than expected, or an expected one never seen   fail
staleness      a source silent longer than ``max_staleness`` (mid-run or    fail
               to the end of the run)
cadence        a gap between readings over 5x the source's median interval  suspect
               (once the source has 5 readings; gaps under 1 s never count)
duplicates     the same ``data.id`` twice                                   fail
               the same timestamp and value as the source's last reading    suspect
order          ``data.id`` going backwards                                  suspect
               ``data.timestamp`` going backwards                           fail
clock_skew     abs(receive time - ``data.timestamp``) over ``max_skew``     fail
               ``created_at`` before ``timestamp``; a timestamp that is     suspect
               not RFC 3339
plausibility   value outside its type's range, or missing / not a number    fail
               a step over ``max_step``, ``flatline`` equal values in a     suspect
               row, ``confidence`` under ``min_confidence``, another unit
status         a ``sensor_status`` saying offline or low_battery            suspect
error_rate     the share of ``error`` messages over ``max_error_rate``      fail
=============  ===========================================================  =========

Memory is bounded by design, so 10^6 sources stay small:

- per source: a fixed set of counters and last values (:class:`SourceState`, slots),
  a ring of the last :data:`INTERVAL_RING` reading intervals for the cadence median
  (an array of doubles), and at most one :class:`Flag` per check (the worst, with a
  count): about 600 bytes, plus about 250 in the final report's row;
- at most :data:`MAX_SOURCES` sources are judged: messages from any further source
  are counted, not judged, and a suspect ``sources`` check says how many, so a
  stream of random ids cannot take the memory (a clean 10^5-source run peaks at
  about 150 MB, see ``bench/health_throughput.py``);
- for duplicate ``data.id`` detection the ids of the most recent readings, in two
  generations of :data:`DUPLICATE_GENERATION` (when one fills it replaces the older):
  a repeat is caught when it arrives within 32,768 readings of the first (often up
  to 65,536), which covers re-sends and replays of a live feed; a repeat further
  apart is not detected, and memory stays at about 5 MB whatever the stream. The id
  is ``data.id`` alone: a reading id names one reading, whichever source sent it.

The time axis is the receive time when the input has one (live streams, recordings),
else ``data.timestamp`` (plain JSON Lines): then clock skew cannot be measured and
staleness and cadence are judged on the sensor's own clock.
"""

from __future__ import annotations

import math
import sys
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from wscli.checks.rules import Rule, Rules, builtin_rules

PASS = "pass"
SUSPECT = "suspect"
FAIL = "fail"
_RANK = {PASS: 0, SUSPECT: 1, FAIL: 2}

CHECKS = (
    "coverage",
    "staleness",
    "cadence",
    "duplicates",
    "order",
    "clock_skew",
    "plausibility",
    "status",
    "error_rate",
)
STREAM_CHECKS = ("coverage", "error_rate", "sources")  # judged over the stream, not per source

NO_SOURCE = "(no source)"
DEFAULT_STALENESS = 60.0
DEFAULT_SKEW = 300.0
CADENCE_FACTOR = 5.0
CADENCE_MIN_READINGS = 5
CADENCE_FLOOR = 1.0  # a gap under a second is scheduling jitter, never a cadence problem
INTERVAL_RING = 16  # recent intervals kept per source for the median
MEDIAN_REFRESH = 8  # readings between median recomputations (a bounded estimate)
DUPLICATE_GENERATION = 1 << 15  # ids per generation; two are kept, so 32,768-65,536 recent
MAX_SOURCES = 250_000  # about 200 MB of per-source state and report rows
BAD_STATES = frozenset({"offline", "low_battery"})
_BAD_STATE_LIST = tuple(BAD_STATES)  # "in" a tuple compares: an unhashable state is no crash

_EMPTY: dict[str, Any] = {}
_NO_FLAGS: list[Flag] = []  # shared by every clean source's report row: never appended to
_INFINITIES = (math.inf, -math.inf)
_BIGGEST = 10**300  # an int past this cannot become a float (arithmetic would overflow)
_fromisoformat = datetime.fromisoformat
_MILLIS = {f".{n:03d}": n / 1000 for n in range(1000)}  # ".123" -> 0.123


def parse_timestamp(text: object) -> float | None:
    """RFC 3339 (``2024-01-15T12:00:00.123Z``) as POSIX seconds; ``None`` if it is not one."""
    if text.__class__ is not str or len(text) < 20 or text[10] not in "Tt":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # RFC 3339 requires an offset or Z
    return moment.timestamp()


def rfc3339(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class HealthConfig:
    """The thresholds of one run; ``None`` turns a check off.

    ``--health`` gives these defaults; explicit flags override them.
    """

    source_key: tuple[str, ...] = ("data", "sensor_id")
    expect_count: int | None = None
    expect_ids: tuple[str, ...] = ()
    max_staleness: float | None = DEFAULT_STALENESS
    max_skew: float | None = DEFAULT_SKEW
    max_error_rate: float | None = None
    strict: bool = False
    rules: Rules = field(default_factory=builtin_rules)
    max_sources: int = MAX_SOURCES  # sources past this are counted, not judged


class Flag:
    """The worst finding of one check on one source, and how often the check fired."""

    __slots__ = ("check", "level", "detail", "at", "count")

    def __init__(self, check: str, level: str, detail: str, at: float | None) -> None:
        self.check = check
        self.level = level
        self.detail = detail
        self.at = at
        self.count = 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "level": self.level,
            "detail": self.detail,
            "at": rfc3339(self.at),
            "count": self.count,
        }


class SourceState:
    """Everything kept about one source: a few counters and last values (bounded)."""

    __slots__ = (
        "key",
        "location",
        "kind",
        "count",
        "readings",
        "first_seen",
        "last_seen",
        "max_gap",
        "max_skew",
        "skew_abs",
        "last_reading_at",
        "intervals",
        "median",
        "last_id",
        "last_ts",
        "last_value",
        "flat_run",
        "rule",
        "flags",
    )

    def __init__(self, key: object) -> None:
        self.key = key
        self.location: str | None = None
        self.kind: str | None = None
        self.count = 0
        self.readings = 0
        self.first_seen: float | None = None
        self.last_seen: float | None = None
        self.max_gap = 0.0
        self.max_skew: float | None = None
        self.skew_abs = -1.0
        self.last_reading_at: float | None = None
        self.intervals = array("d")  # 8 bytes an interval, not a 24-byte float object
        self.median = 0.0
        self.last_id: object = None
        self.last_ts: float | None = None
        self.last_value: float | None = None
        self.flat_run = 1
        self.rule: Rule | None = None
        self.flags: dict[str, Flag] | None = None


@dataclass(slots=True)
class SourceResult:
    """One row of the report."""

    source: str
    location: str | None
    type: str | None
    count: int
    first_seen: float | None
    last_seen: float | None
    max_gap: float
    max_skew: float | None
    flags: list[Flag]

    @property
    def level(self) -> str:
        return worst(f.level for f in self.flags)

    @property
    def rate(self) -> float | None:
        """Messages per second over the time the source was seen."""
        if self.first_seen is None or self.last_seen is None or self.count < 2:
            return None
        span = self.last_seen - self.first_seen
        return (self.count - 1) / span if span > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "location": self.location,
            "type": self.type,
            "level": self.level,
            "count": self.count,
            "first_seen": rfc3339(self.first_seen),
            "last_seen": rfc3339(self.last_seen),
            "max_gap_s": round(self.max_gap, 3),
            "max_skew_s": None if self.max_skew is None else round(self.max_skew, 3),
            "flags": [f.as_dict() for f in self.flags],
        }


@dataclass
class CheckResult:
    """One check over the whole stream: what was measured against which threshold."""

    check: str
    level: str
    value: Any
    threshold: Any
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "level": self.level,
            "value": self.value,
            "threshold": self.threshold,
            "detail": self.detail,
        }


@dataclass
class HealthResult:
    """The verdict: every source, every check, and whether the run passes."""

    sources: list[SourceResult]
    checks: list[CheckResult]
    messages: int
    strict: bool
    stopped: str = ""  # "interrupted", "terminated", ...: the run ended early (the caller says)

    @property
    def level(self) -> str:
        return worst([*(c.level for c in self.checks), *(s.level for s in self.sources)])

    @property
    def ok(self) -> bool:
        """Fail fails; suspect fails only under ``--strict``; no message at all fails too.

        A health check that saw nothing did not pass.
        """
        if not self.messages:
            return False
        level = self.level
        return level == PASS or (level == SUSPECT and not self.strict)

    def count(self, level: str) -> int:
        return sum(1 for s in self.sources if s.level == level)

    def verdict(self) -> str:
        """``health: FAILED: 8 sources: 6 pass, 1 suspect, 1 fail; coverage fail (7 of 8)``."""
        word = "OK" if self.ok else "FAILED"
        if self.stopped:  # never OK for a run that did not finish
            word = {"interrupted": "INTERRUPTED", "terminated": "TERMINATED"}.get(
                self.stopped, "STOPPED"
            )
        if not self.messages:
            return f"health {word}: no messages, so no source to judge"
        total = len(self.sources)
        noun = "source" if total == 1 else "sources"
        parts = [f"{self.count(level)} {level}" for level in (PASS, SUSPECT, FAIL)]
        line = f"health {word}: {total} {noun}: {', '.join(parts)}"
        bad = [c for c in self.checks if c.check in STREAM_CHECKS and c.level != PASS]
        if bad:
            line += "; " + "; ".join(f"{c.check} {c.level}: {c.detail}" for c in bad)
        if self.strict and self.level == SUSPECT:
            line += " (--strict: suspect fails)"
        if self.stopped:
            line += f" ({self.stopped})"
        return line

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "level": self.level,
            "strict": self.strict,
            "result": self.verdict(),
            "messages": self.messages,
            "sources": [s.as_dict() for s in self.sources],
            "checks": [c.as_dict() for c in self.checks],
        }


def worst(levels: Any) -> str:
    best = PASS
    for level in levels:
        if _RANK[level] > _RANK[best]:
            best = level
    return best


class HealthEngine:
    """Per-source state fed one message at a time; bounded memory (see the module doc)."""

    def __init__(self, config: HealthConfig | None = None) -> None:
        self.config = config or HealthConfig()
        self.sources: dict[object, SourceState] = {}
        self.errors = 0
        self.worst_staleness = 0.0
        self.worst_skew: float | None = None
        self.fired: dict[str, int] = dict.fromkeys(CHECKS, 0)
        self.untracked = 0  # messages from sources past config.max_sources
        self._second = ""  # "2024-01-15T12:00:05": the second of the last timestamp ...
        self._second_at = 0.0  # ... as POSIX seconds
        self._ids: set[object] = set()  # data.id values of recent readings ...
        self._older_ids: set[object] = set()  # ... and the generation before them
        key = tuple(self.config.source_key)
        self._default_key = key == ("data", "sensor_id")
        self._key_path = key

    @property
    def messages(self) -> int:
        """Messages seen (JSON objects; other JSON values are not messages of a source)."""
        return sum(state.count for state in self.sources.values()) + self.untracked

    @property
    def end(self) -> float | None:
        """The latest time on the time axis: the end of a recorded run."""
        seen = [s.last_seen for s in self.sources.values() if s.last_seen is not None]
        return max(seen) if seen else None

    # -- feeding ---------------------------------------------------------------------------

    def observe(self, message: object, received: float | None = None) -> None:
        """One decoded message and its receive time (POSIX seconds; ``None`` if unknown).

        The hot path of ``validate --health`` (its cost is benchmarked against plain
        validation): the common case, a reading with nothing wrong, is one function
        with locals; a method is called only when something is flagged or rare.
        """
        if message.__class__ is not dict:
            return
        mtype = message.get("type")
        data = message.get("data")
        if data.__class__ is not dict:
            data = _EMPTY
        key = data.get("sensor_id") if self._default_key else self._lookup(message)
        if key.__class__ is not int and key.__class__ is not str:
            key = NO_SOURCE if key is None else repr(key)[:200]
        state = self.sources.get(key)
        if state is None:
            state = self._new_source(key, data)
            if state is None:  # past max_sources: counted, not judged
                self.untracked += 1
                return
        state.count += 1
        ts_text = data.get("timestamp")
        ts: float | None = None
        if (
            ts_text.__class__ is str
            and ts_text[:19] == self._second
            and len(ts_text) == 24
            and ts_text[23] == "Z"
        ):
            # The same second as the last timestamp (10 messages a second share one):
            # only the milliseconds are new. Every such timestamp takes this path, so
            # equal texts always give equal numbers.
            ms = _MILLIS.get(ts_text[19:23])
            if ms is not None:
                ts = self._second_at + ms
        if ts is None:
            ts = self._timestamp(state, ts_text, received)
        now = received if received is not None else ts
        if now is not None:
            last = state.last_seen
            if last is None:
                state.first_seen = state.last_seen = now
            elif now > last:
                if now - last > state.max_gap:
                    self._gap(state, now - last, last)
                state.last_seen = now
            if ts is not None and received is not None:
                skew = received - ts
                if skew > state.skew_abs or -skew > state.skew_abs:
                    self._skew(state, skew, received)
        if mtype != "sensor_reading":
            if mtype == "error":
                self.errors += 1
            elif mtype == "sensor_status" and data.get("state") in _BAD_STATE_LIST:
                self._flag(state, "status", SUSPECT, f"sensor_status {data.get('state')}", now)
            return
        readings = state.readings = state.readings + 1
        # duplicates (two generations of recent ids: bounded) and id order
        rid = data.get("id")
        if rid.__class__ is int or rid.__class__ is str:
            current = self._ids
            if rid in current or rid in self._older_ids:
                self._flag(state, "duplicates", FAIL, f"data.id {_show(rid)} seen twice", now)
            else:
                current.add(rid)
                if len(current) >= DUPLICATE_GENERATION:
                    self._older_ids, self._ids = current, set()
                last_id = state.last_id
                if last_id is not None and rid < last_id and last_id.__class__ is rid.__class__:  # type: ignore[operator]
                    self._id_back(state, last_id, rid, now)
                else:
                    state.last_id = rid
        last_ts = state.last_ts
        if ts is not None:
            if last_ts is not None and ts < last_ts:
                self._flag(
                    state,
                    "order",
                    FAIL,
                    f"timestamp went back {last_ts - ts:.3f} s to {_show(ts_text)}",
                    now,
                )
            else:
                state.last_ts = ts
            created = data.get("created_at")
            if created is not None and (
                created.__class__ is not str or created < ts_text or len(created) != len(ts_text)  # type: ignore[operator, arg-type]
            ):
                self._created(state, created, ts_text, ts, now)
        # cadence: a ring of recent intervals, its median refreshed now and then
        if now is not None:
            last = state.last_reading_at
            if last is not None and now >= last:
                interval = now - last
                intervals = state.intervals
                if readings > CADENCE_MIN_READINGS:
                    if readings % MEDIAN_REFRESH == 0:
                        state.median = _median(intervals)
                    if interval > CADENCE_FLOOR and interval > CADENCE_FACTOR * state.median:
                        self._cadence(state, interval, last)
                if len(intervals) < INTERVAL_RING:
                    intervals.append(interval)
                else:
                    intervals[readings % INTERVAL_RING] = interval
            if last is None or now > last:
                state.last_reading_at = now
        # plausibility
        value = data.get("value")
        if value.__class__ is not float and (
            value.__class__ is not int or value > _BIGGEST or value < -_BIGGEST
        ):
            self._bad_value(state, value, now)
            return
        rule = state.rule
        if rule is None:
            rule = self._rule(state, data, now)
        low, high = rule.min, rule.max
        if (low is not None and value < low) or (high is not None and value > high):
            self._flag(
                state,
                "plausibility",
                FAIL,
                f"value {value:g} outside {_bound(low)}..{_bound(high)}",
                now,
            )
        elif value != value or value in _INFINITIES:
            self._flag(state, "plausibility", FAIL, f"value {value} is not finite", now)
            return
        last_value = state.last_value
        if last_value is not None:
            step = rule.max_step
            if step is not None and (value - last_value > step or last_value - value > step):
                self._flag(
                    state,
                    "plausibility",
                    SUSPECT,
                    f"spike: {last_value:g} to {value:g}, a step over {step:g}",
                    now,
                )
            if value == last_value:
                self._same_value(state, rule, value, ts is not None and ts == last_ts, ts_text, now)
            else:
                state.flat_run = 1
        state.last_value = value
        confidence = data.get("confidence")
        floor = rule.min_confidence
        if (
            floor is not None
            and (confidence.__class__ is float or confidence.__class__ is int)
            and confidence < floor
        ):
            self._flag(
                state, "plausibility", SUSPECT, f"confidence {confidence:g} below {floor:g}", now
            )

    def _new_source(self, key: object, data: dict[str, Any]) -> SourceState | None:
        if len(self.sources) >= self.config.max_sources:
            return None
        state = self.sources[key] = SourceState(key)
        where = data.get("location")
        if where.__class__ is str:
            state.location = sys.intern(where)  # many sources, few rooms: one string each
        kind = data.get("type")
        if kind.__class__ is str:
            state.kind = sys.intern(kind)
        return state

    def _timestamp(self, state: SourceState, text: object, received: float | None) -> float | None:
        """RFC 3339 text as POSIX seconds, remembering its second for the fast path."""
        ts: float | None = None
        try:
            moment = _fromisoformat(text)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            if text is not None:
                self._bad_timestamp(state, text, received)
            return None
        if moment.tzinfo is None:
            self._bad_timestamp(state, text, received)
            return None
        ts = moment.timestamp()
        if len(text) == 24 and text[19] == "." and text[23] == "Z":  # type: ignore[arg-type, index]
            ms = _MILLIS.get(text[19:23])  # type: ignore[index]
            if ms is not None:
                self._second = text[:19]  # type: ignore[index]
                self._second_at = moment.replace(microsecond=0).timestamp()
                ts = self._second_at + ms
        return ts

    def _bad_value(self, state: SourceState, value: object, at: float | None) -> None:
        if value is None:
            shown = "missing"
        elif value.__class__ is int:  # past what a float holds: no sensor reads that
            shown = f"{str(value)[:12]}... ({len(str(value))} digits), out of any range"
        else:
            shown = f"{_show(value)}, not a number"
        self._flag(state, "plausibility", FAIL, f"value {shown}", at)

    def _bad_timestamp(self, state: SourceState, text: object, at: float | None) -> None:
        self._flag(state, "clock_skew", SUSPECT, f"timestamp {_show(text)} is not RFC 3339", at)

    def _gap(self, state: SourceState, gap: float, last: float) -> None:
        state.max_gap = gap
        limit = self.config.max_staleness
        if limit is not None and gap > limit:
            self._flag(state, "staleness", FAIL, f"silent {gap:.1f} s (limit {limit:g} s)", last)

    def _skew(self, state: SourceState, skew: float, received: float) -> None:
        """A source's worst skew so far; flagged when over the limit."""
        size = abs(skew)
        state.max_skew, state.skew_abs = skew, size
        if self.worst_skew is None or size > abs(self.worst_skew):
            self.worst_skew = skew
        limit = self.config.max_skew
        if limit is not None and size > limit:
            self._flag(
                state,
                "clock_skew",
                FAIL,
                f"timestamp {skew:+.1f} s off the receive time (limit {limit:g} s)",
                received,
            )

    def _id_back(self, state: SourceState, last: object, rid: object, at: float | None) -> None:
        detail = f"data.id went back from {_show(last)} to {_show(rid)}"
        self._flag(state, "order", SUSPECT, detail, at)

    def _created(
        self, state: SourceState, created: object, ts_text: object, ts: float, at: float | None
    ) -> None:
        """``created_at`` earlier than ``timestamp`` (the fast path only saw it might be)."""
        if (
            created.__class__ is str
            and ts_text.__class__ is str
            and len(created) == len(ts_text)
            and created[-1:] == "Z"
            and ts_text[-1:] == "Z"
        ):
            early = created < ts_text
        else:
            made = parse_timestamp(created)
            early = made is not None and made < ts
        if early:
            self._flag(state, "clock_skew", SUSPECT, "created_at before timestamp", at)

    def _lookup(self, message: dict[str, Any]) -> object:
        value: object = message
        for part in self._key_path:
            if value.__class__ is not dict:
                return None
            value = value.get(part)
        return value

    def _cadence(self, state: SourceState, interval: float, last: float) -> None:
        state.median = _median(state.intervals)  # confirm on a fresh median
        if interval > CADENCE_FACTOR * state.median > 0:
            self._flag(
                state,
                "cadence",
                SUSPECT,
                f"gap {interval:.1f} s, over {CADENCE_FACTOR:g}x the median {state.median:.2f} s",
                last,
            )

    def _rule(self, state: SourceState, data: dict[str, Any], now: float | None) -> Rule:
        """The source's rule, looked up once; another unit than the rule's drops the range."""
        kind = data.get("type")
        if state.kind is None and kind.__class__ is str:
            state.kind = sys.intern(kind)
        where = data.get("location")
        if state.location is None and where.__class__ is str:
            state.location = sys.intern(where)  # the first message may have been an error
        rule = state.rule = self.config.rules.for_type(kind)
        unit = data.get("unit")
        if rule.unit is not None and unit is not None and unit != rule.unit:
            self._flag(
                state,
                "plausibility",
                SUSPECT,
                f"unit {_show(unit)}, the rules for {state.kind} know {rule.unit!r}",
                now,
            )
            rule = state.rule = Rule(flatline=rule.flatline, min_confidence=rule.min_confidence)
        return rule

    def _same_value(
        self,
        state: SourceState,
        rule: Rule,
        value: float,
        same_time: bool,
        ts_text: object,
        now: float | None,
    ) -> None:
        state.flat_run += 1
        if same_time:
            self._flag(
                state,
                "duplicates",
                SUSPECT,
                f"same timestamp and value as the last reading ({_show(ts_text)})",
                now,
            )
        if rule.flatline is not None and state.flat_run == rule.flatline:
            self._flag(
                state,
                "plausibility",
                SUSPECT,
                f"flat line: {value:g} {rule.flatline} times in a row",
                now,
            )

    def _flag(
        self, state: SourceState, check: str, level: str, detail: str, at: float | None
    ) -> None:
        self.fired[check] += 1
        flags = state.flags
        if flags is None:
            flags = state.flags = {}
        flag = flags.get(check)
        if flag is None:
            flags[check] = Flag(check, level, detail, at)
            return
        flag.count += 1
        if _RANK[level] > _RANK[flag.level]:
            flag.level, flag.detail, flag.at = level, detail, at

    # -- judging ---------------------------------------------------------------------------

    def result(self, end: float | None = None) -> HealthResult:
        """The verdict so far; ``end`` is the end of the run on the time axis (live: now).

        Pure: calling it again later (a live view) changes nothing.
        """
        config = self.config
        end = end if end is not None else self.end
        limit = config.max_staleness
        rows: list[SourceResult] = []
        stalest = 0.0
        for state in self.sources.values():
            flags = list(state.flags.values()) if state.flags else _NO_FLAGS
            silent = 0.0
            if end is not None and state.last_seen is not None:
                silent = max(0.0, end - state.last_seen)
            stalest = max(stalest, silent, state.max_gap if limit is not None else 0.0)
            if limit is not None and silent > limit:
                detail = f"silent {silent:.1f} s at the end (limit {limit:g} s)"
                extra = Flag("staleness", FAIL, detail, state.last_seen)
                flags = [f for f in flags if f.check != "staleness"] + [extra]
            if len(flags) > 1:
                flags.sort(key=lambda f: CHECKS.index(f.check))
            rows.append(
                SourceResult(
                    source=str(state.key),
                    location=state.location,
                    type=state.kind,
                    count=state.count,
                    first_seen=state.first_seen,
                    last_seen=state.last_seen,
                    max_gap=state.max_gap,
                    max_skew=state.max_skew,
                    flags=flags,
                )
            )
        rows.sort(key=lambda r: (-_RANK[r.level], _natural(r.source)))
        return HealthResult(rows, self._checks(rows, stalest), self.messages, config.strict)

    def _checks(self, rows: list[SourceResult], stalest: float) -> list[CheckResult]:
        config = self.config
        out: list[CheckResult] = []
        seen = {r.source for r in rows if r.source != NO_SOURCE}
        if config.expect_ids:
            missing = [i for i in config.expect_ids if i not in seen]
            level = FAIL if missing else PASS
            detail = f"missing {', '.join(missing)}" if missing else "every expected source seen"
            out.append(CheckResult("coverage", level, len(seen), list(config.expect_ids), detail))
        elif config.expect_count is not None:
            level = FAIL if len(seen) < config.expect_count else PASS
            detail = f"{len(seen)} of {config.expect_count} sources seen"
            out.append(CheckResult("coverage", level, len(seen), config.expect_count, detail))

        def levels(check: str) -> str:
            return worst(f.level for r in rows for f in r.flags if f.check == check)

        def flagged(check: str) -> int:
            return sum(1 for r in rows for f in r.flags if f.check == check)

        if config.max_staleness is not None:
            out.append(
                CheckResult(
                    "staleness",
                    levels("staleness"),
                    round(stalest, 3),
                    config.max_staleness,
                    f"longest silence {stalest:.1f} s; stale sources: {flagged('staleness')}",
                )
            )
        for check, threshold, what in (
            ("cadence", CADENCE_FACTOR, "a gap over 5x their median interval"),
            ("duplicates", None, "repeated readings"),
            ("order", None, "readings out of order"),
        ):
            out.append(
                CheckResult(
                    check,
                    levels(check),
                    self.fired[check],
                    threshold,
                    f"sources with {what}: {flagged(check)}",
                )
            )
        skew = None if self.worst_skew is None else round(self.worst_skew, 3)
        shown = "not measured (no receive times)" if skew is None else f"worst skew {skew:+.3f} s"
        out.append(CheckResult("clock_skew", levels("clock_skew"), skew, config.max_skew, shown))
        for check, what in (
            ("plausibility", "implausible readings"),
            ("status", "an offline or low-battery status"),
        ):
            out.append(
                CheckResult(
                    check,
                    levels(check),
                    self.fired[check],
                    None,
                    f"sources with {what}: {flagged(check)}",
                )
            )
        if self.untracked:
            out.append(
                CheckResult(
                    "sources",
                    SUSPECT,
                    len(rows),
                    config.max_sources,
                    f"over {config.max_sources:,} sources: {self.untracked:,} messages from"
                    " the rest counted, not judged",
                )
            )
        if config.max_error_rate is not None:
            share = self.errors / self.messages if self.messages else 0.0
            level = FAIL if share > config.max_error_rate else PASS
            detail = f"{self.errors} error messages of {self.messages} ({share:.1%})"
            out.append(
                CheckResult("error_rate", level, round(share, 6), config.max_error_rate, detail)
            )
        return out


def _median(values: array[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _natural(source: str) -> tuple[int, int, str]:
    """Sensor 2 before sensor 10; names after numbers; "(no source)" last."""
    if source == NO_SOURCE:
        return (2, 0, "")
    if source.isdigit():
        return (0, int(source), "")
    return (1, 0, source)


def merge_results(results: list[HealthResult], *, strict: bool) -> HealthResult:
    """Several streams' verdicts as one, per source (``load --health``: one per user).

    Each stream was judged on its own (the same reading reaching two users is no
    duplicate); a source's row then sums the counts and keeps, per check, the worst
    flag any stream raised. A stream check keeps its worst level and says how many
    streams it failed on.
    """
    rows: dict[str, SourceResult] = {}
    for result in results:
        for row in result.sources:
            have = rows.get(row.source)
            if have is None:
                copies = [_copy_flag(f) for f in row.flags]
                rows[row.source] = SourceResult(
                    row.source,
                    row.location,
                    row.type,
                    row.count,
                    row.first_seen,
                    row.last_seen,
                    row.max_gap,
                    row.max_skew,
                    copies,
                )
                continue
            have.count += row.count
            have.first_seen = _earliest(have.first_seen, row.first_seen)
            have.last_seen = _latest(have.last_seen, row.last_seen)
            have.max_gap = max(have.max_gap, row.max_gap)
            if row.max_skew is not None and (
                have.max_skew is None or abs(row.max_skew) > abs(have.max_skew)
            ):
                have.max_skew = row.max_skew
            for flag in row.flags:
                mine = next((f for f in have.flags if f.check == flag.check), None)
                if mine is None:
                    have.flags.append(_copy_flag(flag))
                    continue
                mine.count += flag.count
                if _RANK[flag.level] > _RANK[mine.level]:
                    mine.level, mine.detail, mine.at = flag.level, flag.detail, flag.at
    checks: dict[str, CheckResult] = {}
    failing: dict[str, int] = {}
    for result in results:
        for check in result.checks:
            if check.level != PASS:
                failing[check.check] = failing.get(check.check, 0) + 1
            have_check = checks.get(check.check)
            if have_check is None or _RANK[check.level] > _RANK[have_check.level]:
                checks[check.check] = CheckResult(
                    check.check, check.level, check.value, check.threshold, check.detail
                )
    for name, check in checks.items():
        if failing.get(name):
            check.detail = f"{check.detail} ({failing[name]} of {len(results)} streams)"
    merged = sorted(rows.values(), key=lambda r: (-_RANK[r.level], _natural(r.source)))
    for row in merged:
        row.flags.sort(key=lambda f: CHECKS.index(f.check) if f.check in CHECKS else 99)
    messages = sum(result.messages for result in results)
    return HealthResult(merged, list(checks.values()), messages, strict)


def _copy_flag(flag: Flag) -> Flag:
    copy = Flag(flag.check, flag.level, flag.detail, flag.at)
    copy.count = flag.count
    return copy


def _earliest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def config_from_values(values: dict[str, Any], *, strict: bool = False) -> HealthConfig | None:
    """The run's :class:`HealthConfig` from the health flags' values (a dict keyed by
    the options' names: what ``load`` hands each user too), or ``None`` when health is off.

    Raises:
        BadUsage: a bad ``--expect-sensors``, ``--source-key`` or rules file (exit 2).
    """
    if not any(value not in (None, False) for value in values.values()):
        return None
    from wscli.checks.rules import load_rules
    from wscli.errors import BadUsage

    config = HealthConfig(strict=strict, rules=load_rules(values.get("rules_file")))
    expect = values.get("expect_sensors")
    if expect is not None:
        text = str(expect).strip()
        if text.isdigit():
            config.expect_count = int(text)
        else:
            ids = tuple(part.strip() for part in text.split(",") if part.strip())
            if not ids:
                raise BadUsage(
                    f"--expect-sensors {expect!r}: give a count or sensor ids",
                    hint="e.g. --expect-sensors 8 or --expect-sensors 1,2,7",
                )
            config.expect_ids = ids
    staleness = values.get("max_staleness")
    config.max_staleness = DEFAULT_STALENESS if staleness is None else float(staleness)
    skew = values.get("max_skew")
    config.max_skew = DEFAULT_SKEW if skew is None else float(skew)
    config.max_error_rate = values.get("max_error_rate")
    key = values.get("source_key")
    if key is not None:
        parts = tuple(str(key).split("."))
        if not all(parts):
            raise BadUsage(f"--source-key {key!r} is not a dotted path", hint="e.g. data.sensor_id")
        config.source_key = parts
    return config
