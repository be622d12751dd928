"""The package installs with pip and finds the library as documented."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

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


def _setuptools_version():
    try:
        from importlib.metadata import version

        return tuple(int(part) for part in version("setuptools").split(".")[:2])
    except Exception:
        return None


@pytest.fixture
def package_source(lib, tmp_path):
    """A copy of Bindings/python (setuptools writes build/ and *.egg-info next to the
    sources), and the environment that builds it offline with the loaded library."""
    found = _setuptools_version()
    if found is None or found < (77, 0):
        pytest.skip(f"building the package needs setuptools >= 77 here (found {found})")
    source = tmp_path / "src"
    shutil.copytree(
        PACKAGE_ROOT, source,
        ignore=shutil.ignore_patterns("tests", "build", "dist", "*.egg-info", "__pycache__", "*.so"),
    )
    env = dict(os.environ, SPECDEC_LIB_DIR=os.path.dirname(os.path.realpath(specdec.library_path())))
    env.pop("SPECDEC_LIBRARY", None)
    return source, env


def _pip(args, env, cwd):
    command = [sys.executable, "-m", "pip", *args, "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_pip_install_and_import(package_source, tmp_path):
    source, env = package_source
    target = tmp_path / "site"
    _pip(["install", "--target", str(target), str(source)], env, tmp_path)
    bundled = target / "specdec" / "libspecdec.so"
    assert bundled.is_file() and not bundled.is_symlink()
    # No SPECDEC_LIBRARY: the installed package loads the copy it bundles.
    env = dict(env, PYTHONPATH=str(target))
    proc = _run(
        "import specdec; print(specdec.__file__); print(specdec.__version__); print(specdec.version_number());"
        " print(specdec.library_path())",
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    installed, version, number, library = proc.stdout.split()
    assert installed.startswith(str(target))
    assert os.path.realpath(library) == os.path.realpath(bundled)
    assert version == specdec.SPECDEC_VERSION_STRING
    assert int(number) == specdec.SPECDEC_VERSION_NUMBER


def test_wheel_is_for_this_platform_and_bundles_the_library(package_source, tmp_path):
    source, env = package_source
    out = tmp_path / "wheels"
    _pip(["wheel", "--wheel-dir", str(out), str(source)], env, tmp_path)
    (wheel,) = out.glob("specdec-*.whl")
    assert not wheel.name.endswith("-none-any.whl"), wheel.name
    assert wheel.name.startswith(f"specdec-{specdec.SPECDEC_VERSION_STRING}-py3-none-"), wheel.name
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("specdec/libspecdec.so")[:4] == b"\x7fELF"
        metadata = archive.read(f"specdec-{specdec.SPECDEC_VERSION_STRING}.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in metadata


@pytest.mark.skipif(
    os.environ.get("SPECDEC_TEST_INSTALLED") != "1" or bool(os.environ.get("SPECDEC_LIBRARY")),
    reason="checks an installed package run without SPECDEC_LIBRARY",
)
def test_installed_package_loads_its_bundled_library(lib):
    assert specdec.library_path() == str(Path(specdec.__file__).resolve().parent / "libspecdec.so")
