"""The real console script in a subprocess: exit codes, messages, init, validate, build, preview."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "syndicate"
BROKEN = Path(__file__).resolve().parent / "data" / "cli"


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the repository's config.yaml and example postings."""
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    return tmp_path


def test_validate_examples_exits_0(project: Path) -> None:
    result = run("validate", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "5 posting file(s): 5 valid, 0 invalid; 0 error(s)" in result.stdout


def test_validate_mixed_folder_reports_each_defect_and_exits_1(project: Path) -> None:
    (project / "postings" / "typo.md").write_text(
        "---\nid: typo\ntittle: Typo\ndate_posted: 2026-11-20\nlocations: [{country: CH}]\n"
        "apply: {email: a@b.ch}\n---\nBody\n"
    )
    (project / "postings" / "bad-country.md").write_text(
        "---\nid: bad-country\ntitle: T\ndate_posted: 2026-11-20\n"
        "locations:\n  - {city: X, country: XX}\napply: {email: a@b.ch}\n---\nBody\n"
    )
    result = run("validate", cwd=project)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "postings/typo.md:3: tittle: is not a known field; did you mean 'title'?" in lines
    assert "postings/typo.md:1: title: is required" in lines
    assert any(
        line.startswith("postings/bad-country.md:6: locations[0].country: ") for line in lines
    )
    assert "7 posting file(s): 5 valid, 2 invalid" in result.stdout


def test_validate_json_lists_valid_postings_and_problems(project: Path) -> None:
    (project / "postings" / "empty.md").write_text("")
    result = run("validate", "--format", "json", cwd=project)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert len(report["valid"]) == 5
    assert report["summary"]["invalid"] == 1
    [problem] = [p for p in report["problems"] if p["file"].endswith("empty.md")]
    assert problem["line"] == 1 and "empty" in problem["message"]


def test_validate_reports_target_rules_with_tags(project: Path) -> None:
    posting = project / "postings" / "no-city.md"
    posting.write_text(
        "---\nid: no-city\ntitle: Engineer\ndate_posted: 2026-11-20\n"
        "locations:\n  - {country: US}\napply: {email: a@b.com}\n---\n" + "Text. " * 30 + "\n"
    )
    result = run("validate", cwd=project)
    assert result.returncode == 1
    tagged = [line for line in result.stderr.splitlines() if line.startswith("postings/no-city.md")]
    assert any(line.endswith("[indeed]") for line in tagged), result.stderr
    assert any(line.endswith("[linkedin_feed]") for line in tagged), result.stderr


def test_bad_config_exits_1_with_path(project: Path) -> None:
    config = project / "config.yaml"
    config.write_text(config.read_text().replace("file: indeed.xml", "fiel: indeed.xml"))
    result = run("validate", cwd=project)
    assert result.returncode == 1
    assert "targets.indeed.fiel: is not a known field; did you mean 'file'?" in result.stderr


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "config.yaml: no configuration file here; run `syndicate init`" in result.stderr


def test_usage_error_exits_2(project: Path) -> None:
    assert run("validate", "--format", "yaml", cwd=project).returncode == 2
    assert run("no-such-command", cwd=project).returncode == 2


def test_every_command_has_help_with_an_example(project: Path) -> None:
    for command in ("init", "validate", "build", "preview"):
        result = run(command, "--help", cwd=project)
        assert result.returncode == 0
        assert "Example" in result.stdout, command


def test_init_scaffolds_a_valid_project_and_refuses_to_overwrite(tmp_path: Path) -> None:
    first = run("init", "site", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "site" / "config.yaml").exists()
    assert run("validate", cwd=tmp_path / "site").returncode == 0
    before = (tmp_path / "site" / "config.yaml").read_text()
    second = run("init", "site", cwd=tmp_path)
    assert second.returncode == 1
    assert "already exists; not overwritten" in second.stderr
    assert (tmp_path / "site" / "config.yaml").read_text() == before


def test_secrets_never_printed(project: Path) -> None:
    secret = "s3cr3t-token-value-123"
    env = {"LINKEDIN_TOKEN": secret, "HOOK_SECRET": secret, "GOOGLE_INDEXING_TOKEN": secret}
    for args in (("validate", "-v"), ("validate", "--format", "json"), ("build",)):
        result = run(*args, cwd=project, env=env)
        assert secret not in result.stdout + result.stderr


def test_build_writes_every_pull_target(project: Path) -> None:
    result = run("build", cwd=project)
    assert result.returncode == 0, result.stderr
    feeds = project / "feeds"
    for name in ("indeed.xml", "jobs.jsonld", "linkedin.json", "careers/index.html"):
        assert (feeds / name).is_file(), name
    assert "indeed" in result.stdout and "careers" in result.stdout


def test_preview_prints_one_posting(project: Path) -> None:
    result = run("preview", "sixsq-sales-manager", "--target", "indeed", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "<referencenumber><![CDATA[sixsq-sales-manager]]></referencenumber>" in result.stdout
    unknown = run("preview", "nope", "--target", "indeed", cwd=project)
    assert unknown.returncode == 2  # a usage error, listing the ids
    assert "no posting with id 'nope'" in unknown.stderr
    assert run("preview", "sixsq-sales-manager", "--target", "nope", cwd=project).returncode == 2


def test_version_alone_prints_the_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip().startswith("syndicate ")


def test_no_command_prints_help_and_exits_2(tmp_path: Path) -> None:
    result = run("-v", cwd=tmp_path)
    assert result.returncode == 2 and "Usage: syndicate" in result.stdout
