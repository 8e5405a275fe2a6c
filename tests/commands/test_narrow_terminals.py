"""Reports and status lines on narrow terminals, checked on real ptys (#22).

probe's and validate's text reports wrap to 40 columns instead of running off the
edge; at 80 columns tail cuts a long location before the confidence; the transient
``connecting ...`` line never wraps, so ``connected`` replaces it whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile_server import (
    HostileServer,
    Peer,
    close_frame,
    server_frame,
    switching_protocols,
)
from tests.support.pty import run_on_terminal, visible
from wscli.output.layout import fit_lines, visible_cells


def widths(text: str) -> list[int]:
    return [visible_cells(line) for line in visible(text).splitlines()]


def test_fit_lines_wraps_long_lines_and_keeps_short_ones() -> None:
    """Short lines stay byte for byte; long ones wrap at spaces with a hanging indent."""
    text = "ok   url   kept as is\n" + "word " * 20 + "\n\x1b[31mFAILED\x1b[0m: " + "x" * 50
    fitted = fit_lines(text, 40).splitlines()
    assert fitted[0] == "ok   url   kept as is"
    assert all(visible_cells(line) <= 40 for line in fitted)
    assert fitted[1].startswith("word word") and fitted[2].startswith("    word")
    assert "\x1b[31mFAILED\x1b[0m:" in fitted[-2] + fitted[-3]
    assert fit_lines(text, None) == text


@pytest.mark.slow
def test_probe_report_fits_40_columns(serve: Any) -> None:
    """Every line of probe's checklist fits 40 columns; nothing is cut away."""
    server = serve(rate=50.0)
    screen = run_on_terminal(
        "probe", server.url, "--expect-type", "sensor_readin", "--within", "0.3", columns=40
    )
    assert screen.exit_code == 1
    assert max(widths(screen.stdout)) <= 40, screen.stdout
    flat = " ".join(visible(screen.stdout).split())
    assert "did you mean sensor_reading?" in flat and "FAILED: 1 of 1 assertions" in flat


def test_validate_report_fits_40_columns(tmp_path: Path) -> None:
    """validate's problems, table and verdict fit 40 columns; type names stay whole."""
    source = tmp_path / "s.jsonl"
    source.write_text('{"type": "sensor_reading", "data": {}}\n{"x": 1}\nnot json\n')
    screen = run_on_terminal("validate", str(source), columns=40)
    assert screen.exit_code == 1
    assert max(widths(screen.stdout)) <= 40, screen.stdout
    assert any(line.startswith("sensor_reading ") for line in visible(screen.stdout).splitlines())
    assert 'missing required field "timestamp"' in " ".join(visible(screen.stdout).split())


def _long_names(peer: Peer, request: bytes) -> None:
    """A backend whose locations are longer than the simulator's."""
    reading = {
        "type": "sensor_reading",
        "data": {
            "sensor_id": 1042,
            "type": "moisture_level",
            "location": "north_wing_basement_storage_room",
            "value": 1234.56,
            "unit": "%",
            "confidence": 0.93,
        },
    }
    peer.send(switching_protocols(request))
    peer.send(server_frame(0x1, json.dumps(reading).encode()))
    peer.send(close_frame(1000))
    peer.drain(5)


def test_tail_at_80_columns_keeps_the_confidence() -> None:
    """At 80 columns the location is cut, not the sensor and confidence after it."""
    with HostileServer(_long_names) as server:
        screen = run_on_terminal("tail", server.url, "-n", "1", columns=80)
    (line,) = [row for row in visible(screen.stdout).splitlines() if row.strip()]
    assert visible_cells(line) <= 80
    assert line.endswith("sensor 1042 conf 0.93"), line
    assert "moisture_level @ north_wing" in line and "…" in line


def _screen(text: str, columns: int) -> list[str]:
    """What a terminal ``columns`` wide shows: rows wrap, CR rewinds one row."""
    rows: list[list[str]] = [[]]
    row = col = 0
    for char in visible(text):
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
        else:
            if col == columns:
                row, col = row + 1, 0
            while len(rows) <= row:
                rows.append([])
            line = rows[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = char
            col += 1
        while len(rows) <= row:
            rows.append([])
    return ["".join(r).rstrip() for r in rows if "".join(r).strip()]


@pytest.mark.slow
@pytest.mark.parametrize("columns", [40, 50, 60])
def test_status_line_keeps_its_state_on_a_narrow_terminal(serve: Any, columns: int) -> None:
    """A long host: `connecting to ...` is cut to one row, so `connected` replaces it whole."""
    server = serve(rate=50.0)
    port = server.url.rsplit(":", 1)[1].split("/", 1)[0]
    host = "0x0000007f.0x00000000.0x00000000.0x00000001"  # 127.0.0.1, spelled long
    url = f"ws://{host}:{port}/api/ws/sensor/stream"
    screen = run_on_terminal("tail", url, "-n", "1", columns=columns)
    assert screen.exit_code == 0, screen.stderr
    shown = _screen(screen.stderr, columns)
    assert shown and shown[0].startswith("connected (HTTP 101"), shown
    assert not any("connecting" in row for row in shown), shown
