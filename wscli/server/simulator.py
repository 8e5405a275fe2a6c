"""Seeded, pure generation of Home Inspection sensor-stream messages.

No sockets and no clock: time comes from an injected ``now`` callable, randomness
from one ``random.Random(seed)``, so a seed and a clock reproduce a stream exactly
(``wscli serve --seed``, the tests). The server, ``tail --demo`` and the tests all
draw from here, and everything ``next_message`` returns validates against the
built-in schema; ``malformed`` and ``invalid`` break it on purpose, one way at a time.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

READING_SHARE = 0.92  # the rest: sensor_status 6%, error 2%
STATUS_SHARE = 0.06
MEAN_REVERSION = 0.02  # share of the distance to its baseline a value moves back per reading
# Statuses a healthy stream sends. "offline" and "low_battery" are what ``--health``
# flags as suspect, so they come from a failing battery or the --status-rate fault only:
# a clean stream raises no alarm.
HEALTHY_STATES = ("online", "degraded", "calibrating")
HEALTHY_WEIGHTS = (75, 15, 10)
BAD_STATES = ("offline", "low_battery")
DEFAULT_STALE_AFTER = 5.0  # seconds into the stream a --stale-sensor stops


@dataclass(frozen=True)
class Quantity:
    """What a kind of sensor measures: unit, plausible bounds, drift per reading."""

    unit: str
    low: float
    high: float
    step: float
    digits: int


QUANTITIES: dict[str, Quantity] = {
    "moisture_level": Quantity("%", 0.0, 100.0, 0.8, 1),
    "temperature": Quantity("°C", -20.0, 60.0, 0.3, 1),
    "humidity": Quantity("%RH", 0.0, 100.0, 0.6, 1),
    "radon": Quantity("pCi/L", 0.0, 20.0, 0.15, 2),
    "co2": Quantity("ppm", 350.0, 5000.0, 25.0, 0),
}

# (sensor_id, reading type, location, starting value)
SENSORS: tuple[tuple[int, str, str, float], ...] = (
    (1, "moisture_level", "basement_wall", 62.0),
    (2, "temperature", "attic", 31.0),
    (3, "humidity", "crawl_space", 71.0),
    (4, "radon", "basement_wall", 2.6),
    (5, "co2", "kitchen", 640.0),
    (6, "humidity", "bathroom", 58.0),
    (7, "temperature", "garage", 11.5),
    (8, "moisture_level", "crawl_space", 44.0),
)

ERRORS: tuple[tuple[str, str], ...] = (
    ("SENSOR_TIMEOUT", "sensor {id} timed out"),
    ("READ_FAILED", "sensor {id} read failed: CRC mismatch"),
    ("CALIBRATION_DRIFT", "sensor {id} drifted beyond calibration tolerance"),
    ("GATEWAY_BUSY", "gateway busy: readings from sensor {id} delayed"),
)

STATUS_MESSAGES: dict[str, str] = {
    "online": "reporting normally",
    "offline": "no reading for 5 minutes",
    "degraded": "low signal, readings less reliable",
    "calibrating": "calibration in progress, readings paused",
    "low_battery": "battery low, replace soon",
}

# kind -> the JSON pointer a validator should blame; the tests hold ``invalid`` to it.
INVALID_KINDS: dict[str, str] = {
    "value_as_string": "/data/value",
    "missing_sensor_id": "/data",
    "bad_timestamp": "/data/timestamp",
    "confidence_out_of_range": "/data/confidence",
    "battery_out_of_range": "/data/extras_json/battery_level",
    "unknown_type": "/type",
    "missing_data": "",
    "bad_state": "/data/state",
    "empty_error_message": "/data/message",
    "sensor_id_negative": "/data/sensor_id",
}

MALFORMED_KINDS: tuple[str, ...] = ("truncated", "python_repr", "two_objects", "plain_text")


def rfc3339(moment: datetime) -> str:
    """``2024-01-15T12:00:00.123Z``: UTC, milliseconds, a ``Z`` (RFC 3339 section 5.6)."""
    utc = moment.astimezone(timezone.utc) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc_now() -> datetime:
    """The default clock; injected so that tests and seeds can pin time."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class StreamFaults:
    """Stream-level faults for ``wscli serve``; each one is what a ``--health`` check catches.

    Attributes:
        stale: sensor id -> seconds after the start at which it stops reporting.
        duplicate_rate: share of readings sent twice (the same ``data.id``).
        reorder_rate: share of readings held back and sent after that sensor's next one.
        skew: sensor id (``None``: every sensor) -> seconds added to its timestamps.
        spike_rate: share of readings with a value far outside the plausible range.
        flatline: sensors whose value stops changing.
        status_rate: share of messages replaced by an offline / low_battery status.
    """

    stale: dict[int, float] = field(default_factory=dict)
    duplicate_rate: float = 0.0
    reorder_rate: float = 0.0
    skew: dict[int | None, float] = field(default_factory=dict)
    spike_rate: float = 0.0
    flatline: frozenset[int] = frozenset()
    status_rate: float = 0.0

    def __bool__(self) -> bool:
        return bool(
            self.stale
            or self.duplicate_rate
            or self.reorder_rate
            or self.skew
            or self.spike_rate
            or self.flatline
            or self.status_rate
        )


