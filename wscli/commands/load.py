"""``wscli load``: many streaming users at once, on Locust, from one machine to many.

Thin: parse options, patch the process for gevent (Locust's concurrency), hand the
plan to :mod:`wscli.loadrun`, then report with :mod:`wscli.loadreport`. Locust and
gevent are imported only inside the command, never by ``wscli load --help``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from wscli.cli import AppState, pass_state
from wscli.connection import ConnectOptions
from wscli.errors import EXIT_CODE_HELP, BadUsage, ExitStatus, interrupt_status
from wscli.healthoptions import health_options
from wscli.options import connection_options
from wscli.tap import Tap

if TYPE_CHECKING:
    from wscli.health import HealthResult
    from wscli.loadreport import Limits
    from wscli.loadrun import LoadPlan, RunResult
    from wscli.output import Output

INSTALL_HINT = "install it with: pip install 'wscli-toolkit[load]'"
_positive = click.FloatRange(min=0, min_open=True)


@click.command(epilog=EXIT_CODE_HELP)
@connection_options
@click.option(
    "-u",
    "--users",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Simulated users, each holding one stream.",
)
@click.option(
    "-r",
    "--spawn-rate",
    type=_positive,
    default=10.0,
    show_default=True,
    help="Users started per second.",
)
@click.option(
    "-t",
    "--duration",
    type=_positive,
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long the run lasts, ramp-up included; then every user closes with 1000.",
)
@click.option("--validate", is_flag=True, help="Count invalid and malformed messages as failures.")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Schema for --validate (default: the built-in sensor stream schema).",
)
@click.option("--fanout", is_flag=True, help="Check that every user got every message id.")
@click.option(
    "--id-field",
    default="data.id",
    show_default=True,
    metavar="PATH",
    help="The message id the fan-out check compares.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Reconnect attempts per drop (and per user's first connect); 0 never reconnects.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=0.5,
    show_default=True,
    metavar="SECONDS",
    help="Base of the exponential reconnect backoff (full jitter), as in tail.",
)
@click.option(
    "-o",
    "--output",
    "mode",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="The summary as a table, or one JSON document on stdout.",
)
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False), help="JUnit XML report.")
@click.option("--csv", "csv_prefix", metavar="PREFIX", help="Locust's CSV files, PREFIX_*.csv.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False), help="Locust's HTML report.")
# Thresholds
@click.option(
    "--max-failure-rate",
    type=click.FloatRange(0, 1),
    metavar="RATIO",
    help="Exit 1 above this share of failed requests (connects, messages, drops).",
)
@click.option(
    "--min-rate",
    type=click.FloatRange(min=0),
    metavar="MSG_PER_S",
    help="Exit 1 below this many messages per second per connected user.",
)
@click.option(
    "--max-connect-p99",
    type=click.FloatRange(min=0),
    metavar="MS",
    help="Exit 1 when the 99th percentile connect time is above this.",
)
@click.option(
    "--max-delay-p99",
    type=click.FloatRange(min=0),
    metavar="MS",
    help="Exit 1 when the 99th percentile delivery delay is above this.",
)
@click.option(
    "--max-missed",
    type=click.IntRange(min=0),
    metavar="N",
    help="With --fanout: exit 1 when users missed more than N messages in all (default 0).",
)
# Distributed: Locust's own runners and flag names
@click.option("--master", is_flag=True, help="Be Locust's master: workers run the users.")
@click.option(
    "--expect-workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="With --master: start once this many workers are connected.",
)
@click.option(
    "--master-bind-host",
    default="*",
    show_default=True,
    help="With --master: interface the workers connect to (* = all).",
)
@click.option(
    "--master-bind-port",
    type=click.IntRange(1, 65535),
    default=5557,
    show_default=True,
    help="With --master: port the workers connect to.",
)
@click.option("--worker", is_flag=True, help="Be a Locust worker; the master sends the settings.")
@click.option(
    "--master-host",
    default="127.0.0.1",
    show_default=True,
    help="With --worker: where the master runs.",
)
@click.option(
    "--master-port",
    type=click.IntRange(1, 65535),
    default=5557,
    show_default=True,
    help="With --worker: the master's --master-bind-port.",
)
@health_options()
@click.option("--strict", is_flag=True, help="With --health, a suspect check fails too.")
@pass_state
def load(
    state: AppState,
    conn: ConnectOptions,
    tap: Tap,
    users: int,
    spawn_rate: float,
    duration: float,
    validate: bool,
    schema_file: str | None,
    fanout: bool,
    id_field: str,
    retries: int,
    backoff: float,
    mode: str,
    junit_file: str | None,
    csv_prefix: str | None,
    html_file: str | None,
    max_failure_rate: float | None,
    min_rate: float | None,
    max_connect_p99: float | None,
    max_delay_p99: float | None,
    max_missed: int | None,
    master: bool,
    expect_workers: int,
    master_bind_host: str,
    master_bind_port: int,
    worker: bool,
    master_host: str,
    master_port: int,
    health_values: dict[str, Any],
    strict: bool,
) -> None:
    """Open many streams to URL at once and check they all hold up (on Locust).

    Each user opens one stream with every connection option, reports connect
    time, each message by type and its delivery delay (now minus data.timestamp)
    to Locust, and reconnects like tail. Thresholds turn the run into a CI check
    (exit 1); when every user fails to connect the same way, the exit code is
    that connection error's (3-8).

    \b
    Examples:
      wscli load URL --users 200 --spawn-rate 50 --duration 60
      wscli load URL -u 50 -t 30 --fanout --max-delay-p99 500 --junit load.xml
      wscli load URL --validate --max-failure-rate 0.01 -o json
    \b
    Many machines (Locust's master and workers; the master sends the settings):
      wscli load URL --master --expect-workers 2 -u 4000 -t 120
      wscli load --worker --master-host MASTER_HOST      (on each worker)
    """
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise BadUsage("wscli load needs Locust, which is not installed", hint=INSTALL_HINT)
    if master and worker:
        raise BadUsage("--master and --worker exclude each other", hint="pick one role")
    if max_missed is not None and not fanout:
        raise BadUsage("--max-missed needs --fanout")
    from wscli.filters import parse_field_path
    from wscli.outfiles import check_writable

    for path, option in ((junit_file, "--junit"), (html_file, "--html"), (csv_prefix, "--csv")):
        if path:
            check_writable(path, option)  # fail before the run, not after it

    try:
        parse_field_path(id_field)
    except ValueError as exc:
        raise BadUsage(f"--id-field: {exc}", hint="write paths like data.id") from None
    _patch_for_gevent()
    from dataclasses import asdict

    from wscli.load import LoadSettings
    from wscli.loadreport import Limits
    from wscli.loadrun import LoadPlan

    schema, schema_dir = _schema(schema_file) if (validate or schema_file) else (None, None)
    role = "master" if master else "worker" if worker else "local"
    plan = LoadPlan(
        settings=LoadSettings(
            connect=asdict(conn),
            validate=validate or schema_file is not None,
            schema=schema,
            schema_dir=schema_dir,
            fanout=fanout,
            id_field=id_field,
            retries=retries,
            backoff=backoff,
            health=_health_settings(health_values, strict, distributed=master or worker),
            health_strict=strict,
        ),
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        role=role,
        expect_workers=expect_workers,
        master_bind_host=master_bind_host,
        master_bind_port=master_bind_port,
        master_host=master_host,
        master_port=master_port,
        csv_prefix=csv_prefix if role != "worker" else None,
        html_file=html_file if role != "worker" else None,
    )
    limits = Limits(
        max_failure_rate=max_failure_rate,
        min_rate=min_rate,
        max_connect_p99=max_connect_p99,
        max_delay_p99=max_delay_p99,
        max_missed=max_missed,
    )
    _run(state, tap, plan, limits, mode=mode, junit_file=junit_file)


def _health_settings(
    values: dict[str, Any], strict: bool, *, distributed: bool
) -> dict[str, Any] | None:
    """The health flags as plain values for every user, checked once here (exit 2)."""
    from wscli.healthoptions import health_config

    if health_config(values, strict=strict) is None:
        return None
    if distributed:
        raise BadUsage(
            "--health judges the streams of one load process for now",
            hint="run load --health without --master/--worker",
        )
    return dict(values)


def _schema(schema_file: str | None) -> tuple[dict[str, object] | None, str | None]:
    """The schema document itself (workers may not have the file), compiled once to check it."""
    from pathlib import Path

    from wscli.schema import load_schema
    from wscli.tailing import load_validator

    load_validator(schema_file)  # a bad schema fails here, before any user starts
    if schema_file is None:
        return None, None
    return load_schema(schema_file), str(Path(schema_file).resolve().parent)


def _patch_for_gevent() -> None:
    """gevent's monkey-patching, once, before Locust (and its sockets) are imported.

    Ctrl-C and SIGTERM (``Terminated``) are how a run ends early, not errors: the hub
    still hands them to the main greenlet, which writes the summary and reports, but
    does not print a traceback for them.
    """
    import signal

    import gevent
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        monkey.patch_all()
    hub = gevent.get_hub()
    hub.NOT_ERROR = (*hub.NOT_ERROR, KeyboardInterrupt)
    main = gevent.getcurrent()

    def on_sigterm() -> None:
        from wscli.errors import Terminated

        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills at once
        main.throw(Terminated())

    # Python's own handler would raise in whichever greenlet runs (often the hub).
    gevent.signal_handler(signal.SIGTERM, on_sigterm)


def _run(
    state: AppState, tap: Tap, plan: LoadPlan, limits: Limits, *, mode: str, junit_file: str | None
) -> None:
    from wscli.fdlimit import raise_open_file_limit
    from wscli.load import REGISTRY
    from wscli.loadrun import quiet_locust_logs, run
    from wscli.loadview import ProgressView
    from wscli.output import Output

    raise_open_file_limit()
    quiet_locust_logs(verbose=tap.stderr_sink is not None)
    REGISTRY.tap = tap if tap.enabled else None
    output = Output(color=state.color)
    view = ProgressView(output, plan.users, role=plan.role)
    try:
        result = run(plan, tick=view.tick, note=output.note)
    finally:
        view.close()
    _report(plan, limits, result, output, mode=mode, junit_file=junit_file)


def _report(
    plan: LoadPlan,
    limits: Limits,
    result: RunResult,
    output: Output,
    *,
    mode: str,
    junit_file: str | None,
) -> None:
    from wscli.loadreport import (
        Summary,
        exit_status,
        from_locust,
        from_records,
        json_document,
        judge,
        junit_xml,
        summary_rows,
        verdict_line,
        write_atomic,
    )
    from wscli.loadrun import write_html

    summary = Summary(role=plan.role, target_users=plan.users, duration=result.elapsed)
    if result.interrupted is not None:
        summary.interrupted = (
            "terminated" if interrupt_status(result.interrupted) == 143 else "interrupted"
        )
    if plan.role == "worker":
        from_records(result.records, summary)
        summary.target_users = 0
    else:
        from_locust(result.environment.stats, result.records, summary)
        summary.problems.extend(result.worker_problems)
        if plan.settings.fanout:
            from wscli import fanout

            summary.fanout = fanout.check(result.records, end=result.ended_at)
            summary.fanout.complete = not result.fanout_truncated
            if result.fanout_truncated:
                summary.fanout.note = "more ids than the memory budget allows"
        judge(summary, limits, fanout=plan.settings.fanout)
    health = _health_result(plan, result, summary.interrupted)
    if junit_file:
        xml = junit_xml(summary)
        if health is not None:
            from wscli.healthreport import add_health_suite

            xml = add_health_suite(xml, health, result.elapsed)
        write_atomic(junit_file, xml)
    if plan.html_file:
        write_html(result.environment, plan.html_file)
    if mode == "json":
        import json

        document = json_document(summary)
        if health is not None:
            document["health"] = health.as_dict()
        output.write((json.dumps(document) + "\n").encode())
    else:
        _print_table(output, summary_rows(summary), verdict_line(summary))
        if health is not None:
            from wscli.healthreport import health_text

            text = health_text(health, color=output.color, width=output.width or 120)
            output.write(("\n" + text).encode("utf-8", "replace"))
    output.flush()
    if result.interrupted is not None:
        raise click.exceptions.Exit(interrupt_status(result.interrupted))
    if result.cpu_warning:
        output.note(
            "wscli: note: a load process ran above 90 % CPU: delays may be the load"
            " generator's own; use fewer users per process, or more workers"
        )
    code, line = exit_status(summary)
    if line:
        output.note(line)
    if code:
        raise click.exceptions.Exit(code)
    if health is not None and not health.ok:
        output.note(f"wscli: {health.verdict()}")
        raise click.exceptions.Exit(ExitStatus.CHECK_FAILED)


def _health_result(plan: LoadPlan, result: RunResult, stopped: str | None) -> HealthResult | None:
    """Every user's stream judged on its own, merged per source (local runs)."""
    if plan.settings.health is None:
        return None
    from wscli.health import merge_results
    from wscli.load import REGISTRY

    results = [engine.result(end=result.ended_at) for engine in REGISTRY.health]
    merged = merge_results(results, strict=plan.settings.health_strict)
    merged.stopped = stopped or ""
    return merged


def _print_table(output: Output, rows: list[tuple[str, str]], verdict: str) -> None:
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE, show_header=False, show_edge=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for label, value in rows:
        table.add_row(Text(label), Text(value))
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=100,
        force_terminal=output.color,
        no_color=not output.color,
        highlight=False,
    )
    console.print(table)
    text = "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())
    output.write((text + "\n" + verdict + "\n").encode("utf-8", "replace"))
