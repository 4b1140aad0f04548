"""What a package has: one version, a license file, a changelog, true metadata."""
import importlib.metadata
import re
from pathlib import Path

import pytest

import fastact

ROOT = Path(__file__).resolve().parents[1]
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11 (CI's); the checks read pyproject.toml


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_version_is_written_once():
    project = _project()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fastact.__version__"}
    assert importlib.metadata.version("fastact") == fastact.__version__


def test_license_file_is_the_declared_mit_license():
    project = _project()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Permission is hereby granted" in text
    assert not any(c.startswith("License ::") for c in project["classifiers"])  # PEP 639


def test_metadata_invents_no_urls_and_has_classifiers_and_keywords():
    project = _project()["project"]
    assert "urls" not in project
    assert project["keywords"] and project["authors"]
    assert "Programming Language :: Python :: 3" in project["classifiers"]


def test_changelog_starts_with_this_release():
    headings = re.findall(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings and headings[0] == fastact.__version__
