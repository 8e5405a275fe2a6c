"""A terminal user's view (issue #10): width, alignment, colour policy, times, feedback.

Terminal behaviour runs through real pseudo-terminals (``tests/ptyrun.py``) as well
as through CliRunner and the pure renderer.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.support.cli import clean_env, run_cli, run_wscli
from tests.support.pty import run_on_terminal, visible
from wscli.output.layout import DecimalColumn, cells, cut, wrap
from wscli.output.terminal import Output
from wscli.session.render import MessageRenderer

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def reading(value: Any, confidence: Any = 0.9, location: str = "attic") -> dict[str, Any]:
    return {
        "type": "sensor_reading",
        "data": {
            "sensor_id": 1,
            "type": "temperature",
            "location": location,
            "value": value,
            "unit": "C",
            "confidence": confidence,
        },
    }


def pretty_lines(messages: list[dict[str, Any]], width: int | None = None) -> list[str]:
    buffer = io.BytesIO()
    env = {"COLUMNS": str(width)} if width else {}
    renderer = MessageRenderer(Output(stdout=buffer, is_tty=True, env=env), "pretty")
    for message in messages:
        renderer.message(json.dumps(message).encode(), message)
    return visible(buffer.getvalue().decode()).splitlines()


# -- width ------------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_pretty_lines_fit_the_terminal(serve: Any, columns: int) -> None:
    """On a real terminal of 40, 80 or 200 columns no line is wider than the screen."""
    server = serve(seed=3, invalid_rate=0.3, malformed_rate=0.2)
    screen = run_on_terminal("tail", server.url, "-n", "12", "--validate", columns=columns)
    assert screen.exit_code == 1, screen.stderr  # --validate saw invalid messages (#7)
    lines = visible(screen.stdout).splitlines()
    assert len(lines) >= 12
    assert all(cells(line) <= columns for line in lines), [
        (cells(line), line) for line in lines if cells(line) > columns
    ]
    if columns == 200:
        readings = [
            line for line in lines if " sensor_reading " in line and not {"⚠", "✗"} & set(line)
        ]
        assert readings and all("…" not in line and "conf" in line for line in readings)


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_columns_variable_sets_the_width(serve: Any, columns: str) -> None:
    """COLUMNS is honoured the way shells export it, also through CliRunner."""
    server = serve(seed=5)
    result = CliRunner().invoke(
        __import__("wscli.cli", fromlist=["cli"]).cli,
        ["tail", server.url, "-n", "10", "-o", "pretty", "--color", "never"],
        env={"COLUMNS": columns},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert all(cells(line) <= int(columns) for line in lines)


def test_a_narrow_terminal_keeps_the_value_in_view() -> None:
    """At 40 columns a reading's value comes first, so the cut falls on the names."""
    (line,) = pretty_lines([reading(21.5, location="the_longest_location_name_ever")], 40)
    assert cells(line) <= 40 and "21.5" in line and line.endswith("…")


def test_long_error_text_and_non_json_are_cut() -> None:
    """A long error message is cut with an ellipsis instead of printing whole."""
    message = {"type": "error", "data": {"message": "x" * 500, "code": "E1"}}
    (line,) = pretty_lines([message], 80)
    assert cells(line) == 80 and line.endswith("…")
    buffer = io.BytesIO()
    renderer = MessageRenderer(Output(stdout=buffer, is_tty=True, env={"COLUMNS": "50"}), "pretty")
    renderer.malformed(b"not json " * 40, "not JSON")
    assert cells(visible(buffer.getvalue().decode()).rstrip("\n")) == 50


def test_a_problem_too_long_for_the_line_wraps_below_it() -> None:
    """--validate's reason is not lost at narrow widths: it wraps onto indented lines."""
    from wscli.checks.schema import Problem

    buffer = io.BytesIO()
    renderer = MessageRenderer(Output(stdout=buffer, is_tty=True, env={"COLUMNS": "40"}), "pretty")
    message = reading(1)
    reason = "value must be a number between zero and one hundred, inclusive"
    renderer.message(json.dumps(message).encode(), message, [Problem("/data/value", reason, None)])
    lines = visible(buffer.getvalue().decode()).splitlines()
    assert len(lines) >= 3 and all(cells(line) <= 40 for line in lines)
    assert lines[1].startswith("    ")
    assert "inclusive" in " ".join(lines)


