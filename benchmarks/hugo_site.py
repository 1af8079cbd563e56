"""Hugo beside syndicate: the same posting files built by Hugo into the equivalent site.

The site is `benchmarks/hugo/` (our own templates): a page per job with its schema.org
JSON-LD, an index of the open jobs, a sitemap, and an Indeed-style XML feed made by a template
(``indeed.xml``).  Closed and draft postings are left out of the index, sitemap and feed;
expired ones (``valid_through`` passed, Hugo's ``expiryDate``) are not built at all.  Hugo does
none of syndicate's validation, builds one feed rather than four, and no Atom feed.

Hugo comes from Debian's package (0.111 on bookworm), installed by `install-hugo.sh` when it is
missing and the benchmark runs as root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

SITE = Path(__file__).resolve().parent / "hugo"
INSTALL = Path(__file__).resolve().parent / "install-hugo.sh"


def hugo() -> str | None:
    """The ``hugo`` program, installed first when missing and allowed; None when unavailable."""
    found = shutil.which("hugo")
    if found is None and os.geteuid() == 0:
        subprocess.run(["bash", str(INSTALL)], check=False, capture_output=True)
        found = shutil.which("hugo")
    return found


def version(program: str) -> str:
    """``hugo version``'s first words, e.g. ``hugo v0.111.3+extended``."""
    done = subprocess.run([program, "version"], capture_output=True, text=True, check=False)
    return " ".join(done.stdout.split()[:2])


def command(program: str, postings: Path, destination: Path) -> list[str]:
    """The command line that builds ``postings`` with our Hugo site into ``destination``."""
    return [
        program,
        "--source", str(SITE),
        "--contentDir", str(postings),
        "--destination", str(destination),
        "--cacheDir", str(destination.with_name(destination.name + "-cache")),
        "--quiet",
    ]  # fmt: skip