@dataclass
class SensorState:
    """One simulated sensor: a bounded random walk plus a draining battery."""

    sensor_id: int
    kind: str
    location: str
    value: float
    baseline: float
    battery: float
    signal: float
    calibrated_at: datetime
    offset: float
    measured_at: datetime | None = None  # its last reading: one sensor, one reading per ms

    @property
    def quantity(self) -> Quantity:
        return QUANTITIES[self.kind]


class Simulator:
    """A stream of envelopes ``{"type": ..., "data": {...}}`` from a few sensors.

    Sensors take turns in a shuffled order, a new order each round, as real sensors
    report on a cadence: a sensor's gap never exceeds two rounds, so ``--health``'s
    cadence check stays quiet on a clean stream.

    Args:
        seed: makes the stream reproducible; ``None`` is random.
        now: the clock (default: UTC now); the simulator never reads time otherwise.
        faults: stream faults (``serve --stale-sensor`` ...); rolled on dice of their
            own, so a seed gives the same underlying stream with or without them.
    """

    def __init__(
        self,
        seed: int | None = None,
        now: Callable[[], datetime] | None = None,
        faults: StreamFaults | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.now = now or utc_now
        self.next_id = 1
        start = self.now()
        self.started = start
        self.sensors = [self._new_sensor(*spec, start) for spec in SENSORS]
        self._deck: list[SensorState] = []
        self.faults = faults if faults else None
        self.fault_rng = random.Random(None if seed is None else f"stream-faults-{seed}")
        self._pending: list[dict[str, Any]] = []
        self._held: dict[int, dict[str, Any]] = {}
        self._frozen: dict[int, float] = {}

    def _new_sensor(
        self, sensor_id: int, kind: str, location: str, value: float, start: datetime
    ) -> SensorState:
        rng = self.rng
        return SensorState(
            sensor_id=sensor_id,
            kind=kind,
            location=location,
            value=value,
            baseline=value,
            battery=rng.uniform(55.0, 100.0),
            signal=rng.uniform(50.0, 95.0),
            calibrated_at=start - timedelta(days=rng.randint(1, 90), hours=rng.randint(0, 23)),
            offset=round(rng.uniform(-0.5, 0.5), 2),
        )

    # -- valid messages ---------------------------------------------------------------

    def next_message(self) -> dict[str, Any]:
        """The next valid envelope: ~92% readings, ~6% status, ~2% errors."""
        if self._pending:
            return self._pending.pop(0)
        sensor = self._next_sensor()
        roll = self.rng.random()
        if roll < READING_SHARE:
            message = self.reading(sensor)
        elif roll < READING_SHARE + STATUS_SHARE:
            message = self.status(sensor)
        else:
            message = self.error(sensor)
        if self.faults is None:
            return message
        return self._with_faults(sensor, message, self.faults)

    def _next_sensor(self) -> SensorState:
        """The next sensor in this round's shuffled order (stale sensors sit out)."""
        for _ in range(2 * len(self.sensors) + 1):
            if not self._deck:
                self._deck = list(self.sensors)
                self.rng.shuffle(self._deck)
            sensor = self._deck.pop()
            if self.faults is None or not self._stale(sensor, self.faults):
                return sensor
        return sensor  # every sensor is stale: the gateway still reports errors and statuses

    def _stale(self, sensor: SensorState, faults: StreamFaults) -> bool:
        after = faults.stale.get(sensor.sensor_id)
        return after is not None and (self.now() - self.started).total_seconds() >= after

    def _with_faults(
        self, sensor: SensorState, message: dict[str, Any], faults: StreamFaults
    ) -> dict[str, Any]:
        """Break the stream the way ``faults`` asks, on dice of its own."""
        dice = self.fault_rng
        data = message["data"]
        sid = sensor.sensor_id
        if faults.status_rate and dice.random() < faults.status_rate:
            message = self.status(sensor)
            state = dice.choice(BAD_STATES)
            message["data"]["state"] = state
            message["data"]["message"] = STATUS_MESSAGES[state]
            data = message["data"]
        shift = faults.skew.get(sid, faults.skew.get(None))
        if shift:
            for name in ("timestamp", "created_at"):
                if name in data:
                    moment = datetime.fromisoformat(data[name]) + timedelta(seconds=shift)
                    data[name] = rfc3339(moment)
        if message["type"] != "sensor_reading":
            return message
        if sid in faults.flatline:
            data["value"] = self._frozen.setdefault(sid, data["value"])
        if faults.spike_rate and dice.random() < faults.spike_rate:
            q = sensor.quantity
            data["value"] = round(q.high + (q.high - q.low) * dice.uniform(5.0, 10.0), q.digits)
        if faults.duplicate_rate and dice.random() < faults.duplicate_rate:
            self._pending.append(json.loads(json.dumps(message)))
        held = self._held.pop(sid, None)
        if held is not None:
            self._pending.append(held)  # after a later reading of the same sensor
        elif faults.reorder_rate and dice.random() < faults.reorder_rate:
            self._held[sid] = message
            return self.next_message()
        return message

    def reading(self, sensor: SensorState) -> dict[str, Any]:
        """A ``sensor_reading`` from this sensor, after one step of drift and drain."""
        self._drift(sensor)
        measured = self.now()
        last = sensor.measured_at
        if last is not None and measured - last < timedelta(milliseconds=1):
            measured = last + timedelta(milliseconds=1)  # a burst: still distinct timestamps
        sensor.measured_at = measured
        stored = measured + timedelta(milliseconds=self.rng.randint(5, 900))
        reading_id, self.next_id = self.next_id, self.next_id + 1
        q = sensor.quantity
        value = round(sensor.value, q.digits) if q.digits else float(round(sensor.value))
        return {
            "type": "sensor_reading",
            "data": {
                "id": reading_id,
                "sensor_id": sensor.sensor_id,
                "type": sensor.kind,
                "location": sensor.location,
                "value": value,
                "unit": q.unit,
                "confidence": round(self.rng.uniform(0.7, 1.0), 2),
                "calibration_json": {
                    "calibrated_at": rfc3339(sensor.calibrated_at),
                    "offset": sensor.offset,
                },
                "extras_json": {
                    "battery_level": round(sensor.battery),
                    "signal_strength": round(sensor.signal),
                },
                "timestamp": rfc3339(measured),
                "created_at": rfc3339(stored),
            },
        }

    def status(self, sensor: SensorState) -> dict[str, Any]:
        """A ``sensor_status`` for this sensor; low_battery when the battery says so."""
        if sensor.battery < 20.0:
            state = "low_battery"
        else:
            state = self.rng.choices(HEALTHY_STATES, weights=HEALTHY_WEIGHTS)[0]
        return {
            "type": "sensor_status",
            "data": {
                "sensor_id": sensor.sensor_id,
                "state": state,
                "timestamp": rfc3339(self.now()),
                "location": sensor.location,
                "message": STATUS_MESSAGES[state],
                "battery_level": round(sensor.battery),
            },
        }

    def error(self, sensor: SensorState) -> dict[str, Any]:
        """An ``error`` about this sensor, the way a backend reports a failed read."""
        code, text = self.rng.choice(ERRORS)
        return {
            "type": "error",
            "data": {
                "message": text.format(id=sensor.sensor_id),
                "code": code,
                "sensor_id": sensor.sensor_id,
                "timestamp": rfc3339(self.now()),
            },
        }

    def _drift(self, sensor: SensorState) -> None:
        """One random-walk step, pulled back towards the sensor's baseline, within bounds.

        A plain random walk wanders off to the limits within minutes at rate 0; the pull
        (mean reversion) keeps a reading near where that room sits, give or take a few steps.
        """
        q = sensor.quantity
        pull = MEAN_REVERSION * (sensor.baseline - sensor.value)
        value = sensor.value + pull + self.rng.gauss(0.0, q.step)
        if value < q.low:
            value = 2 * q.low - value
        if value > q.high:
            value = 2 * q.high - value
        sensor.value = min(max(value, q.low), q.high)
        sensor.battery -= self.rng.uniform(0.005, 0.05)
        if sensor.battery < 3.0:
            sensor.battery = 100.0  # someone replaced it
        sensor.signal = min(max(sensor.signal + self.rng.gauss(0.0, 2.0), 5.0), 100.0)

    # -- broken messages --------------------------------------------------------------

    def malformed(self, kind: str | None = None) -> str:
        """A text frame that is not JSON at all (truncated, Python repr, two objects, text)."""
        kind = kind or self.rng.choice(MALFORMED_KINDS)
        message = self.next_message()
        text = json.dumps(message)
        if kind == "truncated":
            # Any proper prefix of an object lacks its closing brace: never valid JSON.
            return text[: self.rng.randint(1, len(text) - 1)]
        if kind == "python_repr":
            return repr(message)
        if kind == "two_objects":
            return text + text
        if kind == "plain_text":
            return "ERROR: upstream sensor gateway unavailable"
        raise ValueError(f"unknown malformed kind {kind!r}; expected one of {MALFORMED_KINDS}")

    def invalid(self, kind: str | None = None) -> dict[str, Any]:
        """Valid JSON that breaks the schema in exactly one way (see ``INVALID_KINDS``)."""
        kind = kind or self.rng.choice(sorted(INVALID_KINDS))
        sensor = self.rng.choice(self.sensors)
        if kind == "bad_state":
            message = self.status(sensor)
            message["data"]["state"] = "sleeping"
            return message
        if kind == "empty_error_message":
            message = self.error(sensor)
            message["data"]["message"] = ""
            return message
        message = self.reading(sensor)
        data = message["data"]
        if kind == "value_as_string":
            data["value"] = str(data["value"])
        elif kind == "missing_sensor_id":
            del data["sensor_id"]
        elif kind == "bad_timestamp":
            data["timestamp"] = self.rng.choice(["yesterday", "2024-13-45T25:61:00Z", "1705320000"])
        elif kind == "confidence_out_of_range":
            data["confidence"] = round(self.rng.uniform(1.01, 2.0), 2)
        elif kind == "battery_out_of_range":
            data["extras_json"]["battery_level"] = self.rng.randint(101, 250)
        elif kind == "unknown_type":
            message["type"] = "sensor_telemetry"
        elif kind == "missing_data":
            del message["data"]
        elif kind == "sensor_id_negative":
            data["sensor_id"] = -data["sensor_id"]
        else:
            raise ValueError(
                f"unknown invalid kind {kind!r}; expected one of {sorted(INVALID_KINDS)}"
            )
        return message
