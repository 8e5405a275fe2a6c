"""``python -m wscli``."""

from __future__ import annotations

from wscli.cli import main

main()
