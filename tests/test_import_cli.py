"""``syndicate import`` through the real console script, in a subprocess."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.cli import run

ROOT = Path(__file__).resolve().parent.parent
SEEDS = Path(__file__).resolve().parent / "data" / "import" / "seeds"
SEED_IDS = {
    "sixsq-sales-manager",
    "sixsq-sales-director",
    "canonical-sales-director",
    "canonical-channel-sales-manager",
    "8x8-inside-sales-manager",
}
# What a person fills in after importing the seeds: what each seed does not state.
FILLED = {
    "sixsq-sales-manager": {
        "date_posted": "2026-11-20",
        "locations": [{"city": "Geneva", "region": "GE", "country": "CH"}],
    },
    "sixsq-sales-director": {
        "date_posted": "2026-11-20",
        "locations": [
            {"city": "Paris", "region": "Île-de-France", "country": "FR"},
            {"city": "Brussels", "region": "Brussels-Capital", "country": "BE"},
            {"city": "Geneva", "region": "GE", "country": "CH"},
        ],
        "apply": {"email": "jobs@sixsq.com"},
    },
    # Canonical gives no email address, which Indeed needs: its jobs opt out of Indeed.
    "canonical-sales-director": {
        "date_posted": "2026-11-20",
        "applicant_locations": ["US", "CA"],
        "apply": {"url": "https://canonical.com/careers"},
        "boards": {"indeed": False},
    },
    "canonical-channel-sales-manager": {
        "date_posted": "2026-11-20",
        "applicant_locations": ["US", "CA", "MX", "BR"],
        "apply": {"url": "https://canonical.com/careers"},
        "boards": {"indeed": False},
    },
    "8x8-inside-sales-manager": {
        "date_posted": "2026-11-20",
        "apply": {"url": "https://www.8x8.com/careers", "email": "careers@8x8.com"},
    },
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The repository's config.yaml, with an empty postings folder."""
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    (tmp_path / "postings").mkdir()
    return tmp_path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.md"))}


def fill(path: Path, values: dict[str, object]) -> None:
    """Set front-matter fields of a posting file, replacing what the import wrote."""
    text = path.read_text(encoding="utf-8")
    head, body = text[4:].split("\n---\n", 1)
    fields = {**yaml.safe_load(head), **values}
    front = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, default_flow_style=False)
    path.write_text(f"---\n{front}---\n{body}", encoding="utf-8")


def test_import_the_seeds_then_refuse_to_overwrite(project: Path) -> None:
    first = run("import", str(SEEDS), "--out", "imported", cwd=project)
    assert first.returncode == 0, first.stderr
    written = snapshot(project / "imported")
    assert set(written) == {f"{posting_id}.md" for posting_id in SEED_IDS}
    assert "5 posting(s) from 5 file(s): 5 written" in first.stdout
    assert "imported/8x8-inside-sales-manager.md:" in first.stdout  # the to-do list

    second = run("import", str(SEEDS), "--out", "imported", cwd=project)
    assert second.returncode == 1
    assert "imported/sixsq-sales-manager.md: already exists; not overwritten" in second.stderr
    assert "5 not overwritten" in second.stdout
    assert snapshot(project / "imported") == written

    forced = run("import", str(SEEDS), "--out", "imported", "--force", cwd=project)
    assert forced.returncode == 0, forced.stderr
    assert "5 unchanged" in forced.stdout
    assert snapshot(project / "imported") == written


def test_force_replaces_an_edited_file(project: Path) -> None:
    assert run("import", str(SEEDS), cwd=project).returncode == 0
    edited = project / "postings" / "sixsq-sales-manager.md"
    edited.write_text("edited by hand\n", encoding="utf-8")
    assert run("import", str(SEEDS), cwd=project).returncode == 1
    assert edited.read_text(encoding="utf-8") == "edited by hand\n"
    assert run("import", str(SEEDS), "--force", cwd=project).returncode == 0
    assert edited.read_text(encoding="utf-8").startswith("---\n")


