"""The project installs as a package: ``pip install -e .`` (a line of requirements.txt, so the README's run
command does it) gives a ``lawstats`` command that works from any folder and finds ``data/``; a built wheel
carries the package's non-Python files (the measure catalogue)."""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from lawstats import lake, seed
from tests.conftest import ROOT

PIP_QUIET = {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PIP_NO_INDEX": "1"}  # nothing downloaded


def _pip(python: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    # --no-build-isolation: the build backend (setuptools) comes from the environment, not from the index
    return subprocess.run([str(python), "-m", "pip", *args, "--no-deps", "--no-build-isolation"], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env={**os.environ, **PIP_QUIET})


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A new virtual environment with this project installed editable, as ``pip install -r requirements.txt``
    does. Returns its ``bin`` folder. The dependencies come from the environment running the tests (a ``.pth``
    file naming its site-packages: nothing is downloaded), not the project, which only the install provides."""
    where = tmp_path_factory.mktemp("venv")
    venv.create(where, with_pip=False, symlinks=True)
    python = where / "bin" / "python"
    own_site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    Path(own_site, "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    assert subprocess.run([str(python), "-c", "import lawstats"], cwd=where, capture_output=True).returncode != 0
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                           "--no-build-isolation", "-e", str(ROOT)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **PIP_QUIET})
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "bin"


@pytest.mark.slow
def test_the_lawstats_command_works_from_any_folder_and_finds_data(installed, tmp_path):
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    db = tmp_path / "fresh.duckdb"
    done = subprocess.run([str(installed / "lawstats"), "--db", str(db), "indicators", "--format", "csv"],
                          cwd=elsewhere, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "registered_persons" in done.stdout and "25218" in done.stdout  # seeded from the project's data/
    assert not (elsewhere / "data").exists() and list(elsewhere.iterdir()) == []  # nothing written in the cwd


@pytest.mark.slow
def test_python_dash_m_works_from_another_folder_too(installed, tmp_path):
    done = subprocess.run([str(installed / "python"), "-m", "lawstats", "--lang", "en", "--db",
                           str(tmp_path / "db.duckdb"), "init"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert str(tmp_path / "db.duckdb") in done.stdout


def test_the_default_database_and_data_do_not_depend_on_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LAWSTATS_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    # the default store is the SQLite-catalog lake in the project folder, named absolutely
    spec = lake.store_spec(seed.default_store())
    assert (spec.kind, spec.target) == ("sqlite", str(ROOT / "data" / "lawstats.sqlite"))
    assert spec.data_path == str(ROOT / "data" / "lawstats.sqlite.files") + os.sep
    assert (seed.DEFAULT_DATA_DIR / "population.csv").is_file()


@pytest.mark.slow
def test_the_wheel_carries_the_catalogue_files(tmp_path):
    # built from a copy: setuptools writes build/ and *.egg-info beside the sources
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "*.duckdb*", "lawstats.sqlite*", "node_modules", ".pytest_cache"))
    done = _pip(Path(sys.executable), "wheel", "--no-cache-dir", "-w", str(tmp_path), str(source), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    wheel, = tmp_path.glob("lawstats-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"lawstats/{p.relative_to(ROOT / 'lawstats').as_posix()}"
               for p in (ROOT / "lawstats").rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    # a file missing here needs its pattern in [tool.setuptools.package-data] of pyproject.toml
    assert any(n.endswith(".toml") for n in shipped) and shipped <= names, sorted(shipped - names)
    assert any(n.endswith("entry_points.txt") for n in names)
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "lawstats = lawstats.__main__:run" in entry_points
    assert not any(n.startswith(("tests/", "pages/", "bench/", "data/")) for n in names)


def test_the_readme_run_command_installs_the_project():
    """The README's run command installs requirements.txt, and requirements.txt installs this project."""
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    assert "-e ." in lines
    assert "pip install -r requirements.txt" in (ROOT / "README.md").read_text(encoding="utf-8")