def test_cut_and_wrap_count_wide_characters_as_two_columns() -> None:
    """Cell widths, not code points: a CJK name takes two columns per character."""
    assert cells("日本語") == 6
    assert cells(cut("日本語テキスト", 7)) <= 7
    assert all(cells(line) <= 5 for line in wrap("日本語テキスト", 5))


# -- decimal alignment ------------------------------------------------------------------------


def test_numbers_line_up_on_the_decimal_point() -> None:
    """45 and 44.6, conf 0.7 and 0.75: the points and the units stay in one column."""
    lines = pretty_lines([reading(45, 0.7), reading(44.6, 0.75), reading(1013.25, 1)], 200)
    ends = {line.index(" C ") for line in lines}
    assert len(ends) == 1, lines
    # rindex: the time at the start of a line can hold "44.6" or "0.7" too (12:30:44.612).
    point = lines[1].rindex("44.6") + 2
    assert lines[2][point] == "." and lines[0][point - 1] == "5"
    conf_at = {line.index("conf") for line in lines}
    assert len(conf_at) == 1
    assert lines[0].rindex("0.7") == lines[1].rindex("0.75")


def test_decimal_column_grows_and_never_shrinks() -> None:
    """A wider number widens the column for the lines after it."""
    column = DecimalColumn(1, 0)
    assert column("5") == "5"
    assert column("12.25") == "12.25"
    assert column("3") == " 3   "
    assert column("n/a") == "n/a   "


# -- colour policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "extra_env", "args"),
    [
        ("--color never", {}, ["--color", "never"]),
        ("--color never after the command", {}, []),
        ("NO_COLOR", {"NO_COLOR": "1"}, []),
        ("TERM=dumb", {"TERM": "dumb"}, []),
    ],
)
def test_no_escape_codes_at_all_when_colour_is_off(
    serve: Any, how: str, extra_env: dict[str, str], args: list[str]
) -> None:
    """Not in messages, not in the connecting line, not in the --stats table."""
    server = serve(seed=1, invalid_rate=0.3)
    env = clean_env(TERM="xterm-256color")
    env.pop("COLUMNS", None)
    env.update(extra_env)
    tail_args = ["tail", server.url, "-n", "5", "--stats", "--validate"]
    if how.endswith("after the command"):
        tail_args += ["--color", "never"]
    screen = run_on_terminal(*args, *tail_args, env=env)
    assert screen.exit_code == 1, screen.stderr  # --validate saw invalid messages (#7)
    assert "\x1b" not in screen.stdout
    assert "\x1b" not in screen.stderr, repr(screen.stderr[:300])
    assert "messages" in screen.stderr  # the table is there, just plain


def test_colour_on_a_terminal_by_default(serve: Any) -> None:
    """The same run on an ordinary terminal is styled, on stdout and stderr."""
    server = serve(seed=1)
    screen = run_on_terminal("tail", server.url, "-n", "3", "--stats")
    assert screen.exit_code == 0
    assert "\x1b[" in screen.stdout and "\x1b[" in screen.stderr


def test_root_options_work_after_the_command(serve: Any) -> None:
    """`wscli tail --color always` equals `wscli --color always tail`."""
    server = serve(seed=2)
    before = run_wscli("--color", "always", "tail", server.url, "-n", "2", "-o", "pretty")
    after = run_wscli("tail", server.url, "-n", "2", "-o", "pretty", "--color", "always")
    assert "\x1b[" in before.stdout and "\x1b[" in after.stdout


# -- connecting feedback ----------------------------------------------------------------------


def test_connecting_line_on_a_terminal(serve: Any) -> None:
    """stderr on a terminal shows `connecting to HOST:PORT...` replaced by `connected (...)`."""
    server = serve(seed=1)
    screen = run_on_terminal("tail", server.url, "-n", "1", "--color", "never")
    assert screen.exit_code == 0
    port = server.url.split(":")[2].split("/")[0]
    assert f"connecting to 127.0.0.1:{port}..." in screen.stderr
    assert re.search(r"\rconnected \(HTTP 101, \d+ ms\) *\n", screen.stderr), repr(screen.stderr)


