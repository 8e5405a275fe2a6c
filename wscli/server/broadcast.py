"""``wscli serve --broadcast``: one generated stream shared by every client.

The real backend fans each reading out to every dashboard (pub/sub); this hub does
the same. One thread generates at ``--rate`` from one seeded
:class:`~wscli.server.simulator.Simulator` (faults rolled once per message, so every
client sees the same bad frames) and queues each frame for every subscriber;
each connection's own handler thread sends from its queue, so a slow client
never holds up the others. A queue that overflows drops for that client only and
says so (``lagged``).

``--fanout-loss P`` makes each client silently miss a share P of the messages, by
its own seeded dice, and records which: what the fan-out check of ``wscli load``
must find.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from wscli.server.simulator import Simulator

if TYPE_CHECKING:
    from wscli.server.config import ConnectionStats, ServerConfig

IDLE_WAIT = 5.0  # a sender with nothing to send checks on its client this often
QUEUE_LIMIT = 10_000  # frames waiting for one client before it starts to lag
MAX_LAG = 1.0  # a generator this far behind schedule starts a fresh one, no burst
DROPPED_IDS_KEPT = 100_000  # per client: the ids it was made to miss (for the tests)
BINARY_MAGIC = b"\x89WSCLI\x00"


class Subscriber:
    """One client's queue and loss dice."""

    def __init__(self, stats: ConnectionStats, loss: float, seed: int | None) -> None:
        self.stats = stats
        self.loss = loss
        self.dice = random.Random(f"loss-{seed}" if seed is not None else None)
        self.queue: deque[tuple[str, str | bytes, Any]] = deque()
        self.ready = threading.Condition(threading.Lock())

    def offer(self, kind: str, payload: str | bytes, message_id: Any) -> None:
        """Queue one frame, unless the fault dice or a full queue drop it."""
        stats = self.stats
        if self.loss and self.dice.random() < self.loss:
            stats.dropped += 1
            if message_id is not None and len(stats.dropped_ids) < DROPPED_IDS_KEPT:
                stats.dropped_ids.append(message_id)
            return
        with self.ready:
            if len(self.queue) >= QUEUE_LIMIT:
                stats.lagged += 1
                return
            self.queue.append((kind, payload, message_id))
            self.ready.notify()

    def take(self, timeout: float) -> tuple[str, str | bytes, Any] | None:
        with self.ready:
            if not self.queue:
                self.ready.wait(timeout)
            return self.queue.popleft() if self.queue else None


class Broadcaster:
    """Generates the shared stream and hands each frame to every subscriber."""

    def __init__(self, config: ServerConfig, stopping: threading.Event) -> None:
        self.config = config
        self.stopping = stopping
        self.lock = threading.Lock()
        self.subscribers: list[Subscriber] = []
        self.sent = 0
        self._thread: threading.Thread | None = None

    def subscribe(self, stats: ConnectionStats) -> Subscriber:
        sub = Subscriber(stats, self.config.fanout_loss, stats.seed)
        with self.lock:
            self.subscribers.append(sub)
            if self._thread is None:  # ids start at 1 with the first client
                self._thread = threading.Thread(
                    target=self._run, name="wscli-serve-broadcast", daemon=True
                )
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self.lock:
            if sub in self.subscribers:
                self.subscribers.remove(sub)

    def _run(self) -> None:
        config = self.config
        sim = Simulator(config.seed, faults=config.stream_faults)
        dice = random.Random(f"faults-{config.seed}" if config.seed is not None else None)
        interval = 1.0 / config.rate
        start = time.monotonic()
        while not self.stopping.is_set():
            due = start + self.sent * interval
            now = time.monotonic()
            if now - due > MAX_LAG:
                start = now - self.sent * interval
            elif due > now and self.stopping.wait(due - now):
                break
            kind, payload, message_id = _next_frame(config, sim, dice)
            self.sent += 1
            with self.lock:
                subscribers = list(self.subscribers)
            for sub in subscribers:
                sub.offer(kind, payload, message_id)
        with self.lock:  # stopping: wake every sender so it can close at once
            subscribers = list(self.subscribers)
        for sub in subscribers:
            with sub.ready:
                sub.ready.notify_all()


def _next_frame(
    config: ServerConfig, sim: Simulator, dice: random.Random
) -> tuple[str, str | bytes, Any]:
    """The next shared frame: (kind for the stats, payload, data.id or None)."""
    roll = (
        dice.random() if (config.malformed_rate or config.invalid_rate or config.binary_rate) else 1
    )
    if roll < config.malformed_rate:
        return "malformed", sim.malformed(), None
    if roll < config.malformed_rate + config.invalid_rate:
        return "invalid", json.dumps(sim.invalid(), ensure_ascii=False), None
    if roll < config.malformed_rate + config.invalid_rate + config.binary_rate:
        return "binary", BINARY_MAGIC + dice.randbytes(8), None
    message = sim.next_message()
    data = message.get("data")
    message_id = data.get("id") if isinstance(data, dict) else None
    return message["type"], json.dumps(message, ensure_ascii=False), message_id


def stream_broadcast(hub: Any, connection: Any, stats: ConnectionStats) -> None:
    """Send the shared stream to one client until a limit, the client, or stop() ends it.

    ``hub`` is the server's ``_Hub``: its limits (``--count``, ``--close-after``,
    ``--drop-after``), endings and client-frame draining apply as without
    ``--broadcast``.
    """
    broadcaster: Broadcaster = hub.broadcaster
    sub = broadcaster.subscribe(stats)
    try:
        limit, ending = hub._limit()
        sent = 0
        while limit is None or sent < limit:
            if hub.stopping.is_set():
                hub._closed_elsewhere(stats, 1001, None)
                return
            item = sub.take(IDLE_WAIT)
            if item is None:
                hub._drain(connection, stats, 0.0)  # answers pings, notices a close
                continue
            kind, payload, _ = item
            connection.send(payload)
            if kind in stats.by_type:
                stats.by_type[kind] += 1
            else:
                setattr(stats, kind, getattr(stats, kind) + 1)
            sent += 1
            if sent % 64 == 0:
                hub._drain(connection, stats, 0.0)
        hub._end(connection, stats, ending)
    finally:
        broadcaster.unsubscribe(sub)
