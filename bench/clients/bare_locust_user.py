"""Baseline for bench/load_concurrency.py: a bare Locust user on websocket-client.

What someone writes in ten minutes: connect, then ``recv()`` in a loop, decode
the JSON, and report each message to Locust's ``request`` event with the same
names and the same delay measure (now minus ``data.timestamp``) as wscli's user.
No reconnects, no heartbeat, no validation, no size limit; UTF-8 checking
skipped as in the other benchmarks' floor. Run as ``locust -f`` this file.
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import gevent
import websocket
from locust import User, task


class BareStreamUser(User):
    @task
    def hold(self) -> None:
        fire = self.environment.events.request.fire
        started = time.perf_counter()
        try:
            ws = websocket.create_connection(self.host, skip_utf8_validation=True, timeout=10)
        except Exception as exc:  # counted, then the task runs again (Locust's loop)
            fire(
                request_type="connect",
                name="connect",
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=exc,
                context={},
            )
            gevent.sleep(1.0)
            return
        ws.settimeout(None)
        fire(
            request_type="connect",
            name="connect",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=None,
            context={},
        )
        try:
            while True:
                payload = ws.recv()
                message = json.loads(payload)
                data = message.get("data") or {}
                stamp = data.get("timestamp")
                kind = message.get("type", "(other)")
                if isinstance(stamp, str):
                    sent = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
                    delay = max(0.0, (time.time() - sent) * 1000)
                    fire(
                        request_type="recv",
                        name=kind,
                        response_time=delay,
                        response_length=len(payload),
                        exception=None,
                        context={},
                    )
                else:
                    fire(
                        request_type="recv-untimed",
                        name=kind,
                        response_time=0,
                        response_length=len(payload),
                        exception=None,
                        context={},
                    )
        finally:
            ws.close()
