"""The layer contract covers every module, and the lower layers stay light to import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import syndicate

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(syndicate.__file__).parent
NOT_LAYERED = {"testing", "templates"}  # the local board (a tool beside the flow); data


def _layers() -> list[set[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = config["tool"]["importlinter"]["contracts"]
    return [
        {name.strip().removeprefix("syndicate.") for name in layer.split(":")}
        for layer in contract["layers"]
    ]


def test_every_module_of_the_package_is_in_a_layer() -> None:
    named = set().union(*_layers())
    modules = {
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__")
        or (path.is_dir() and (path / "__init__.py").exists())
    }
    assert modules - NOT_LAYERED - named == set(), "add new modules to the layer contract"
    assert named - modules == set(), "the contract names modules that do not exist"


def _loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_state_store_loads_no_target_and_no_renderer() -> None:
    loaded = _loaded_by("import syndicate.state")
    assert not {name for name in loaded if name.startswith("syndicate.adapters")}
    assert not loaded & {"jinja2", "lxml", "httpx", "pycountry"}


def test_the_configuration_loads_targets_only_when_it_validates_some() -> None:
    loaded = _loaded_by("import syndicate.config")
    assert not {name for name in loaded if name.startswith("syndicate.adapters")}


def test_the_worker_processes_modules_import_no_database_and_no_http_client() -> None:
    # A build's worker processes unpickle their tasks from these modules; SQLAlchemy alone
    # would be some 27 MB of each worker's memory.
    loaded = _loaded_by(
        "import syndicate.build, syndicate.loading.cached, syndicate.loading.checking"
    )
    assert not loaded & {"sqlalchemy", "httpx", "psycopg"}


def test_validate_without_a_state_imports_no_database_and_no_http_client(tmp_path: Path) -> None:
    # `validate` runs in CI on every pull request: it checks files and never sends a request,
    # and without a publish state it opens none (SQLAlchemy alone was a third of its start-up).
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")  # with the three push targets
    shutil.copytree(ROOT / "postings", tmp_path / "postings")
    code = (
        "import sys\n"
        "from syndicate.cli import main\n"
        "sys.argv = ['syndicate', '-q', 'validate']\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('\\n'.join(sorted(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    loaded = set(run.stdout.split())
    assert "syndicate.adapters.linkedin_api" in loaded  # the push targets' rules were checked
    assert not {name for name in loaded if name.split(".")[0] in ("sqlalchemy", "httpx")}
    assert not {name for name in loaded if name.startswith("syndicate.state.")} - {
        "syndicate.state.numbers"
    }
