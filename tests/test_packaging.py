"""An install that is not editable (a wheel) has everything the default chat needs: the seed corpus and the
span reader's weights."""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile

from tests.conftest import ROOT


def test_a_wheel_carries_the_seeds_and_the_reader_and_finds_the_seeds_where_it_installs_them(tmp_path):
    source = tmp_path / "source"  # a copy: building writes build/ and *.egg-info next to the sources
    for folder in ("qa", "index", "ui", "seeds"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / file, source / file)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]  # else from PyPI
    subprocess.run([*pip, "wheel", str(source), "--no-deps", *isolation, "-w", str(tmp_path / "wheel")],
                   check=True, timeout=300, capture_output=True)
    (wheel,) = glob.glob(str(tmp_path / "wheel" / "*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith("share/qa/seeds/000_f79ba8ae3d3a940e.txt") for name in names)
    assert any(name.startswith("qa/span_reader/") and name.endswith(".safetensors") for name in names)
    # Installed by hand, as pip would: `pip install --prefix` would also uninstall this environment's own qa.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    prefix = next(site.glob("qa-*.data")) / "data"  # what the wheel installs under sys.prefix
    found = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.prefix = {str(prefix)!r}; import qa.config; "
                               "print(qa.config.__file__); print(qa.config.default_docs())"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)}, check=True,
    ).stdout.split()
    assert found == [str(site / "qa" / "config.py"), str(prefix / "share" / "qa" / "seeds")]
