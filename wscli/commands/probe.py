"""``wscli probe``: which step of a connection fails and why; a CI gate on a live stream.

Thin on purpose: parse options, run :class:`wscli.probe.steps.Probe`, draw its result with
:mod:`wscli.probe.reports`, exit with the failed step's code. Imported by ``wscli
--help``, so the network and report modules are imported inside the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from wscli.durations import POSITIVE_MS, POSITIVE_SECONDS
from wscli.errors import EXIT_CODE_HELP, BadUsage, WscliError
from wscli.options.connection import connection_params
from wscli.options.health import health_options
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state

_seconds = POSITIVE_SECONDS


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@connection_params()
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A checklist, or one JSON document (parseable on every ending).",
)
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line.")
@click.option(
    "--timeout",
    type=_seconds,
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for the first message (and the ping's pong).",
)
@click.option(
    "--resolve",
    "resolve",
    multiple=True,
    metavar="HOST:PORT:ADDR[,ADDR]",
    help="Use these addresses for HOST:PORT, in this order (like curl; repeatable).",
)
# CI checks (wscli.checks.specs)
@click.option("--expect-message", is_flag=True, help="Check: a message within --timeout.")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    metavar="N",
    help="Check: at least N messages --within.",
)
@click.option(
    "--within",
    type=_seconds,
    metavar="SECONDS",
    help="The checks' window after the upgrade (default: --timeout).",
)
@click.option(
    "--expect-type",
    "expect_types",
    multiple=True,
    metavar="T",
    help="Check: a message of type T arrives (repeatable).",
)
@click.option(
    "--forbid-type",
    "forbid_types",
    multiple=True,
    metavar="T",
    help="Check: no message of type T in the window (repeatable).",
)
@click.option(
    "--max-gap",
    type=_seconds,
    metavar="SECONDS",
    help="Check: no silence longer than this, to the window's end.",
)
@click.option(
    "--max-latency",
    type=POSITIVE_MS,
    metavar="MS",
    help="Check: first message within MS milliseconds of the upgrade.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Check: every message of the window valid (built-in schema).",
)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema for --validate.",
)
@health_options()
@click.option("--strict", is_flag=True, help="With --health, a suspect check fails too.")
@pass_state
def probe(
    state: AppState,
    conn_values: dict[str, Any],
    fmt: str,
    junit_file: str | None,
    quiet: bool,
    timeout: float,
    resolve: tuple[str, ...],
    expect_message: bool,
    min_count: int | None,
    within: float | None,
    expect_types: tuple[str, ...],
    forbid_types: tuple[str, ...],
    max_gap: float | None,
    max_latency: float | None,
    validate: bool,
    schema_file: str | None,
    health_values: dict[str, Any],
    strict: bool,
) -> None:
    """Diagnose a connection to URL step by step; gate CI on a live stream.

    Resolve (every address), TCP (each address), proxy, TLS (certificate),
    upgrade (status, headers), first message, ping: each timed and shown, the
    first failure with a hint, its exit code from the table below. Checks
    listen for the window they need after the upgrade (--validate,
    --forbid-type and --max-gap: all of it); a failed one exits 1 after all
    are reported, a stream lost inside the window exits 8.

    \b
    Examples:
      wscli probe ws://localhost:8000/api/ws/sensor/stream
      wscli probe wss://staging.example/ws --token "$TOKEN" --junit probe.xml \\
          --min-count 5 --within 10 --expect-type sensor_reading --max-gap 3 --validate
      wscli probe URL -o json | jq .steps
      wscli probe ws://localhost:8000/ws --resolve localhost:8000:::1,127.0.0.1
      wscli probe URL --expect-sensors 8 --max-staleness 30s --within 60s

    --health (or any of its flags) listens the whole window and adds one
    assertion per stream check (coverage, staleness, ...) and a per-source table.
    """
    from wscli.net.tap import Redactor
    from wscli.options.connection import build_connection
    from wscli.output.terminal import Output
    from wscli.probe.checks import Plan
    from wscli.probe.steps import Probe, parse_resolve, system_resolver, url_failure

    output = Output(color=state.color)
    if junit_file is not None and not Path(junit_file).resolve().parent.is_dir():
        raise BadUsage(
            f"cannot write --junit {junit_file}: no folder {Path(junit_file).resolve().parent}",
            hint="create the folder first",
        )
    try:
        overrides = parse_resolve(resolve)
    except ValueError as exc:
        raise BadUsage(str(exc), hint="e.g. --resolve localhost:8000:127.0.0.1") from None
    from wscli.options.health import health_config

    plan = Plan(
        health=health_config(health_values, strict=strict),
        timeout=timeout,
        expect_message=expect_message,
        min_count=min_count,
        within=within,
        expect_types=expect_types,
        forbid_types=forbid_types,
        max_gap=max_gap,
        max_latency_ms=max_latency,
        validate=validate or schema_file is not None,
    )
    url = conn_values["url"] or ""
    try:
        options, tap = build_connection(conn_values)
    except BadUsage as exc:
        redactor = Redactor(enabled=not conn_values["no_redact"])
        result = url_failure(url, exc, redactor)
    else:
        try:
            from wscli.session.tailing import load_validator

            validator = load_validator(schema_file) if plan.validate else None
            runner = Probe(
                options,
                tap=tap,
                plan=plan,
                resolver=system_resolver(overrides),
                validator=validator,
            )
            result = runner.run()
        finally:
            tap.close()
    _report(output, result, fmt=fmt, quiet=quiet, junit_file=junit_file)


def _report(output: Any, result: Any, *, fmt: str, quiet: bool, junit_file: str | None) -> None:
    """Write every report, then leave with the result's exit code."""
    from wscli.output.files import ReportFiles
    from wscli.probe.reports import checklist, json_document, junit_xml

    reports = ReportFiles()
    if junit_file is not None:
        reports.write(junit_file, junit_xml(result), option="--junit")
    if fmt == "json":
        text = json.dumps(json_document(result), ensure_ascii=False, indent=2) + "\n"
    else:
        from wscli.output.layout import fit_lines

        text = checklist(result, fancy=output.emoji, color=output.color, quiet=quiet)
        text = fit_lines(text, output.width)  # a narrow terminal wraps, never cuts
    output.write(text.encode("utf-8", "replace"))
    output.flush()
    if result.interrupted is None:
        verdict = result.error or _assertions_failed(result)
        # A report not written: exit 2 over a pass or a failed assertion, each file named.
        error = reports.ending(verdict, output.note)
        if error is not None and error is not verdict:
            raise error
        if verdict is not None:
            output.note(verdict.one_line())
    else:
        reports.signalled(output.note)
    if result.exit_code:
        raise click.exceptions.Exit(result.exit_code)


def _assertions_failed(result: Any) -> WscliError | None:
    """The one stderr line after the steps passed: the stream lost inside the window
    (exit 8), else the failed checks (the reports hold each measurement)."""
    from wscli.errors import CheckFailed

    if result.lost is not None:
        return result.lost  # type: ignore[no-any-return]

    bad = [a for a in result.checks if a.ok is False]
    if not bad:
        return None
    names = ", ".join(f"{a.name}: {a.measured}" for a in bad)
    noun = "assertion" if len(bad) == 1 else "assertions"
    return CheckFailed(f"{len(bad)} of {len(result.checks)} {noun} failed ({names})")
