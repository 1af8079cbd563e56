"""Real tools for testing generated pages: a local HTTP server, headless Chromium, the Nu checker.

The tools are installed by ``scripts/install-test-tools.sh``.  When one is missing, a test that
needs it is skipped with the reason, except under CI (``CI=true``), where it fails: CI must run
every test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VNU_JAR = REPO / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL_HINT = "install it with `bash scripts/install-test-tools.sh` (as root)"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def require(tool: str, available: bool) -> None:
    """Skip the calling test when ``tool`` is missing, or fail it under CI."""
    if available:
        return
    message = f"{tool} is not installed; {INSTALL_HINT}"
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        pytest.fail(f"{message}. CI runs every test, so a missing tool is a failure.")
    pytest.skip(message)


def chromium() -> str:
    """The path of Debian's Chromium (skips or fails the test when it is absent)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require("chromium", path is not None)
    assert path is not None
    return path


def vnu() -> tuple[str, Path]:
    """Java and the Nu checker's jar (skips or fails the test when either is absent)."""
    java = shutil.which("java")
    require("java", java is not None)
    require(f"the Nu HTML checker ({VNU_JAR.relative_to(REPO)})", VNU_JAR.is_file())
    assert java is not None
    return java, VNU_JAR


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) while in the block: its base URL."""
    handler = partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def dump_dom(browser: str, url: str, profile: Path, timeout: float = 90) -> str:
    """The DOM of ``url`` after it loaded and ran its scripts, as headless Chromium saw it."""
    profile.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, f"chromium failed on {url}: {completed.stderr[-2000:]}"
    assert "<html" in completed.stdout, f"chromium printed no DOM for {url}: {completed.stderr}"
    return completed.stdout


def html_errors(files: Sequence[Path]) -> list[dict[str, Any]]:
    """The Nu checker's error messages about ``files`` (an empty list when they are valid)."""
    java, jar = vnu()
    completed = subprocess.run(
        [
            java,
            "-jar",
            str(jar),
            "--errors-only",
            "--also-check-css",
            "--format",
            "json",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # The checker writes its JSON report to standard error and exits 1 when it found errors.
    report = json.loads(completed.stderr or completed.stdout)
    return [message for message in report["messages"] if message.get("type") != "info"]
