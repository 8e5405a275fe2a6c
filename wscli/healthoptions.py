"""The ``--health`` options, defined once for every command that judges a stream.

``--health`` turns every automatic check on with its default thresholds; any of
the other flags implies it and overrides one threshold. Imported by ``wscli --help``
(the options are part of each command), so the engine itself is imported only when
a config is built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from wscli.health import HealthConfig

F = TypeVar("F", bound=Callable[..., Any])

HEALTH_KEYS = (
    "health",
    "expect_sensors",
    "max_staleness",
    "max_skew",
    "max_error_rate",
    "rules_file",
    "source_key",
)


class Duration(click.ParamType):  # type: ignore[type-arg]
    """``500ms``, ``30s``, ``5m``, ``1h`` or plain seconds.

    Local to the health options until the shared duration type lands in
    :mod:`wscli.options`; both accept the same spellings.
    """

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        from wscli.health import parse_duration

        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def health_options(*, expect_sensors: bool = True) -> Callable[[F], F]:
    """Add the health flags; the command receives them as one ``health_values`` dict.

    ``expect_sensors=False`` leaves ``--expect-sensors`` out (a command that defines
    its own).
    """
    params = [
        click.option(
            "--health",
            is_flag=True,
            help="Judge the stream, not only each message: every source reporting, fresh,"
            " in order, without duplicates, plausible (staleness 60s, skew 5m by default).",
        ),
        *(
            [
                click.option(
                    "--expect-sensors",
                    metavar="N|ID,ID,...",
                    help="Health: fail unless N sources (or each listed one) report.",
                )
            ]
            if expect_sensors
            else []
        ),
        click.option(
            "--max-staleness",
            type=Duration(),
            metavar="DURATION",
            help="Health: fail when a source is silent longer (default 60s).",
        ),
        click.option(
            "--max-skew",
            type=Duration(),
            metavar="DURATION",
            help="Health: fail when receive time and data.timestamp differ more (default 5m).",
        ),
        click.option(
            "--max-error-rate",
            type=click.FloatRange(0.0, 1.0),
            metavar="P",
            help="Health: fail when the share of error messages is above P.",
        ),
        click.option(
            "--rules",
            "rules_file",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Health: plausibility rules (TOML) over the built-in ones.",
        ),
        click.option(
            "--source-key",
            metavar="PATH",
            help="Health: the field naming a source (default data.sensor_id).",
        ),
    ]

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {key: kwargs.pop(key, None) for key in HEALTH_KEYS}
            return function(*args, health_values=values, **kwargs)

        for param in reversed(params):
            wrapper = param(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate


def health_config(values: dict[str, Any], *, strict: bool = False) -> HealthConfig | None:
    """The run's :class:`~wscli.health.HealthConfig`, or ``None`` when health is off.

    Raises:
        BadUsage: a bad ``--expect-sensors``, ``--source-key`` or rules file (exit 2).
    """
    if not any(values.get(key) not in (None, False) for key in HEALTH_KEYS):
        return None
    from wscli.errors import BadUsage
    from wscli.health import DEFAULT_SKEW, DEFAULT_STALENESS, HealthConfig
    from wscli.healthrules import load_rules

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
