"""The integration guide's Python client, as written there, with its time unit scaled.

``SensorWebSocketClient`` from the guide (websocket-client ``WebSocketApp``,
reconnect after ``reconnect_delay * attempt`` seconds, 5 attempts, no pings),
unchanged except that ``reconnect_delay`` is a parameter so tests can run its
1 s schedule at 0.2 s. Run as ``python -m tests.guide_client URL UNIT SECONDS``:
it connects, reconnects as designed, and exits after SECONDS (see ``__main__``).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

import websocket


class SensorWebSocketClient:
    def __init__(self, url: str, reconnect_delay: float = 1) -> None:
        self.url = url
        self.ws: Any = None
        self.is_connected = False
        self.reconnect_attempts = 0
        self.max_reconnect_attempts = 5
        self.reconnect_delay = reconnect_delay

    def on_message(self, ws: Any, message: str) -> None:
        try:
            json.loads(message)
        except json.JSONDecodeError as e:
            print(f"Failed to parse message: {e}")

    def on_error(self, ws: Any, error: Any) -> None:
        print(f"WebSocket error: {error}")

    def on_close(self, ws: Any, close_status_code: Any, close_msg: Any) -> None:
        print(f"WebSocket closed: {close_status_code} - {close_msg}")
        self.is_connected = False
        self.attempt_reconnect()

    def on_open(self, ws: Any) -> None:
        print("WebSocket connected")
        self.is_connected = True
        self.reconnect_attempts = 0

    def attempt_reconnect(self) -> None:
        if self.reconnect_attempts < self.max_reconnect_attempts:
            self.reconnect_attempts += 1
            print(f"Attempting to reconnect ({self.reconnect_attempts}/5)...")
            time.sleep(self.reconnect_delay * self.reconnect_attempts)
            self.connect()
        else:
            print("Max reconnection attempts reached")

    def connect(self) -> None:
        self.ws = websocket.WebSocketApp(
            self.url,
            on_open=self.on_open,
            on_message=self.on_message,
            on_error=self.on_error,
            on_close=self.on_close,
        )
        thread = threading.Thread(target=self.ws.run_forever, daemon=True)
        thread.start()


if __name__ == "__main__":
    # python -m tests.guide_client URL UNIT SECONDS [COUNT]: COUNT clients at once, the
    # i-th with ?client=i added to URL (a page open in COUNT browsers).
    url, unit, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    joiner = "&" if "?" in url else "?"
    for i in range(count):
        each = url if count == 1 else f"{url}{joiner}client={i}"
        SensorWebSocketClient(each, reconnect_delay=unit).connect()
    time.sleep(seconds)
