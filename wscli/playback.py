"""Playing a recording back with its original timing: ``wscli replay``.

Pure of sockets and terminals: a :class:`ReplayPlan` says which frames of which
recording to play and how fast, and :meth:`ReplayPlan.timed` yields them at the
moment they are due. The terminal (through :class:`~wscli.session.tailing.TailRun`), the
mock server (``replay --serve``, in :mod:`wscli.server.backend`) and ``replay --to`` all
pace frames through it, so "original timing" means one thing.

Frames are scheduled against a fixed start (``start + (t - t0) / speed``) rather
than by sleeping each gap in turn, so per-frame overhead never accumulates.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from wscli.errors import BadUsage
from wscli.frames import OP_BINARY, OP_CLOSE, OP_TEXT
from wscli.recording import (
    MAX_FRAME_TIME,
    ProblemSink,
    RecordedFrame,
    RecordingProblem,
    read_recording,
)

MAX_PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class ReplayPlan:
    """Which frames of a recording to play, and at what pace.

    Attributes:
        path: the recording file; read afresh (streaming) for every playback.
        direction: ``"in"`` (what the recorder received) or ``"out"`` (what it sent).
        speed: 2.0 plays twice as fast; ignored with ``no_delay``.
        start: skip frames recorded before this many seconds (``--from``).
        until: stop at frames recorded after this many seconds (``--until``).
        on_problem: the ``--lenient`` sink for damaged lines; ``None`` raises them.
    """

    path: str
    direction: str = "in"
    speed: float = 1.0
    no_delay: bool = False
    start: float = 0.0
    until: float | None = None
    on_problem: ProblemSink | None = field(default=None, compare=False)

    def frames(self) -> Iterator[RecordedFrame]:
        """Data frames (text, binary) of the chosen direction inside the time window."""
        recording = read_recording(self.path, on_problem=self.on_problem)
        direction, start, until = self.direction, self.start, self.until
        for frame in recording.frames(self.on_problem):
            if frame.t < start or frame.direction != direction:
                continue
            if until is not None and frame.t > until:
                return
            if frame.opcode == OP_TEXT or frame.opcode == OP_BINARY:
                yield frame

    def timed(
        self,
        *,
        wait: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> Iterator[RecordedFrame]:
        """Yield each frame when it is due; ``wait(deadline)`` blocks until then.

        The default wait sleeps; the server passes one that reads the client's
        frames meanwhile, the terminal one that flushes stdout first.
        """
        waiter = wait or _sleep_until
        began: float | None = None
        first_t = 0.0
        speed = self.speed if self.speed > 0 else 1.0
        for frame in self.frames():
            if began is None:
                began, first_t = clock(), frame.t
            elif not self.no_delay:
                # Bounded like the frame times: a tiny --speed must not overflow a sleep.
                due = began + min((frame.t - first_t) / speed, MAX_FRAME_TIME)
                if due > clock():
                    waiter(due)
            yield frame

    def close_frame(self) -> tuple[int | None, str] | None:
        """The close the recorded server sent (or, failing that, the recorder), if any."""
        found: tuple[int | None, str] | None = None
        for frame in read_recording(self.path, on_problem=skip_problem).frames(skip_problem):
            if frame.opcode != OP_CLOSE:
                continue
            if frame.direction == "in":
                return frame.code, frame.reason
            found = found or (frame.code, frame.reason)
        return found


def check_recording(path: str, lenient: bool) -> list[RecordingProblem]:
    """Read the whole recording once before playing it.

    Without ``lenient`` the first damaged line raises (line-numbered, exit 2), so
    nothing is played from a file that cannot be played whole. With it, the
    problems are returned for the caller to report. Memory stays flat: only the
    first :data:`MAX_PROBLEMS_SHOWN` problems are kept, plus a count.
    """
    _require_regular_file(path)
    problems: list[RecordingProblem] = []
    counter = _ProblemCounter(problems)
    plan = ReplayPlan(path, on_problem=counter if lenient else None)
    for _frame in read_recording(path, on_problem=plan.on_problem).frames(plan.on_problem):
        pass
    if counter.extra:
        problems.append(RecordingProblem(0, f"and {counter.extra} more damaged lines"))
    return problems


def _require_regular_file(path: str) -> None:
    """A pipe or a device can be read only once; replay reads the file again to play it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise BadUsage(f"cannot read recording {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(mode):
        raise BadUsage(
            f"{path} is not a regular file: replay reads a recording twice"
            " (checked whole, then played)",
            hint="save it to a file first, e.g. cat PIPE > session.jsonl",
        )


class _ProblemCounter:
    def __init__(self, kept: list[RecordingProblem]) -> None:
        self.kept = kept
        self.extra = 0

    def __call__(self, problem: RecordingProblem) -> None:
        if len(self.kept) < MAX_PROBLEMS_SHOWN:
            self.kept.append(problem)
        else:
            self.extra += 1


def skip_problem(problem: RecordingProblem) -> None:
    """Damaged lines were already reported by :func:`check_recording`."""


def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        time.sleep(delay)
