"""Screenshots of the careers site in headless Chromium, and where its landmarks sit.

Builds the careers site of a configuration (the repository's ``config.yaml`` by default) with
``syndicate build``, serves it over HTTP on 127.0.0.1, and for the index and one job page, at a
desktop width (1280 px) and a phone width (390 px):

- takes a screenshot of the first screen (``<page>-<width>.png``): the page is shown in a frame
  of exactly that size, since a headless window is at least 500 px wide, and the screenshot
  cropped to the frame;
- loads a copy of the page that measures, once loaded, where the landmarks are (the header and
  its logo, the filter, the job list and its first job, the main content) and writes them into
  the DOM, which Chromium dumps: `Landmarks`.

The logo is served by the same local server (``logo.svg``, a stand-in drawn here), because
the configured logo is on the Internet and the browser runs without network.

Run it from the repository with its virtual environment::

    .venv/bin/python tests/browser/screenshots.py --out docs/screenshots

``tests/test_screenshots.py`` runs it and checks the landmarks.
"""

from __future__ import annotations

import argparse
import html
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from browser import tools

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LOGO = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">
<rect width="120" height="40" rx="6" fill="#0b57b8"/>
<text x="60" y="27" font-family="sans-serif" font-size="20" font-weight="700" fill="#fff"
 text-anchor="middle">LOGO</text>
