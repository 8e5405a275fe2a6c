"""Name resolution that ends by the connect deadline.

``getaddrinfo`` has no timeout of its own: a name server that does not answer
holds the caller for the resolver's retries (5 s per try and server in
``resolv.conf``), whatever ``--connect-timeout`` says. Resolving on a daemon
thread lets the caller leave at its deadline, as curl's threaded resolver does;
the abandoned lookup ends on its own or with the process.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ResolveTimeout(TimeoutError):
    """The name was not resolved before the deadline."""


def is_address(host: str) -> bool:
    """An IP literal needs no name server: it is resolved without a thread."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def resolve_within(seconds: float, host: str, resolve: Callable[[], T]) -> T:
    """``resolve()``, or :class:`ResolveTimeout` once ``seconds`` have passed."""
    if is_address(host):
        return resolve()
    outcome: list[T] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append(resolve())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="wscli-resolve", daemon=True).start()
    if not done.wait(max(0.0, seconds)):
        raise ResolveTimeout(f"no answer for {host!r} within {seconds:g} s")
    if failure:
        raise failure[0]
    return outcome[0]
