"""mutmut's test selection is a marker expression, not a list of files that can go stale.

mutmut only runs, for a mutant, the tests its stats run traced, and it only traces
the selection. A pin file once left out of a hand-kept list killed nothing; the
selection is now "every test not marked slow", so a new test counts by default.
"""

from __future__ import annotations

from pathlib import Path

from wscli.profiles import _toml_loads

ROOT = Path(__file__).resolve().parents[2]


def _selection() -> list[str]:
    config = _toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    selection: list[str] = config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    return selection


def test_selection_is_by_marker_and_leaves_slow_tests_out() -> None:
    """No test file is named, so none can be forgotten; slow tests stay out."""
    selection = _selection()
    assert selection[:2] == ["-m", "not slow"]
    assert [item for item in selection[2:] if item.endswith(".py")] == []


def test_every_pin_file_is_fast() -> None:
    """Pin files exist to be in mutmut's selection: none of their tests is marked slow."""
    pins = sorted((ROOT / "tests").rglob("test_*pins*.py"))
    assert pins
    assert [p.name for p in pins if "mark.slow" in p.read_text(encoding="utf-8")] == []
