"""Indeed's reference numbers over builds with the publish state: never changed once set, never
given twice (docs.indeed.com/indeed-apply/xml-feed, ``referencenumber``: "Do not change the
number after you set it"; one "for this instance of the job", per location)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import etree

from syndicate import parallel
from syndicate.adapters import create_targets
from syndicate.adapters.indeed_xml import IndeedXml, numbers_in
from syndicate.build import build
from syndicate.config import Settings, load_settings
from syndicate.loading import load_project
from syndicate.state import StateStore
from tests.cli import run
from tests.test_cache import NOW, make_project

DIRECTOR = "sixsq-sales-director"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True)


def numbers(settings: Settings) -> dict[str, dict[str, str]]:
    """Per posting id: city → referencenumber, as indeed.xml says."""
    root = etree.parse(str(settings.output_dir / "indeed.xml"), SAFE).getroot()
    found: dict[str, dict[str, str]] = {}
    for job in root.iter("job"):
        found.setdefault(job.findtext("requisitionid"), {})[job.findtext("city")] = job.findtext(
            "referencenumber"
        )
    return found


def publish_build(settings: Settings) -> None:
    with StateStore(settings.state_url) as store:
        build(settings, load_project(settings), now=NOW, store=store)


def set_locations(settings: Settings, posting_id: str, lines: list[str]) -> None:
    path = settings.postings_dir / f"{posting_id}.md"
    text = path.read_text()
    block = "locations:\n" + "".join(f"  - {line}\n" for line in lines)
    text = re.sub(r"(?ms)^locations:\n(?:  - .*?\n)+", block, text, count=1)
    path.write_text(text)


PARIS = "{city: Paris, region: Île-de-France, country: FR}"
BRUSSELS = "{city: Brussels, region: Brussels-Capital, country: BE}"
GENEVA = "{city: Geneva, region: GE, country: CH}"
LYON = "{city: Lyon, region: Auvergne-Rhône-Alpes, country: FR}"


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    return make_project(tmp_path / "project")


def test_numbers_are_remembered_whatever_becomes_of_the_list(project: Settings) -> None:
    publish_build(project)
    first = numbers(project)[DIRECTOR]
    assert first == {
        "Paris": DIRECTOR,
        "Brussels": f"{DIRECTOR}-brussels-be",
        "Geneva": f"{DIRECTOR}-geneva-ch",
    }
    set_locations(project, DIRECTOR, [LYON, GENEVA, BRUSSELS, PARIS])  # added first, reordered
    publish_build(project)
    assert numbers(project)[DIRECTOR] == first | {"Lyon": f"{DIRECTOR}-lyon-fr"}
    set_locations(project, DIRECTOR, [GENEVA, BRUSSELS])  # Paris and Lyon removed
    publish_build(project)
    assert numbers(project)[DIRECTOR] == {k: first[k] for k in ("Geneva", "Brussels")}
    set_locations(project, DIRECTOR, [GENEVA, BRUSSELS, PARIS])  # Paris back: its old number
    publish_build(project)
    assert numbers(project)[DIRECTOR]["Paris"] == DIRECTOR


def test_an_upgrade_keeps_the_numbers_the_feed_already_gives(project: Settings) -> None:
    """A state from before numbers were remembered has none: the numbers of the feed as written
    (earlier versions slugged every place of a posting with several) are kept."""
    publish_build(project)
    feed = project.output_dir / "indeed.xml"
    feed.write_text(
        feed.read_text().replace(
            f"<referencenumber><![CDATA[{DIRECTOR}]]>",
            f"<referencenumber><![CDATA[{DIRECTOR}-paris-fr]]>",
        )
    )
    with StateStore(project.state_url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql('DELETE FROM "references"')  # as a schema 2 store had none
    (project.work_dir / "build.json").unlink()  # so that the feed is written again
    publish_build(project)
    assert numbers(project)[DIRECTOR] == {
        "Paris": f"{DIRECTOR}-paris-fr",
        "Brussels": f"{DIRECTOR}-brussels-be",
        "Geneva": f"{DIRECTOR}-geneva-ch",
    }
    set_locations(project, DIRECTOR, [GENEVA, PARIS])  # remembered from then on
    publish_build(project)
    assert numbers(project)[DIRECTOR]["Paris"] == f"{DIRECTOR}-paris-fr"


def test_two_postings_never_give_the_same_number(project: Settings) -> None:
    clash = project.postings_dir / "clash.md"
    text = (project.postings_dir / "sixsq-sales-manager.md").read_text()
    clash.write_text(text.replace("id: sixsq-sales-manager", f"id: {DIRECTOR}-brussels-be"))
    result = run("validate", cwd=project.root)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "reference number" in line]
    assert len(lines) == 2, result.stderr
    assert any(
        line.startswith("postings/clash.md:")
        and f"'{DIRECTOR}-brussels-be' is also given by postings/{DIRECTOR}.md" in line
        for line in lines
    ), lines
    assert any(line.startswith(f"postings/{DIRECTOR}.md:") and "clash.md" in line for line in lines)

    built = run("build", cwd=project.root)
    assert built.returncode == 1
    assert set(numbers(project)) == {"sixsq-sales-manager", "8x8-inside-sales-manager"}


def test_a_pinned_number_is_kept_and_checked(project: Settings) -> None:
    set_locations(project, DIRECTOR, [PARIS.replace("}", ", ref: PAR-7}"), GENEVA])
    publish_build(project)
    assert numbers(project)[DIRECTOR] == {"Paris": "PAR-7", "Geneva": f"{DIRECTOR}-geneva-ch"}


def test_workers_render_the_remembered_numbers(
    project: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    publish_build(project)
    set_locations(project, DIRECTOR, [LYON, GENEVA, BRUSSELS, PARIS])
    shutil.rmtree(project.cache_dir)  # every fragment rendered again, by the workers
    config = project.root / "config.yaml"
    config.write_text(config.read_text() + "workers: 2\n")
    with_workers = load_settings(config)
    publish_build(with_workers)
    assert numbers(with_workers)[DIRECTOR]["Paris"] == DIRECTOR
    assert numbers(with_workers)[DIRECTOR]["Lyon"] == f"{DIRECTOR}-lyon-fr"


def test_a_repeated_place_reads_back_from_the_feed_under_the_key_it_is_listed_with(
    project: Settings, tmp_path: Path
) -> None:
    """A seed from the feed matches the spots: a place listed twice is `key#2` both ways."""
    set_locations(project, DIRECTOR, [GENEVA, BRUSSELS, GENEVA])
    build(project, load_project(project), now=NOW)  # no state: numbers by the rule
    [target] = [t for t in create_targets(project) if isinstance(t, IndeedXml)]
    posting = next(f for f in load_project(project).files if f.posting_id == DIRECTOR).posting
    keys = [spot.key for spot in target.spots(posting)]
    read_back = numbers_in(project.output_dir / "indeed.xml")[DIRECTOR]
    assert list(read_back) == keys
    assert len(set(read_back.values())) == 3


def test_a_pin_equal_to_another_places_number_is_an_error_of_that_posting(
    project: Settings,
) -> None:
    set_locations(project, DIRECTOR, [PARIS, GENEVA])
    publish_build(project)  # Paris is remembered with the bare id
    pinned = "{city: Geneva, region: GE, country: CH, ref: " + DIRECTOR + "}"
    set_locations(project, DIRECTOR, [PARIS, pinned])
    with StateStore(project.state_url) as store:
        report = build(project, load_project(project), now=NOW, store=store)
    [indeed] = [t for t in report.targets if t.name == "indeed"]
    [problem] = [
        p for p in indeed.left_out if p.posting_id == DIRECTOR and "reference" in p.message
    ]
    assert "is given to two of its locations" in problem.message
    # Kept at its last good version: still listed with its two distinct numbers.
    assert numbers(project)[DIRECTOR] == {"Paris": DIRECTOR, "Geneva": f"{DIRECTOR}-geneva-ch"}
