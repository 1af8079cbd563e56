"""The careers site in headless Chromium at desktop and phone widths: the screenshot script
runs, and the pages' landmarks sit where a job seeker expects them (layout, not pixels)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import screenshots, tools
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> dict[tuple[str, str], screenshots.Shot]:
    browser = tools.chromium()
    out = tmp_path_factory.mktemp("screenshots")
    taken = screenshots.take(REPO / "config.yaml", out, browser)
    return {(shot.page, shot.width): shot for shot in taken}


def inside(inner: dict, outer: dict) -> bool:
    return (
        inner["top"] >= outer["top"]
        and inner["bottom"] <= outer["bottom"]
        and inner["left"] >= outer["left"]
        and inner["right"] <= outer["right"]
    )


@pytest.mark.browser
def test_every_page_at_every_width_has_a_first_screen_screenshot(shots) -> None:
    assert set(shots) == {
        (page, width) for page in ("index", "job") for width in screenshots.WIDTHS
    }
    for (_, width), shot in shots.items():
        with Image.open(shot.screenshot) as image:
            assert image.format == "PNG"
            assert image.size == screenshots.WIDTHS[width]
            # Not a blank page: the header, text and cards have more than one colour.
            assert len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 10
        viewport = shot.landmarks["viewport"]
        assert (viewport["width"], viewport["height"]) == screenshots.WIDTHS[width]


@pytest.mark.browser
@pytest.mark.parametrize("page", ["index", "job"])
@pytest.mark.parametrize("width", list(screenshots.WIDTHS))
def test_header_shows_the_logo_and_nothing_scrolls_sideways(shots, page, width) -> None:
    found = shots[(page, width)].landmarks
    assert found["scroll_width"] <= found["viewport"]["width"]
    assert found["logo_loaded"], "the configured logo was loaded"
    assert found["logo"]["height"] > 0 and inside(found["logo"], found["header"])
    assert found["header"]["top"] == 0
    assert found["main"]["top"] >= found["header"]["bottom"]
    assert found["heading"]["bottom"] < found["viewport"]["height"] / 3


@pytest.mark.browser
@pytest.mark.parametrize("width", list(screenshots.WIDTHS))
def test_index_shows_its_filter_and_jobs_on_the_first_screen(shots, width) -> None:
    found = shots[("index", width)].landmarks
    height = found["viewport"]["height"]
    assert not found["filter"]["hidden"] and found["filter"]["height"] > 0
    assert found["filter"]["bottom"] <= found["job_list"]["top"]
    # The filter is compact: at phone width too it takes under a quarter of the first screen,
    # and the job list starts on it, with room to read the first job's title.
    assert found["filter"]["height"] < height / 4
    assert found["first_job"]["top"] + 100 < height
    assert found["first_job"]["top"] == found["job_list"]["top"]


@pytest.mark.browser
@pytest.mark.parametrize("width", list(screenshots.WIDTHS))
def test_job_page_shows_the_job_and_how_to_apply_on_the_first_screen(shots, width) -> None:
    found = shots[("job", width)].landmarks
    assert found["filter"] is None and found["job_list"] is None
    assert inside(found["heading"], found["main"]) and inside(found["content"], found["main"])
    # Title, facts and the apply button first; the description follows them.
    assert found["apply"]["bottom"] <= found["viewport"]["height"]
    assert found["content"]["top"] >= found["apply"]["bottom"]
