"""The built wheel carries the schema and runs the demo from a fresh environment."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import clean_env, unit

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_and_runs_demo(tmp_path: Path) -> None:
    """A wheel built from the tree, installed in a new venv, tails the demo stream."""
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
        timeout=unit(300),
    )
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "wscli/schemas/sensor_stream.schema.json" in names
        assert any(name.endswith(".data/data/share/man/man1/wscli.1") for name in names)
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=unit(300),
    )
    proc = subprocess.run(
        [str(env_dir / "bin" / "wscli"), "tail", "--demo", "-n", "3", "--validate"],
        capture_output=True,
        text=True,
        timeout=unit(60),
        cwd=tmp_path,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert all(line["type"] in ("sensor_reading", "sensor_status", "error") for line in lines)
    assert proc.stderr == ""
    _man_finds_the_page(env_dir)


def _man_finds_the_page(env_dir: Path) -> None:
    """`man wscli` after `pip install`: the page sits where man looks beside the venv's bin."""
    installed = env_dir / "share" / "man" / "man1" / "wscli.1"
    assert installed.read_text() == (REPO / "man" / "wscli.1").read_text()
    if shutil.which("man") is None:
        return
    env = clean_env(PATH=f"{env_dir / 'bin'}:/usr/bin:/bin")
    env.pop("MANPATH", None)
    found = subprocess.run(
        ["man", "-w", "wscli"], capture_output=True, text=True, env=env, timeout=unit(30)
    )
    assert found.returncode == 0 and Path(found.stdout.strip()) == installed, found.stderr
