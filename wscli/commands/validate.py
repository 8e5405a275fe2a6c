"""``wscli validate``: check recordings, JSON files, pipes and live streams against a schema.

Thin on purpose: sources (:mod:`wscli.validate.sources`) read, the tally
(:mod:`wscli.validate.tally`) checks and counts, reports (:mod:`wscli.validate.reports`) write;
this file parses options, wires them together and decides the exit status.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wscli.durations import POSITIVE_SECONDS
from wscli.errors import EXIT_CODE_HELP, BadUsage, ExitStatus, WscliError, interrupt_status
from wscli.options.connection import AliasedChoice, connection_params
from wscli.options.health import health_options
from wscli.options.help import GroupedCommand
from wscli.options.state import AppState, pass_state

if TYPE_CHECKING:
    from wscli.checks.health import HealthConfig, HealthEngine, HealthResult
    from wscli.output.files import ReportFiles
    from wscli.output.terminal import Output
    from wscli.validate.sources import FileSource, ReceiveTimes, UrlSource
    from wscli.validate.tally import Checker, Failure, Tally

BUILTIN_SCHEMA = "built-in sensor_stream.schema.json"


def _complete_source(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """File names, as for ``replay``: the shell completes them (a URL is typed whole)."""
    from click.shell_completion import CompletionItem

    if incomplete.startswith(("ws:", "wss:")):
        return []
    return [CompletionItem(incomplete, type="file")]


@click.command(cls=GroupedCommand, epilog=EXIT_CODE_HELP)
@click.argument("sources", nargs=-1, metavar="[SOURCE]...", shell_complete=_complete_source)
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="JSON Schema (2020-12 or draft-07) to check against; default: the built-in one."
    " Relative $refs resolve beside it, never over the network.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also reject properties the schema does not name; with --health, suspect fails too.",
)
@click.option(
    "--check-schema",
    "check_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Check a JSON Schema itself and say what is wrong where (exit 0 or 2).",
)
@click.option(
    "-o",
    "--output",
    "fmt",
    type=AliasedChoice(
        ("text", "json"),
        hints={"jsonl": "validate writes one JSON document, so use -o json"},
    ),
    default="text",
    show_default=True,
    help="text for people; json is one document with the summary and every problem.",
)
@click.option(
    "--junit",
    "junit_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Also write JUnit XML: one test case per message type.",
)
@click.option(
    "--max-errors",
    type=click.IntRange(min=0),
    metavar="N",
    help="List at most N failing messages; the counts stay exact.",
)
@click.option("-q", "--quiet", is_flag=True, help="Text report: the summary line only.")
@click.option(
    "-n", "--count", type=click.IntRange(min=1), help="URL sources: stop after N messages."
)
@click.option(
    "--duration",
    type=POSITIVE_SECONDS,
    metavar="SECONDS",
    help="URL sources: stop after this long.",
)
@health_options()
@connection_params(without_url=True)
@pass_state
def validate(
    state: AppState,
    conn_values: dict[str, Any],
    health_values: dict[str, Any],
    sources: tuple[str, ...],
    schema_file: str | None,
    strict: bool,
    check_file: str | None,
    fmt: str,
    junit_file: str | None,
    max_errors: int | None,
    quiet: bool,
    count: int | None,
    duration: float | None,
) -> None:
    """Check messages against the stream's JSON Schema; exit 1 if any is invalid.

    SOURCE is a file (a wscli recording, JSON Lines, a JSON array or pretty-printed
    JSON, told apart by content), - for stdin (the default when piped), or a ws://
    or wss:// URL validated live until -n, --duration or the server's close.
    Each problem is reported at its place (file:line, file[index], <stdin>:line,
    URL#n) with the message type, the JSON path and the reason, then a summary by
    type. Input that is not a JSON message (not JSON, not UTF-8, a truncated last
    line, a binary frame, an empty file) counts as malformed. No messages at all is
    a failure too: a check that saw nothing did not pass.

    \b
    Examples:
      wscli validate session.jsonl                 a recording from tail --record
      wscli validate a.jsonl b.json - < c.jsonl    several files and stdin
      wscli tail -o jsonl -n 100 URL | wscli validate
      wscli validate ws://staging:8000/api/ws/sensor/stream -n 500 --junit report.xml
      wscli validate --schema other.schema.json --strict --max-errors 20 dump.json
      wscli validate -o json data.jsonl | jq '.problems[] | .place + " " + .reason'
      wscli validate --check-schema other.schema.json
      wscli validate --health --expect-sensors 8 session.jsonl
      wscli validate --health --max-staleness 30s --rules rules.toml ws://host/stream --duration 60

    --health also judges the stream: every source (data.sensor_id) reporting,
    fresh, in order, without duplicates, with plausible values and clocks; a
    per-source table follows the report (-o json: a "health" section). A failed
    check exits 1; a suspect one only with --strict.
    """
    from wscli.output.terminal import Output

    output = Output(color=state.color)
    output.keep_verdict_on_closed_pipe()  # `validate ... | head` keeps exit 1 or 2
    if check_file is not None:
        if sources or schema_file:
            raise BadUsage(
                "--check-schema checks one schema and nothing else",
                hint="run it on its own, then validate with --schema FILE",
            )
        check_schema_file(output, check_file, fmt)
        return
    specs = list(sources) or _default_sources(
        conn_values, live=count is not None or duration is not None
    )
    _check_options(specs, conn_values, count, duration, junit_file)
    from wscli.checks.schema import compile_schema
    from wscli.options.health import health_config

    health = health_config(health_values, strict=strict)
    validator = compile_schema(schema_file, strict=strict)
    with ExitStack() as stack:
        opened = _open(specs, conn_values, stack, count=count, duration=duration)
        run = ValidateRun(
            output, fmt=fmt, quiet=quiet, junit_file=junit_file, limit=max_errors, health=health
        )
        tally = run.tally(validator)
        run.execute(tally, opened)
        run.report(tally, schema=schema_file or BUILTIN_SCHEMA, strict=strict)


def _default_sources(conn_values: dict[str, Any], *, live: bool) -> list[str]:
    """No SOURCE: piped stdin (like jq), else the configured URL ($WSCLI_URL, the profile).

    ``-n``/``--duration`` bound live streams only, so with them the URL is meant.
    """
    if not live and not sys.stdin.isatty():
        return ["-"]
    from wscli.options.connection import resolve_settings

    url = resolve_settings(conn_values)[0].get("url")
    if url:
        return [str(url)]
    raise click.UsageError(
        "give files, - for stdin, or a ws:// or wss:// URL to validate (or set WSCLI_URL)"
    )


def _check_options(
    specs: list[str],
    conn_values: dict[str, Any],
    count: int | None,
    duration: float | None,
    junit_file: str | None,
) -> None:
    """Refuse combinations that cannot work before anything is read."""
    from wscli.validate.sources import is_url

    urls = [spec for spec in specs if is_url(spec)]
    if (count is not None or duration is not None) and not urls:
        raise BadUsage(
            "-n and --duration bound live streams only",
            hint="give a ws:// or wss:// URL, or drop them to validate whole files",
        )
    if conn_values.get("tap_file") and len(urls) > 1:
        raise BadUsage("--tap records one connection", hint="give one URL per run with --tap")
    if junit_file is not None:
        folder = Path(junit_file).resolve().parent
        if not folder.is_dir():
            raise BadUsage(
                f"cannot write --junit {junit_file}: no folder {folder}",
                hint="create the folder first",
            )


def _open(
    specs: list[str],
    conn_values: dict[str, Any],
    stack: ExitStack,
    *,
    count: int | None,
    duration: float | None,
) -> list[FileSource | UrlSource]:
    from wscli.options.connection import build_connection
    from wscli.validate.lines import DEFAULT_LIMIT
    from wscli.validate.sources import UrlSource, open_sources

    def live(url: str) -> UrlSource:
        options, tap = build_connection({**conn_values, "url": url})
        stack.callback(tap.close)
        return UrlSource(options, tap, count=count, duration=duration)

    # Files take --max-size as the largest message too, 64 MiB unless given (issue #6).
    source = click.get_current_context().get_parameter_source("max_size")
    given = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
    limit = conn_values["max_size"] if given and conn_values["max_size"] else DEFAULT_LIMIT
    return open_sources(specs, stdin=sys.stdin.buffer, live=live, limit=limit)


DOCUMENT_MAX_ERRORS = 1000  # failures a JSON/JUnit report lists without --max-errors


class ValidateRun:
    """One run's reporting choices, and the loop over sources that honours them.

    Failures for the JSON and JUnit documents are kept in a bounded list (at most
    ``--max-errors``, default :data:`DOCUMENT_MAX_ERRORS`): counts stay exact and
    memory stays flat however many messages fail (issue #6). The text report
    streams every failure as it is found and keeps none.
    """

    def __init__(
        self,
        output: Output,
        *,
        fmt: str,
        quiet: bool,
        junit_file: str | None,
        limit: int | None,
        health: HealthConfig | None = None,
    ) -> None:
        from wscli.validate.reports import TextReport

        output.keep_verdict_on_closed_pipe()
        self.output = output
        self.fmt = fmt
        self.quiet = quiet
        self.junit_file = junit_file
        self.limit = limit
        self.text = TextReport(output, quiet=quiet) if fmt == "text" else None
        self.started = time.monotonic()
        self.error: WscliError | None = None
        self.interrupted: KeyboardInterrupt | None = None
        self.documents = fmt == "json" or junit_file is not None
        self.document_limit = limit if limit is not None else DOCUMENT_MAX_ERRORS
        self.kept: list[Failure] = []
        self.health: HealthEngine | None = None
        self.live = False  # a live source: staleness runs to the wall clock's end of the run
        if health is not None:
            from wscli.checks.health import HealthEngine

            self.health = HealthEngine(health)

    def tally(self, validator: Checker) -> Tally:
        from wscli.validate.tally import Tally

        streaming = self.text is not None and not self.quiet
        return Tally(
            validator,
            listing=self.documents or streaming,
            limit=self.limit if streaming else self.document_limit,
            keep=False,
            on_failure=self._listed,
        )

    def _listed(self, failure: Failure) -> None:
        if self.text is not None and not self.quiet:
            self.text.failure(failure)
        if self.documents and len(self.kept) < self.document_limit:
            self.kept.append(failure)

    def execute(self, tally: Tally, sources: list[FileSource | UrlSource]) -> None:
        """Check each source in turn; a connection error or Ctrl-C stops the run."""
        from wscli.validate.sources import UrlSource

        try:
            for source in sources:
                tally.check(self._watched(source))
                if isinstance(source, UrlSource) and source.closed and not self.quiet:
                    self.output.note(f"wscli: {source.name}: server closed the stream")
        except KeyboardInterrupt as exc:
            self.interrupted = exc
        except WscliError as exc:
            if isinstance(exc, BadUsage) and tally.messages == 0 and not self.documents:
                raise
            self.error = exc

    def _watched(self, source: FileSource | UrlSource) -> Any:
        """The source itself, or with ``--health`` one that feeds the engine on the way."""
        if self.health is None:
            return source
        from wscli.validate.sources import FileSource, ReceiveTimes

        if isinstance(source, FileSource):
            source.times = times = ReceiveTimes()
            return HealthWatch(source, self.health, times)
        self.live = True
        return HealthWatch(source, self.health, None)

    def health_result(self) -> HealthResult | None:
        if self.health is None:
            return None
        return self.health.result(end=time.time() if self.live else None)

    def report(self, tally: Tally, *, schema: str, strict: bool) -> None:
        """Write every requested report, then leave with the run's exit status.

        A first Ctrl-C or SIGTERM while the reports are written is held until they
        are complete; the exit status then says the run was cut short.
        """
        from wscli.endings import signals_deferred
        from wscli.output.files import ReportFiles

        reports = ReportFiles()
        health = self.health_result()
        with signals_deferred() as held:
            self._write_reports(tally, schema=schema, strict=strict, reports=reports, health=health)
        interrupted = self.interrupted or held.exception()
        if interrupted is not None:
            reports.signalled(self.output.note)  # a report it could not write still says so
            raise click.exceptions.Exit(interrupt_status(interrupted))
        error = reports.ending(self.error, self.output.note)
        if error is not None:
            raise error
        if not tally.ok or (health is not None and not health.ok):
            raise click.exceptions.Exit(ExitStatus.CHECK_FAILED)

    def _write_reports(
        self,
        tally: Tally,
        *,
        schema: str,
        strict: bool,
        reports: ReportFiles,
        health: HealthResult | None = None,
    ) -> None:
        from wscli.endings import reason_of, stop_phrase
        from wscli.validate.reports import json_document, junit_xml, summary_line

        elapsed = time.monotonic() - self.started
        error = self.error.one_line() if self.error is not None else None
        reason = reason_of(
            interrupted=self.interrupted, error=self.error, ok=tally.ok, messages=tally.messages
        )
        stopped = stop_phrase(reason)
        if health is not None:
            health.stopped = stopped
        if self.junit_file is not None:
            xml = junit_xml(
                tally,
                schema=schema,
                elapsed=elapsed,
                error=error,
                stopped=stopped,
                reason=reason,
                failures=self.kept,
            )
            if health is not None:
                from wscli.checks.health_report import add_health_suite

                xml = add_health_suite(xml, health, elapsed)
            reports.write(self.junit_file, xml, option="--junit")
        if self.text is not None:
            if self.error is None or tally.messages:
                self.text.finish(tally, limit=self.limit, elapsed=elapsed, stopped=stopped)
                if health is not None:
                    self._health_text(health)
        else:
            document = json_document(
                tally,
                schema=schema,
                strict=strict,
                elapsed=elapsed,
                limit=self.document_limit,
                error=error,
                stopped=stopped,
                reason=reason,
                failures=self.kept,
            )
            if health is not None:
                document["health"] = health.as_dict()
                document["ok"] = document["ok"] and health.ok
            # A file name that is not UTF-8 holds lone surrogates: "?" as in the text report.
            text = json.dumps(document, ensure_ascii=False, indent=2)
            self.output.write(text.encode("utf-8", "replace") + b"\n")
            self.output.flush()
            if reason is not None:
                self.output.note(f"wscli: {summary_line(tally, elapsed, stopped=stopped)}")

    def _health_text(self, health: HealthResult) -> None:
        """The per-source table and verdict after the schema report (``-q``: the verdict)."""
        if self.quiet:
            text = health.verdict() + "\n"
        else:
            from wscli.checks.health_report import health_text

            text = "\n" + health_text(
                health, color=self.output.color, width=self.output.width or 120
            )
        self.output.write(text.encode("utf-8", "replace"))
        self.output.flush()


class HealthWatch:
    """A source that shows each message to the health engine as the tally reads it.

    The tally's hot loop stays as it is; with ``--health`` off this class is not used.
    A recording's receive time (header ``started`` + the frame's ``t``) is read inline:
    this loop runs once per message.
    """

    def __init__(
        self,
        source: FileSource | UrlSource,
        engine: HealthEngine,
        times: ReceiveTimes | None,
    ) -> None:
        self.source = source
        self.name = source.name
        self.engine = engine
        self.times = times

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def unit(self) -> str:
        return self.source.unit

    def place(self, position: int) -> str:
        return self.source.place(position)

    def items(self) -> Any:
        observe, times, now = self.engine.observe, self.times, time.time
        for item in self.source.items():
            value = item[1]
            if value.__class__ is dict:
                if times is None:
                    observe(value, now())
                else:
                    t, base = times.t, times.base
                    if base is not None and (t.__class__ is float or t.__class__ is int):
                        observe(value, base + t)
                    else:
                        observe(value, None)
            yield item


def check_schema_file(output: Output, path: str, fmt: str) -> None:
    """``--check-schema``: the schema against its metaschema, and its ``$ref`` resolved.

    Raises:
        BadUsage: the schema is unreadable, not JSON, or not a valid JSON Schema (exit 2).
    """
    from wscli.checks.schema import Problem, Validator, check_schema, load_schema
    from wscli.validate.reports import schema_check_document, schema_problem_lines

    schema = load_schema(path)
    draft = draft_name(schema)
    problems = check_schema(schema)
    if not problems:
        try:
            Validator(schema, base_path=Path(path).resolve().parent)
        except BadUsage as exc:
            problems = [Problem("", exc.message, None)]
    if fmt == "json":
        document = schema_check_document(path, draft, problems)
        text = json.dumps(document, ensure_ascii=False, indent=2)
        output.write(text.encode("utf-8", "replace") + b"\n")  # "?" for a non-UTF-8 name
    else:
        lines = schema_problem_lines(path, problems)
        if problems:
            noun = "problem" if len(problems) == 1 else "problems"
            lines.append(
                f"FAILED: {path} is not a valid JSON Schema ({draft}): {len(problems)} {noun}"
            )
        else:
            lines.append(f"OK: {path} is a valid JSON Schema ({draft})")
        output.write(("\n".join(lines) + "\n").encode("utf-8", "replace"))
    output.flush()
    if problems:
        first = problems[0]
        raise BadUsage(
            f"invalid schema {path}#{first.path}: {first.reason}",
            hint=f"{len(problems)} problem(s) listed on stdout" if len(problems) > 1 else None,
        )


def draft_name(schema: dict[str, Any]) -> str:
    """The draft a schema declares, as people name it."""
    uri = schema.get("$schema")
    if not isinstance(uri, str):
        return "draft 2020-12, the default without $schema"
    for name in ("2020-12", "2019-09", "draft-07", "draft-06", "draft-04", "draft-03"):
        if name in uri:
            return name if name.startswith("draft-") else f"draft {name}"
    return f"unknown $schema {uri}, checked as draft 2020-12"