def test_dry_run_writes_nothing(project: Path) -> None:
    result = run("import", str(SEEDS), "--out", "imported", "--dry-run", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "would write" in result.stdout
    assert not (project / "imported").exists()


def test_the_seeds_validate_once_what_they_lack_is_filled(project: Path) -> None:
    result = run("import", str(SEEDS), cwd=project)  # into the config's postings folder
    assert result.returncode == 0, result.stderr
    before = run("validate", cwd=project)
    assert before.returncode == 1
    assert "date_posted: is required" in before.stderr
    for posting_id, values in FILLED.items():
        fill(project / "postings" / f"{posting_id}.md", values)
    after = run("validate", cwd=project)
    assert after.returncode == 0, after.stderr
    assert "5 posting file(s): 5 valid, 0 invalid; 0 error(s)" in after.stdout
    build = run("build", cwd=project)
    assert build.returncode == 0, build.stderr


def test_json_report(project: Path) -> None:
    result = run("import", str(SEEDS), "--report", "json", "--dry-run", cwd=project)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["summary"]["postings"] == 5
    assert report["summary"]["would_write"] == 5
    assert report["summary"]["skipped"] == 1  # the seeds' README
    assert "indeed" in report["targets_checked"]
    postings = {p["id"]: p for s in report["sources"] for p in s["postings"]}
    assert set(postings) == SEED_IDS
    manager = postings["sixsq-sales-manager"]
    assert manager["filled"] == ["id", "title", "company", "locations", "apply", "description"]
    assert manager["file"] == "postings/sixsq-sales-manager.md"
    needs = {(n["field"], n["target"]) for n in postings["canonical-sales-director"]["needs"]}
    assert ("date_posted", None) in needs
    assert ("applicant_locations", "indeed") in needs
    formats = {s["file"].rsplit("/", 1)[-1]: s["format"] for s in report["sources"]}
    assert formats["004_9a816553b10fdb87.txt"] == "html"
    assert formats["002_6aebdd235807e1b9.txt"] == "text"
    assert formats["000_785fe47230d0b51f.txt"] == "jekyll"


def test_a_bad_file_fails_alone(project: Path) -> None:
    sources = project / "sources"
    sources.mkdir()
    shutil.copy(SEEDS / "004_9a816553b10fdb87.txt", sources / "8x8.html")
    (sources / "broken.xml").write_bytes(b'<?xml version="1.0"?><source><job><title>x</job>')
    result = run("import", "sources", cwd=project)
    assert result.returncode == 1
    assert "sources/broken.xml:1: is not well-formed XML" in result.stderr
    assert (project / "postings" / "8x8-inside-sales-manager.md").is_file()


def test_without_a_config_the_target_rules_are_not_checked(tmp_path: Path) -> None:
    result = run(
        "import", str(SEEDS / "000_785fe47230d0b51f.txt"), "--company", "SixSq", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "targets' rules were not checked" in result.stdout
    text = (tmp_path / "postings" / "sixsq-sales-manager.md").read_text(encoding="utf-8")
    assert "\ncompany: SixSq\n" in text


def test_usage_errors_exit_2(project: Path) -> None:
    assert run("import", str(SEEDS), "--format", "yaml", cwd=project).returncode == 2
    assert run("import", str(SEEDS), "--report", "xml", cwd=project).returncode == 2
    assert run("import", cwd=project).returncode == 2


def test_help_has_an_example(project: Path) -> None:
    result = run("import", "--help", cwd=project)
    assert result.returncode == 0
    assert "Example" in result.stdout
    for name in ("jekyll", "text", "html", "indeed-xml", "jsonld", "greenhouse", "lever"):
        assert name in result.stdout


def problem_lines(text: str) -> set[str]:
    """The ``file:line: field: message`` lines of a command's output."""
    return {line.strip() for line in text.splitlines() if line.strip().startswith("postings/")}


def test_the_report_and_validate_give_the_same_line_for_a_missing_field(project: Path) -> None:
    imported = run("import", str(SEEDS), cwd=project)
    assert imported.returncode == 0, imported.stderr
    reported = problem_lines(imported.stdout + imported.stderr)
    validated = run("validate", cwd=project)
    assert validated.returncode == 1
    found = problem_lines(validated.stdout + validated.stderr)
    # Each missing field at the commented line the import left for it, in both.
    required = {line for line in reported if line.endswith(": is required")}
    assert required == {line for line in found if line.endswith(": is required")}
    assert len(required) == 9  # date_posted of the five, apply of four
    for line in required:
        file, number, name, _ = line.split(":", 3)
        written = (project / file).read_text(encoding="utf-8").splitlines()
        assert written[int(number) - 1].startswith(f"# {name.strip()}:   (to fill in"), line
    # And whatever else validate says is word for word in the report.
    assert found <= reported, sorted(found - reported)
    # A second run reads the files through the cache: the same lines.
    again = run("validate", cwd=project)
    assert problem_lines(again.stdout + again.stderr) == found