def test_no_connecting_line_in_a_pipe(serve: Any) -> None:
    """In a pipe stderr stays empty: the feedback is for people only."""
    server = serve(seed=1)
    assert run_wscli("tail", server.url, "-n", "1").stderr == ""


def test_a_failed_connect_erases_the_connecting_line(free_port: int) -> None:
    """The transient line is wiped before the one-line error, which starts its own line."""
    screen = run_on_terminal("tail", f"ws://127.0.0.1:{free_port}/", "--color", "never")
    assert screen.exit_code == 3
    last = screen.stderr.split("\r")[-1]
    assert last.startswith("wscli: error: connection refused"), repr(screen.stderr)


# -- times ------------------------------------------------------------------------------------


def test_utc_and_iso_timestamps_in_pretty_output_and_stats(serve: Any, tmp_path: Path) -> None:
    """--timestamps iso --utc: RFC 3339 with date and Z on each line and in --stats."""
    server = serve(seed=4)
    stats_file = tmp_path / "stats.json"
    result = run_cli(
        "tail", server.url, "-n", "3", "-o", "pretty", "--color", "never", "--utc",
        "--timestamps", "iso", "--stats", "--stats-json", str(stats_file),
    )  # fmt: skip
    stamps = [line.split("  ")[0] for line in result.stdout.splitlines()]
    assert len(stamps) == 3 and all(RFC3339.match(s) and s.endswith("Z") for s in stamps)
    last = [line for line in result.stderr.splitlines() if "last message" in line]
    assert last and re.search(r"\d{4}-\d\d-\d\dT[\d:.]+Z", last[0])
    document = json.loads(stats_file.read_text())
    assert document["last_message_at"].endswith("Z")


def test_clock_timestamps_in_utc_are_marked() -> None:
    """--utc without iso keeps the short clock, marked Z."""
    from wscli.output.clock import Clock

    assert Clock(utc=True).format(0.0) == "00:00:00.000Z"
    assert Clock(utc=True, iso=True).format(1.5) == "1970-01-01T00:00:01.500Z"


def test_with_received_at_wraps_each_message(serve: Any) -> None:
    """JSON Lines with --with-received-at: {"received_at": RFC 3339 UTC, "message": as sent}."""
    server = serve(seed=6)
    wrapped = run_cli("tail", server.url, "-n", "4", "--with-received-at").json_lines
    assert len(wrapped) == 4
    for line in wrapped:
        assert set(line) == {"received_at", "message"}
        assert RFC3339.match(line["received_at"]) and line["received_at"].endswith("Z")
        assert line["message"]["type"] in ("sensor_reading", "sensor_status", "error")
    plain = run_cli("tail", serve(seed=6).url, "-n", "4").json_lines
    assert [w["message"]["data"]["sensor_id"] for w in wrapped] == [
        p["data"]["sensor_id"] for p in plain
    ]


def test_with_received_at_needs_json_lines() -> None:
    """-o pretty or --field with --with-received-at is a usage error."""
    assert run_cli("tail", "--demo", "-o", "pretty", "--with-received-at", expect=2)
    assert run_cli("tail", "--demo", "--field", "data.value", "--with-received-at", expect=2)


# -- --stats-json -----------------------------------------------------------------------------


def test_stats_json_has_the_tables_fields_and_leaves_no_temp_file(
    serve: Any, tmp_path: Path
) -> None:
    """--stats-json writes the summary atomically: one whole JSON file, no leftovers."""
    server = serve(seed=8)
    target = tmp_path / "stats.json"
    run_wscli("tail", server.url, "-n", "5", "--stats-json", str(target))
    document = json.loads(target.read_text())
    for key in ("messages", "shown", "by_type", "rate_per_s", "uptime_s", "reconnects"):
        assert key in document
    assert document["messages"] >= 5 and document["shown"] == 5
    assert document["interrupted"] is False
    assert [p.name for p in tmp_path.iterdir()] == ["stats.json"]


def test_stats_json_into_a_missing_folder_fails_before_connecting(free_port: int) -> None:
    """A typo in the folder is exit 2 at once, not a lost report after the run."""
    result = run_wscli(
        "tail", f"ws://127.0.0.1:{free_port}/", "--stats-json", "/nonexistent/dir/s.json",
        expect=2,
    )  # fmt: skip
    assert "--stats-json" in result.stderr and "Traceback" not in result.stderr
