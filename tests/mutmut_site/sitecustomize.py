"""mutmut's stats run only: report which wscli functions this process ran.

mutmut maps each mutated function to the tests that reach it by recording calls
in the test process; calls made by a ``wscli`` subprocess (every end-to-end
test) would be lost, and mutants reached only that way would never be tested.
``tests/conftest.py`` puts this directory on the subprocesses' ``PYTHONPATH``
during that run and names a file in ``WSCLI_MUTMUT_HITS`` (and the mutants
directory in ``WSCLI_MUTMUT_ROOT``); at exit the process appends the names it
recorded, and the test adds them to its own.
"""

from __future__ import annotations

import atexit
import os
import sys


def _report_hits() -> None:
    target = os.environ.get("WSCLI_MUTMUT_HITS")
    state_module = sys.modules.get("mutmut.state")
    if not target or state_module is None:
        return
    names = state_module.state()._stats  # noqa: SLF001 - mutmut has no public reader
    if names:
        with open(target, "a", encoding="utf-8") as hits:
            hits.write("".join(f"{name}\n" for name in names))


def _load_mutmut_config(root: str) -> None:
    """mutmut reads its settings from the working directory; a test may run elsewhere."""
    here = os.getcwd()
    try:
        os.chdir(root)
        from mutmut.configuration import config

        config()
    finally:
        os.chdir(here)


if os.environ.get("WSCLI_MUTMUT_HITS"):
    _load_mutmut_config(os.environ["WSCLI_MUTMUT_ROOT"])
    atexit.register(_report_hits)
