"""What every bench script needs: the wscli under test and an environment like a shell's."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Removed from every measured process so a run sees what a user's shell sees:
# PYTHONUNBUFFERED makes sys.stdout.buffer an unbuffered FileIO (one write(2) per
# message), PYTHONDONTWRITEBYTECODE recompiles the editable wscli on every start,
# NO_COLOR would veto --color always; the others change timing.
SCRUBBED_ENV = (
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONDEVMODE",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONTRACEMALLOC",
    "PYTHONVERBOSE",
    "NO_COLOR",
)


def find_wscli() -> list[str]:
    """The wscli installed next to this Python, else on PATH, else ``python -m wscli``."""
    script = Path(sys.executable).parent / "wscli"
    if script.exists():
        return [str(script)]
    found = shutil.which("wscli")
    return [found] if found else [sys.executable, "-m", "wscli"]


def clean_env() -> dict[str, str]:
    """This process's environment without :data:`SCRUBBED_ENV`."""
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
