"""The guide's browser client in headless Chromium, judged by ``serve`` and by ``tap``.

Skipped where no Chromium is installed (``apt-get install chromium-headless-shell``
on Debian; ``WSCLI_CHROMIUM`` names another binary).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.commands.test_client_verdict_serve import ServeRun
from tests.commands.test_proxytap import TapRun

PAGE = Path(__file__).parent / "browser" / "guide_client.html"
CANDIDATES = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")


def _chromium() -> str | None:
    named = os.environ.get("WSCLI_CHROMIUM")
    if named:
        return named
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


CHROMIUM = _chromium()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (chromium-headless-shell)")
def test_browser_client_linear_schedule_through_serve_and_tap(tmp_path: Path, serve: Any) -> None:
    """Refused every time, the guide's SensorWebSocket backs off 1..5 units and gives up:
    serve and a tap in front of serve both name the linear schedule and the browser;
    --expect-backoff linear passes at serve, exponential fails at the tap."""
    assert CHROMIUM is not None
    common = ["--refuse-next", "100", "--duration", "5.5"]
    direct = ServeRun(tmp_path, "direct", *common, "-q", "--expect-backoff", "linear", "-o", "json")
    backend = serve(rate=20.0)
    tap = TapRun(tmp_path, backend.url, *common, "--expect-backoff", "exponential")
    # One browser per target: Chromium throttles a renderer's WebSocket attempts once
    # several have failed, which two refused clients in one page reach twice as fast.
    browsers = [
        subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--user-data-dir={tmp_path / f'profile{i}'}",
                f"{PAGE.as_uri()}?{urlencode([('delay', '200'), ('ws', url)])}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Debian's launcher is a shell script: end the group
        )
        for i, url in enumerate([direct.url, f"{tap.url}/api/ws/sensor/stream"])
    ]
    try:
        code, out, err = direct.result()
        assert code == 0, (out, err)
        [client] = json.loads(out)["clients"]
        assert "HeadlessChrome" in client["user_agent"]
        assert client["connects"] == 6 and client["gave_up"] is True
        assert client["schedule"] == "linear 0.20 s steps", client
        assert tap.wait() == 1, tap.err
        assert "HeadlessChrome" in tap.out
        assert re.search(r"FAILED backoff: linear 0\.20 s steps \(0\.\d+ s, ", tap.out), tap.out
    finally:
        for browser in browsers:
            _kill_group(browser)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """The browser and every process it started (renderers, GPU, network service)."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
