"""bench/guard.py's verdicts: what counts as a miss, one retry, failures fail at once.

The measuring itself (subprocesses against a loopback sender) is what the guard runs
in CI; here its result is given, to pin the decisions taken on it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(BENCH))
    sys.modules.pop("guard", None)
    import guard as module

    return module


BASELINE = {"tail_jsonl": 1.8, "tail_validate": 1.4, "tail_record": 1.25}


def test_a_miss_is_a_ratio_more_than_the_tolerance_below_its_baseline(guard: Any) -> None:
    """20 % below 1.8 is 1.44: 1.45 passes, 1.43 misses; an unmeasured ratio misses."""
    ok = {"tail_jsonl": 1.45, "tail_validate": 1.13, "tail_record": 9.0}
    assert guard.misses(ok, BASELINE, 0.2) == []
    low = {"tail_jsonl": 1.43, "tail_validate": 1.12}
    found = guard.misses(low, BASELINE, 0.2)
    assert [line.split(":")[0] for line in found] == ["tail_jsonl", "tail_record"]
    assert "1.43x < 1.44x" in found[0] and "not measured" in found[1]
    assert guard.misses({}, {}, 0.2) == []  # nothing recorded: nothing to miss


def run_main(
    guard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, results: list[Any], *args: str
) -> tuple[int, int]:
    """guard.main with ``measure`` giving ``results`` in turn: (exit status, measurements)."""
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"ratios": BASELINE}))
    calls = iter(results)
    count = 0

    def measure(n: int, rounds: int, timeout: float) -> Any:
        nonlocal count
        count += 1
        return next(calls)

    monkeypatch.setattr(guard, "measure", measure)
    status = guard.main(["--baseline", str(baseline), *args])
    return status, count


GOOD = {"tail_jsonl": 1.8, "tail_validate": 1.4, "tail_record": 1.25}
SLOW = {"tail_jsonl": 1.0, "tail_validate": 1.4, "tail_record": 1.25}


def test_a_miss_is_measured_once_more_before_it_fails(
    guard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_main(guard, tmp_path, monkeypatch, [(GOOD, [])]) == (0, 1)
    assert run_main(guard, tmp_path, monkeypatch, [(SLOW, []), (GOOD, [])]) == (0, 2)
    assert run_main(guard, tmp_path, monkeypatch, [(SLOW, []), (SLOW, [])]) == (1, 2)


def test_a_broken_run_fails_at_once(
    guard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = ({}, ["wscli-jsonl round 1: delivered 3 of 5"])
    assert run_main(guard, tmp_path, monkeypatch, [failed, (GOOD, [])]) == (1, 1)


def test_update_records_the_ratios_and_keeps_the_note(
    guard: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, count = run_main(guard, tmp_path, monkeypatch, [(SLOW, [])], "--update")
    assert (status, count) == (0, 1)
    written = json.loads((tmp_path / "baseline.json").read_text())
    assert written["ratios"] == SLOW
    assert written["messages"] == 50_000


def test_the_shipped_baseline_names_every_guarded_ratio(guard: Any) -> None:
    shipped = json.loads((BENCH / "baseline.json").read_text())
    assert set(shipped["ratios"]) == set(guard.GUARDED)
    assert all(value > 1.0 for value in shipped["ratios"].values())  # faster than bare
