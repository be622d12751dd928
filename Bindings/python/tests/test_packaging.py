"""The package installs with pip and finds the library as documented."""

import os
import shutil
import subprocess
import sys

import pytest

import specdec

from conftest import PACKAGE_ROOT


def _run(code, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_specdec_library_env_wins(lib, tmp_path):
    env = dict(os.environ, SPECDEC_LIBRARY=specdec.library_path(), PYTHONPATH=str(PACKAGE_ROOT))
    proc = _run("import specdec; print(specdec.library_path()); print(specdec.abi_version())", env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [specdec.library_path(), str(specdec.SPECDEC_ABI_VERSION)]


def test_specdec_library_env_missing_file_is_an_error(tmp_path):
    env = dict(os.environ, SPECDEC_LIBRARY=str(tmp_path / "nope.so"), PYTHONPATH=str(PACKAGE_ROOT))
    proc = _run(
        "import specdec\n"
        "try:\n    specdec.abi_version()\n"
        "except specdec.LibraryNotFoundError as e:\n    print('ERR', e)\n",
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ERR") and "nope.so" in proc.stdout


def test_pip_install_and_import(lib, tmp_path):
    pytest.importorskip("setuptools")
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources.
    source = tmp_path / "src"
    shutil.copytree(
        PACKAGE_ROOT, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__", "*.so")
    )
    target = tmp_path / "site"
    proc = subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
            "--no-index", "--target", str(target), str(source),
        ],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    if proc.returncode != 0:
        pytest.skip(f"pip install did not run here: {proc.stderr[-500:]}")
    env = dict(os.environ, PYTHONPATH=str(target), SPECDEC_LIBRARY=specdec.library_path())
    proc = _run(
        "import specdec, sys; print(specdec.__file__); print(specdec.__version__); print(specdec.version_number())",
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    installed, version, number = proc.stdout.split()
    assert installed.startswith(str(target))
    # The installed bindings are these (0.3.0) and load the library they are pointed at.
    # (specdec_version_string() is not compared: the library still reports "0.1.0",
    # see test_version.py.)
    assert version == specdec.SPECDEC_VERSION_STRING
    assert int(number) == specdec.SPECDEC_VERSION_NUMBER