</svg>
"""
# Measures the landmarks once the page and its scripts ran, into <pre id="landmarks">.
PROBE = """<script>
window.addEventListener("load", function () {
  function box(selector) {
    var element = document.querySelector(selector);
    if (!element) { return null; }
    var r = element.getBoundingClientRect();
    return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, left: r.left,
            right: r.right, width: r.width, height: r.height,
            hidden: element.closest("[hidden]") !== null};
  }
  var logo = document.querySelector("header.site-header .brand img");
  var found = {
    viewport: {width: window.innerWidth, height: window.innerHeight},
    scroll_width: document.documentElement.scrollWidth,
    header: box("header.site-header"),
    logo: box("header.site-header .brand img"),
    logo_loaded: Boolean(logo && logo.complete && logo.naturalWidth > 0),
    filter: box("#job-filters"),
    job_list: box(".job-list"),
    first_job: box(".job-card"),
    main: box("main"),
    heading: box("main h1"),
    content: box("main .description"),
    apply: box("main .job-header .apply .button")
  };
  var out = document.createElement("pre");
  out.id = "landmarks";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
});
</script>
"""


FRAME = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>frame</title>
<style>html, body {{ margin: 0; overflow: hidden; }} iframe {{ display: block; border: 0; }}</style>
</head>
<body>
<iframe id="page" title="page" src="{src}" width="{width}" height="{height}"></iframe>
<script>
window.addEventListener("load", function () {{
  var found = document.getElementById("page").contentDocument.getElementById("landmarks");
  var out = document.createElement("pre");
  out.id = "landmarks";
  out.textContent = found ? found.textContent : "null";
  document.body.appendChild(out);
}});
</script>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class Shot:
    """One page at one width: its screenshot and its landmarks (see `PROBE`)."""

    page: str
    width: str
    screenshot: Path
    landmarks: dict[str, Any]


def build_site(config: Path, folder: Path, logo_url: str) -> Path:
    """Build the careers target of ``config`` into ``folder`` with the logo at ``logo_url``;
    the folder the site's pages are in."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["organization"]["logo"] = logo_url
    settings["postings"] = str((config.parent / settings.get("postings", "postings")).resolve())
    settings["output"] = str(folder / "output")
    settings["state"] = f"sqlite:///{folder / 'state.db'}"
    careers = {name: t for name, t in settings["targets"].items() if t["type"] == "careers_site"}
    settings["targets"] = careers
    written = folder / "config.yaml"
    written.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    syndicate = Path(sys.executable).with_name("syndicate")
    completed = subprocess.run(
        [str(syndicate), "--config", str(written), "-q", "build"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # Exit 1 means a posting was left out of the site: the site is still built.
    assert completed.returncode in (0, 1), completed.stderr
    (name,) = careers
    return folder / "output" / careers[name].get("dir", name)


def first_job_page(site: Path) -> str:
    """The path, inside the site, of the first job listed on the index."""
    index = (site / "index.html").read_text(encoding="utf-8")
    start = index.index('href="jobs/') + len('href="')
    return index[start : index.index('"', start)]


def probe_copy(site: Path, page: str) -> str:
    """A copy of ``page`` beside it that measures its landmarks: its path inside the site."""
    source = site / page
    copy = source.with_name(source.stem + ".probe.html")
    page_html = source.read_text(encoding="utf-8")
    copy.write_text(page_html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    return str(copy.relative_to(site))


def frame(served: Path, name: str, src: str, size: tuple[int, int]) -> str:
    """A page of ``served`` that shows ``src`` in a frame of exactly ``size`` (Chromium's
    window is at least 500 px wide) and, once loaded, copies the landmarks the frame's probe
    wrote into its own DOM: its path."""
    width, height = size
    (served / name).write_text(FRAME.format(src=src, width=width, height=height), encoding="utf-8")
    return name


def chromium(browser: str, profile: Path, size: tuple[int, int], *args: str) -> str:
    """Run headless Chromium with a window large enough for a frame of ``size``: its standard
    output."""
    completed = subprocess.run(
        [
            browser,
            *tools.CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={max(size[0], 500)},{size[1] + 200}",
            "--hide-scrollbars",
            "--virtual-time-budget=10000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def crop(screenshot: Path, size: tuple[int, int]) -> None:
    """Keep the frame of ``size`` at the top left of ``screenshot``: the page's first screen."""
    with Image.open(screenshot) as image:
        first_screen = image.crop((0, 0, *size))
    first_screen.save(screenshot, optimize=True)


def landmarks(dom: str) -> dict[str, Any]:
    """The landmarks the probe wrote into a dumped DOM."""
    start = dom.index('<pre id="landmarks">') + len('<pre id="landmarks">')
    text = dom[start : dom.index("</pre>", start)]
    return dict(json.loads(html.unescape(text)))


def take(config: Path, out: Path, browser: str) -> Iterator[Shot]:
    """Screenshots of the index and the first job page of ``config``'s careers site, at every
    width of `WIDTHS`, into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="syndicate-shots-") as temp:
        work = Path(temp)
        served = work / "served"
        served.mkdir()
        (served / "logo.svg").write_text(LOGO, encoding="utf-8")
        with tools.serve(served) as base:
            site = build_site(config, work, f"{base}/logo.svg")
            (served / "careers").symlink_to(site, target_is_directory=True)
            pages = {"index": "index.html", "job": first_job_page(site)}
            for name, page in pages.items():
                probe = probe_copy(site, page)
                for width, size in WIDTHS.items():
                    shot = out / f"{name}-{width}.png"
                    profile = work / f"profile-{name}-{width}"
                    framed = frame(served, f"{name}-{width}.html", f"careers/{probe}", size)
                    chromium(browser, profile, size, f"--screenshot={shot}", f"{base}/{framed}")
                    crop(shot, size)
                    dom = chromium(browser, profile, size, "--dump-dom", f"{base}/{framed}")
                    yield Shot(name, width, shot, landmarks(dom))


def main() -> None:
    """Take the screenshots and print each one's landmarks as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=tools.REPO / "config.yaml")
    parser.add_argument("--out", type=Path, default=tools.REPO / "docs" / "screenshots")
    arguments = parser.parse_args()
    browser = tools.chromium()
    for shot in take(arguments.config.resolve(), arguments.out, browser):
        print(json.dumps({"page": shot.page, "width": shot.width, **shot.landmarks}))


if __name__ == "__main__":
    main()
