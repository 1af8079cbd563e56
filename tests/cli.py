"""Running the installed ``syndicate`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).parent / "syndicate"
ROOT = Path(__file__).resolve().parent.parent


def copy_examples(folder: Path) -> Path:
    """The repository's config.yaml and example postings, copied into ``folder``."""
    shutil.copy(ROOT / "config.yaml", folder / "config.yaml")
    shutil.copytree(ROOT / "postings", folder / "postings")
    return folder


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``syndicate ARGS`` in ``cwd``, output captured, with a wide terminal and ``env`` added."""
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
