"""The man page is made from the Click commands and shipped in the sdist (issue #10)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.support.cli import clean_env, run_cli, unit
from wscli.cli import LAZY_COMMANDS

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "man" / "wscli.1"


def test_man_prints_a_page_covering_every_command() -> None:
    """`wscli man` is roff with the synopsis, each command, the environment and exit codes."""
    page = run_cli("man").stdout
    assert page.startswith(".TH WSCLI 1 ")
    for command in LAZY_COMMANDS:
        assert f".SS wscli {command} " in page
    for section in (".SH SYNOPSIS", ".SH OPTIONS", ".SH ENVIRONMENT", ".SH EXIT STATUS"):
        assert section in page
    assert "\\-\\-profile" in page and "WSCLI_URL" in page


def test_the_shipped_page_is_current() -> None:
    """man/wscli.1 is exactly what `wscli man` prints now."""
    assert SHIPPED.read_text() == run_cli("man").stdout, (
        "man/wscli.1 is stale: regenerate it with `wscli man > man/wscli.1`"
    )


@pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff")
def test_groff_renders_the_page_without_warnings() -> None:
    """The page is valid man(7) roff: groff renders it and complains about nothing."""
    proc = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-z"],
        input=run_cli("man").stdout,
        capture_output=True,
        text=True,
        timeout=unit(30),
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


@pytest.mark.slow
def test_sdist_ships_the_man_page(tmp_path: Path) -> None:
    """The source distribution carries man/wscli.1."""
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=unit(300),
        env=clean_env(),
    )
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    assert any(name.endswith("/man/wscli.1") for name in names), names
