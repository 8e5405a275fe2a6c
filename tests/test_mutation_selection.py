"""mutmut's test selection in pyproject.toml lists files by name: keep it whole.

mutmut only runs, for a mutant, the tests its stats run traced, and it only traces
the files in the selection. A pin file left out of the list kills nothing, and the
survivors it was written for are counted as gaps (it happened once).
"""

from __future__ import annotations

from pathlib import Path

from wscli.profiles import _toml_loads

ROOT = Path(__file__).parent.parent


def _selection() -> list[str]:
    config = _toml_loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    selection: list[str] = config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    return selection


def test_every_pin_file_is_in_mutmuts_selection() -> None:
    """Each tests/test_*pins*.py is listed, so mutation runs count what it kills."""
    listed = set(_selection())
    pins = {f"tests/{path.name}" for path in (ROOT / "tests").glob("test_*pins*.py")}
    assert pins and pins <= listed, sorted(pins - listed)


def test_every_listed_file_exists_and_slow_tests_are_left_out() -> None:
    """A renamed file would make mutmut's collection fail; slow tests stay out."""
    selection = _selection()
    files = [item for item in selection if item.startswith("tests/")]
    assert [f for f in files if not (ROOT / f).is_file()] == []
    assert selection[:2] == ["-m", "not slow"]
