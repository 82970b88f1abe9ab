"""The `lscb` entry point (lscb/cli.py): a reader that stops reading is not an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_closed_pipe_ends_quietly_with_status_0() -> None:
    """Like ``lscb model show | head -0``: the reader end is closed before anything is written,
    so the first write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "lscb", "model", "show"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, check=False, cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 0
