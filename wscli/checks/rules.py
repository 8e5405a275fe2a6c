"""Plausibility rules for ``--health``: per reading type, the range, step and flat-line limits.

Built-in defaults cover the seed's reading types (every type :mod:`wscli.server.simulator`
emits); ``--rules FILE`` (TOML) adds types or overrides fields of built-in ones. A key
this module does not know is a typo, not a wish: it is refused with exit 2 naming the
file, the line and the key, because a silently ignored ``max_stpe`` would pass a
stream the user meant to fail.

The file::

    [defaults]            # every type without its own value
    flatline = 20         # the same value this many readings in a row: suspect
    min_confidence = 0.5  # data.confidence below it: suspect

    [types.temperature]
    unit = "°C"           # optional: the range holds for this unit only
    min = -40.0
    max = 85.0
    max_step = 5.0        # a jump larger than this between consecutive readings: suspect
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from wscli.errors import BadUsage

DEFAULT_FLATLINE = 20
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True, slots=True)
class Rule:
    """What is plausible for one reading type; ``None`` switches that test off."""

    unit: str | None = None
    min: float | None = None
    max: float | None = None
    max_step: float | None = None
    flatline: int | None = DEFAULT_FLATLINE
    min_confidence: float | None = DEFAULT_MIN_CONFIDENCE


# Physical ranges of common indoor sensors, generous on purpose: a value outside is a
# broken sensor or a bug, never weather. The steps are far beyond anything the
# simulator's random walk takes (over 10 standard deviations), so a clean stream is quiet.
BUILTIN_RULES: dict[str, Rule] = {
    "moisture_level": Rule(unit="%", min=0.0, max=100.0, max_step=10.0),
    "temperature": Rule(unit="°C", min=-40.0, max=85.0, max_step=5.0),
    "humidity": Rule(unit="%RH", min=0.0, max=100.0, max_step=10.0),
    "co2": Rule(unit="ppm", min=250.0, max=10000.0, max_step=1000.0),
    "radon": Rule(unit="pCi/L", min=0.0, max=100.0, max_step=5.0),
}

_NUMBER_KEYS = ("min", "max", "max_step", "min_confidence")
_TYPE_KEYS = {"unit", *_NUMBER_KEYS, "flatline"}
_DEFAULT_KEYS = {"flatline", "min_confidence"}
_TOP_KEYS = {"defaults", "types"}


@dataclass(frozen=True)
class Rules:
    """The rule for each reading type, and the rule for types nobody described."""

    types: dict[str, Rule]
    fallback: Rule

    def for_type(self, kind: object) -> Rule:
        rule = self.types.get(kind) if isinstance(kind, str) else None
        return rule if rule is not None else self.fallback


def builtin_rules() -> Rules:
    return Rules(dict(BUILTIN_RULES), Rule())


def load_rules(path: str | None) -> Rules:
    """The built-in rules, overridden by ``path`` when given.

    Raises:
        BadUsage: the file is unreadable, not TOML, or has an unknown key or a wrong
            value (exit 2, naming the line and the key).
    """
    if path is None:
        return builtin_rules()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BadUsage(f"cannot read --rules {path}: {reason}") from None
    return parse_rules(text, path)


def parse_rules(text: str, name: str = "rules") -> Rules:
    """Rules from TOML text; see the module docstring for the format."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[no-redef, import-not-found, unused-ignore]

    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadUsage(f"--rules {name}: not valid TOML: {exc}") from None
    locate = _Locator(text, name)
    for key in document:
        if key not in _TOP_KEYS:
            raise locate.bad(None, key, "unknown table or key; expected [defaults] or [types.NAME]")
    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        raise locate.bad(None, "defaults", "must be a table: [defaults]")
    fallback = Rule()
    fields = _fields(defaults, "defaults", _DEFAULT_KEYS, locate)
    fallback = replace(fallback, **fields)
    types: dict[str, Rule] = {kind: replace(rule, **fields) for kind, rule in BUILTIN_RULES.items()}
    table = document.get("types", {})
    if not isinstance(table, dict):
        raise locate.bad(None, "types", "must hold tables: [types.NAME]")
    for kind, body in table.items():
        if not isinstance(body, dict):
            raise locate.bad("types", kind, "must be a table: [types.NAME]")
        own = _fields(body, f"types.{kind}", _TYPE_KEYS, locate)
        types[kind] = replace(types.get(kind, fallback), **own)
    return Rules(types, fallback)


def _fields(
    body: dict[str, Any], table: str, allowed: set[str], locate: _Locator
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key not in allowed:
            raise locate.bad(
                table, key, f"unknown key; expected one of {', '.join(sorted(allowed))}"
            )
        if key == "unit":
            if not isinstance(value, str):
                raise locate.bad(table, key, "must be a string")
        elif key == "flatline":
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise locate.bad(table, key, "must be a whole number of readings, 2 or more")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise locate.bad(table, key, "must be a number")
        out[key] = float(value) if key in _NUMBER_KEYS else value
    if out.get("min") is not None and out.get("max") is not None and out["min"] > out["max"]:
        raise locate.bad(table, "max", "is below min")
    return out


class _Locator:
    """Finds the line a key was written on; tomllib reports values, not places."""

    def __init__(self, text: str, name: str) -> None:
        self.lines = text.splitlines()
        self.name = name

    def line_of(self, table: str | None, key: str) -> int | None:
        current: str | None = None
        pattern = re.compile(
            rf"""^\s*(?:"{re.escape(key)}"|'{re.escape(key)}'|{re.escape(key)})\s*="""
        )
        header = re.compile(r"^\s*\[+\s*([^\]]+?)\s*\]+")
        for number, line in enumerate(self.lines, 1):
            found = header.match(line)
            if found:
                current = found.group(1).replace('"', "").replace("'", "").replace(" ", "")
                if table is not None and current == f"{table}.{key}":
                    return number
                if table is None and (current == key or current.startswith(f"{key}.")):
                    return number
                continue
            if pattern.match(line) and (current == table or (table and current is None)):
                return number
            if table is not None and pattern.match(line.replace(f"{table}.", "", 1)):
                return number
        return None

    def bad(self, table: str | None, key: str, reason: str) -> BadUsage:
        line = self.line_of(table, key)
        where = f"{self.name}:{line}" if line is not None else self.name
        full = f"{table}.{key}" if table else key
        return BadUsage(f"--rules {where}: {full!r}: {reason}")
