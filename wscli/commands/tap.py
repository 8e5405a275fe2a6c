"""``wscli tap``: a transparent proxy between a real client and its backend (issue #20).

Thin on purpose: parse options, build :class:`~wscli.server.proxy.TapSettings`, run the
proxy, then write the client verdict. The proxy itself is :mod:`wscli.server.proxy`;
:mod:`wscli.net.tap` is the debug tap (``-v``) whose line format it reuses. Imported
by the lazy group only when named, and ``websockets`` only inside the command.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from wscli.durations import MILLISECONDS
from wscli.options.connection import ByteSize
from wscli.options.verdict import VERDICT_HELP, pop_verdict_request, verdict_options

TAP_EXIT_HELP = """\b
Exit codes:
  0    stopped by --duration and every --expect-* met (or none given)
  1    stopped by --duration with an --expect-* not met or, with --validate,
       a message that breaks the schema
  2    usage error: bad options, address in use, certificate will not load
  130  interrupted (Ctrl-C), after printing the verdict
  143  terminated (SIGTERM), after printing the verdict and writing reports"""

_count = click.IntRange(min=0)


def _listen_address(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:9000)")
    return host.strip("[]") or "127.0.0.1", int(port)


@click.command(epilog=VERDICT_HELP + "\n\n" + TAP_EXIT_HELP)
@click.option(
    "--listen",
    default="127.0.0.1:9000",
    show_default=True,
    metavar="HOST:PORT",
    callback=_listen_address,
    help="Where clients connect; port 0 picks a free one (printed on stderr).",
)
@click.option(
    "--to",
    "upstream",
    required=True,
    metavar="URL",
    help="The backend: ws:// or wss://. A client's own path and query are passed through.",
)
@click.option(
    "--rewrite-host", is_flag=True, help="Send the backend its own Host, not the client's."
)
@click.option("--origin", metavar="ORIGIN", help="Replace the client's Origin header.")
@click.option("--certfile", type=click.Path(dir_okay=False), help="PEM certificate: listen wss://.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="PEM private key for --certfile.")
@click.option(
    "-k", "--insecure", is_flag=True, help="Do not verify the backend's certificate (wss://)."
)
@click.option("--cacert", type=click.Path(dir_okay=False), help="Trust this CA for the backend.")
@click.option("--cert", type=click.Path(dir_okay=False), help="Client certificate for the backend.")
@click.option("--key", type=click.Path(dir_okay=False), help="Key of --cert.")
@click.option(
    "--max-size",
    type=ByteSize(),
    default="16M",
    show_default=True,
    help="Largest message either side may send; a bigger one ends that pair (1009).",
)
@click.option(
    "--drop-after", type=_count, metavar="N", help="Fault: after N messages to a client cut TCP."
)
@click.option(
    "--close-after",
    type=_count,
    metavar="N",
    help="Fault: after N messages to a client close it with --close-code.",
)
@click.option(
    "--close-code", type=int, default=1011, show_default=True, help="Code for --close-after."
)
@click.option("--close-reason", default="", help="Reason for --close-after.")
@click.option(
    "--delay",
    type=MILLISECONDS,
    default=0.0,
    metavar="MS",
    help="Fault: hold each message MS milliseconds, both ways.",
)
@click.option(
    "--stall-after",
    type=_count,
    metavar="N",
    help="Fault: after N messages to a client forward nothing more, keep TCP open.",
)
@click.option(
    "--refuse-next",
    type=_count,
    default=0,
    metavar="N",
    help="Fault: answer the next N connection attempts with HTTP 503.",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Record every frame both ways (the recording format, a client id per frame).",
)
@click.option("--validate", is_flag=True, help="Check each message to a client against the schema.")
@click.option(
    "--schema",
    "schema_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="JSON Schema for --validate; default: the built-in one.",
)
@click.option("-q", "--quiet", is_flag=True, help="No frame lines: connections and the verdict.")
@click.option(
    "--no-redact", is_flag=True, help="Keep tokens, cookies and credentials in frame lines."
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE",
    help="Write the bound port to FILE once listening (removed on exit).",
)
@verdict_options
def tap(
    listen: tuple[str, int],
    upstream: str,
    rewrite_host: bool,
    origin: str | None,
    certfile: str | None,
    keyfile: str | None,
    insecure: bool,
    cacert: str | None,
    cert: str | None,
    key: str | None,
    max_size: int,
    drop_after: int | None,
    close_after: int | None,
    close_code: int,
    close_reason: str,
    delay: float,
    stall_after: int | None,
    refuse_next: int,
    record: str | None,
    validate: bool,
    schema_file: str | None,
    quiet: bool,
    no_redact: bool,
    port_file: str | None,
    **verdict_args: Any,
) -> None:
    """Sit between a client and its backend: show every frame, judge how the client behaves.

    Each client that connects gets its own connection to --to (path, query and
    headers passed through; Host and Origin kept unless asked). Every frame both
    ways is shown like -v ('>' client to server, '<' server to client, secrets
    redacted), with the client's id. When a side closes, vanishes or breaks the
    protocol, one line says which, and only that pair ends.

    \b
    Examples:
      wscli tap --listen 127.0.0.1:9000 --to ws://localhost:8000/api/ws/sensor/stream
      wscli tap --listen :0 --to wss://api.example.com/ws --drop-after 50 \\
                --duration 120 --expect-backoff exponential --junit client.xml

    \b
    Faults between client and backend (the backend never knows):
      --drop-after N      cut the client's TCP after N messages (it sees 1006)
      --close-after N     close the client with --close-code after N messages
      --delay MS          hold every message MS milliseconds
      --stall-after N     forward nothing more after N messages, keep TCP open
      --refuse-next N     answer the next N upgrade requests with HTTP 503
    """
    from wscli.redact import Redactor

    verdict = pop_verdict_request(verdict_args)
    settings = _settings(
        listen,
        upstream,
        rewrite_host=rewrite_host,
        origin=origin,
        certfile=certfile,
        keyfile=keyfile,
        tls=(insecure, cacert, cert, key),
        max_size=max_size,
        faults=(drop_after, close_after, close_code, close_reason, delay / 1000, stall_after),
        refuse_next=refuse_next,
        show_frames=not quiet,
        redactor=Redactor(enabled=not no_redact),
        log=_to_stderr,
    )
    if validate or schema_file:
        from wscli.checks.schema import compile_schema

        settings.validator = compile_schema(schema_file)
    if port_file is not None:
        from wscli.output.files import check_writable

        check_writable(port_file, "--port-file")
    from wscli.commands.serve import ReadyLine
    from wscli.server.fdlimit import raise_open_file_limit
    from wscli.server.proxy import run_tap

    settings.check()
    raise_open_file_limit()
    ready = ReadyLine(port_file=port_file, json_line=False)
    scheme = "wss" if certfile else "ws"
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"

    def on_ready(port: int) -> None:
        shown = settings.redactor.url(settings.upstream)
        ready.write_port(port)
        _to_stderr_safe(
            f"tap: listening on {scheme}://{host}:{port}, forwarding to {shown} (Ctrl-C to stop)"
        )

    if record:
        from wscli.recording import RecordingWriter

        settings.record = RecordingWriter(record, settings.upstream, redact=settings.redactor.url)
    from wscli.errors import WscliError

    writer = settings.record
    stopped = ""
    proxy = None
    try:
        stopped, proxy = run_tap(settings, verdict.book, on_ready, verdict.duration)
    except WscliError:
        if ready.written:  # it ran: the clients it saw are still worth reporting
            verdict.finish("wscli tap", stopped="stopped")
        raise
    finally:
        ready.forget()
        if writer is not None:
            writer.close()
    extra = []
    if settings.validator is not None and proxy is not None:
        from wscli.checks.clients import Outcome

        measured = f"{proxy.invalid} of {proxy.validated} messages to clients invalid"
        extra.append(Outcome("schema", None, proxy.invalid == 0, measured, "every message valid"))
    code = verdict.finish("wscli tap", stopped=stopped, extra=extra)
    if stopped:
        from wscli.errors import ExitStatus

        code = ExitStatus.TERMINATED if stopped == "terminated" else ExitStatus.INTERRUPTED
    raise click.exceptions.Exit(int(code))


def _settings(
    listen: tuple[str, int],
    upstream: str,
    *,
    tls: tuple[bool, str | None, str | None, str | None],
    faults: tuple[int | None, int | None, int, str, float, int | None],
    **fields: Any,
) -> Any:
    """The proxy's settings, with the backend's TLS context built from the usual flags."""
    from wscli.server.proxy import TapSettings

    drop_after, close_after, close_code, close_reason, delay, stall_after = faults
    settings = TapSettings(
        host=listen[0],
        port=listen[1],
        upstream=upstream,
        drop_after=drop_after,
        close_after=close_after,
        close_code=close_code,
        close_reason=close_reason,
        delay=delay,
        stall_after=stall_after,
        **fields,
    )
    if upstream.startswith("wss:"):
        settings.upstream_ssl = _client_context(*tls)
    return settings


def _client_context(insecure: bool, cacert: str | None, cert: str | None, key: str | None) -> Any:
    import os
    import ssl

    from wscli.errors import BadUsage

    for label, path in (("--cacert", cacert), ("--cert", cert)):
        if path and not os.path.isfile(path):
            raise BadUsage(f"{label} {path}: no such file")
    if key and not cert:
        raise BadUsage("--key needs --cert")
    context = ssl.create_default_context(cafile=cacert)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert:
        try:
            context.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as exc:
            raise BadUsage(f"cannot load --cert {cert}: {exc}") from exc
    return context


def _to_stderr(line: str) -> None:
    """One line on stderr; the proxy has already made it safe (escaped, redacted)."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _to_stderr_safe(line: str) -> None:
    from wscli.errors import safe_line

    _to_stderr(safe_line(line))
