"""A new board in one module: a pull target defined only here joins every part of the flow.

Nothing outside this file names it: it is registered with `syndicate.registry.register`, a
project's config.yaml turns it on, and then `validate` checks its rule, `build` writes its
file, `preview` shows it, the feed server answers with the media type its document declares,
and the contract suite's checks hold for it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal

import httpx
import pytest
from typer.testing import CliRunner

from syndicate.adapters import Document, PullTarget, RenderContext
from syndicate.cli import app  # every command assembled (syndicate.cli.base alone has none)
from syndicate.config import load_settings
from syndicate.errors import Problem
from syndicate.loading import load_project
from syndicate.model import Posting
from syndicate.registry import REGISTRY, Deferred, Registry, TargetOptions, register
from syndicate.serving import ServerStatus, create_app_for
from tests.test_contract import check_contract, target_of
from tests.test_serving import running

ROOT = Path(__file__).resolve().parent.parent
MEDIA_TYPE = "application/x-tiny+json"  # a type no table of ours knows


class TinyOptions(TargetOptions):
    type: Literal["tiny_board"] = "tiny_board"
    file: str = "tiny.board"
    max_title: int = 40


class TinyBoard(PullTarget):
    """A board that takes each job's id, title and URL, titles of at most ``max_title``."""

    summary: ClassVar[str] = "Tiny board feed"
    Options: ClassVar[type[TargetOptions]] = TinyOptions
    options: TinyOptions

    def check(self, posting: Posting) -> list[Problem]:
        if len(posting.title) > self.options.max_title:
            message = f"is {len(posting.title)} characters; Tiny takes {self.options.max_title}"
            return [self.problem(posting, "title", message)]
        return []

    def preview(self, posting: Posting, context: RenderContext) -> str:
        return json.dumps(self._job(posting, context), indent=2)

    def render(self, postings: Iterable[Posting], context: RenderContext) -> Iterator[Document]:
        jobs = [self._job(posting, context) for posting in postings]
        yield Document(self.options.file, MEDIA_TYPE, [json.dumps({"jobs": jobs}).encode()])

    def _job(self, posting: Posting, context: RenderContext) -> dict[str, str]:
        return {"id": posting.id, "title": posting.title, "url": context.job_url(posting)}


@pytest.fixture
def tiny() -> Iterator[type[TinyBoard]]:
    register(TinyBoard)
    yield TinyBoard
    REGISTRY.unregister("tiny_board")


@pytest.fixture
def project(tmp_path: Path, tiny: type[TinyBoard]) -> Path:
    config = (ROOT / "config.yaml").read_text()
    config = config.replace(
        "targets:\n", "targets:\n  tiny:          {type: tiny_board, max_title: 24}\n", 1
    )
    (tmp_path / "config.yaml").write_text(config)
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    return tmp_path


def cli(project: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(project / "config.yaml"), *args])
    return result.exit_code, result.output


def test_the_registry_knows_it_only_while_registered(tiny: type[TinyBoard]) -> None:
    assert tiny.type_name == "tiny_board"
    assert REGISTRY.get("tiny_board") is tiny


def test_validate_checks_its_rule_tagged_with_its_name(project: Path) -> None:
    code, output = cli(project, "validate")
    tiny_lines = sorted(line for line in output.splitlines() if line.endswith("[tiny]"))
    assert [line.split("/postings/", 1)[1] for line in tiny_lines] == [
        "8x8-inside-sales-manager.md:6: title: is 35 characters; Tiny takes 24 [tiny]",
        "canonical-sales-director-iot-devices.md:7: title: is 29 characters; Tiny takes 24 [tiny]",
    ]
    assert code == 1 and "2 invalid" in output, output


def test_build_writes_it_and_the_server_answers_with_its_media_type(project: Path) -> None:
    _code, output = cli(project, "build")
    assert "tiny" in output, output  # the build table has its row
    settings = load_settings(project / "config.yaml")
    written = json.loads((settings.output_dir / "tiny.board").read_bytes())
    titles = {job["title"] for job in written["jobs"]}
    assert len(titles) == 3 and all(len(title) <= 24 for title in titles)
    assert all(job["url"].startswith(settings.site.base_url) for job in written["jobs"])
    app_ = create_app_for(settings, status=ServerStatus(timedelta(minutes=15)))
    with running(app_) as url:
        response = httpx.get(f"{url}/tiny.board", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    assert response.json() == written


def test_preview_shows_it(project: Path) -> None:
    args = ["--config", str(project / "config.yaml"), "preview", "sixsq-sales-manager"]
    result = CliRunner().invoke(app, [*args, "--target", "tiny"])
    assert result.exit_code == 0, result.output
    # The payload alone on stdout (the load's progress line is on stderr).
    assert json.loads(result.stdout)["id"] == "sixsq-sales-manager"


def test_the_contract_holds_for_it(project: Path) -> None:
    settings = load_settings(project / "config.yaml")
    examples = list(load_project(settings).postings)
    check_contract(target_of("tiny_board", settings), examples, settings)


def test_a_deferred_type_is_known_by_its_options_and_imported_when_first_asked_for() -> None:
    # How the board profiles register (`syndicate.adapters.profiles.PROFILE_TYPE`): the
    # configuration validates against the options alone, the class is imported on `get`.
    registry = Registry(group=None)
    registry.register(Deferred(TinyOptions, f"{__name__}:TinyBoard"))  # type: ignore[arg-type]
    assert registry.names() == ["tiny_board"]
    options = registry.options_adapter().validate_python({"t": {"type": "tiny_board"}})
    assert isinstance(options["t"], TinyOptions)
    assert registry.get("tiny_board") is TinyBoard
    assert list(registry) == [TinyBoard]
    wrong = Registry(group=None)
    wrong.register(Deferred(TargetOptionsOfTiny, f"{__name__}:TinyBoard"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="is not the options registered"):
        wrong.get("tiny_board")


class TargetOptionsOfTiny(TargetOptions):
    type: Literal["tiny_board"] = "tiny_board"
