"""wscli: test and debug WebSocket streams.

Imports nothing on purpose: ``wscli --help`` must stay as fast as ``import click``.
"""

from __future__ import annotations

__version__ = "0.1.0"
