"""Build hooks that ship libspecdec.so inside the package, as specdec/libspecdec.so.

The library is taken from, in order:

1. ``$SPECDEC_LIB_DIR`` (a directory holding libspecdec.so), when set;
2. the repository's ``dist/lib`` when building from a checkout (``../../dist/lib``),
   built first with ``scripts/build.sh`` when it is not there;
3. a copy already in ``specdec/`` (an sdist made by this file carries one).

dist/lib/libspecdec.so is a symlink to the real file (libspecdec.so.<ABI>); the real
file is copied, and specdec._ffi loads it by path. The wheel is tagged for this platform
(it holds a native library) but for any Python 3, as the bindings are pure ctypes.
Metadata is in pyproject.toml.
"""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LIB_DIR_ENV = "SPECDEC_LIB_DIR"
LIBRARY = "libspecdec.so"
PACKAGE = "specdec"


def _in_directory(directory: Path) -> Optional[Path]:
    """The library file in ``directory`` (symlinks resolved), or None."""
    for candidate in [directory / LIBRARY, *sorted(directory.glob(LIBRARY + ".*"))]:
        if candidate.is_file():
            return candidate.resolve()
    return None


def _checkout() -> Optional[Path]:
    """The repository root when building from a checkout (not from an unpacked sdist)."""
    if (REPO / "include" / "specdec.h").is_file() and (REPO / "scripts" / "build.sh").is_file():
        return REPO
    return None


def find_library() -> Path:
    explicit = os.environ.get(LIB_DIR_ENV)
    if explicit:
        # An explicit choice is never silently replaced by another copy.
        found = _in_directory(Path(explicit))
        if found is None:
            raise SystemExit(f"{LIB_DIR_ENV}={explicit!r} holds no {LIBRARY}")
        return found
    repo = _checkout()
    if repo is not None:
        found = _in_directory(repo / "dist" / "lib")
        if found is None:
            print(f"{repo / 'dist' / 'lib'} has no {LIBRARY}: building it with scripts/build.sh", flush=True)
            subprocess.run(["bash", str(repo / "scripts" / "build.sh")], cwd=repo, check=True)
            found = _in_directory(repo / "dist" / "lib")
        if found is not None:
            return found
    else:
        found = _in_directory(HERE / PACKAGE)
        if found is not None:
            return found
    raise SystemExit(
        f"no {LIBRARY} to bundle: set {LIB_DIR_ENV} to the directory that holds it, or build from a "
        "libspecdec checkout (its scripts/build.sh makes dist/lib)"
    )


def copy_library(package_dir: Path) -> None:
    source = find_library()
    target = package_dir / LIBRARY
    if target.resolve() == source:
        return  # never copy the file onto itself
    package_dir.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    shutil.copyfile(source, target)
    target.chmod(0o755)


class BuildPyWithLibrary(build_py):
    def run(self):
        # A module deleted from the sources must not linger in build/ and reach the wheel.
        shutil.rmtree(Path(self.build_lib) / PACKAGE, ignore_errors=True)
        super().run()
        if not getattr(self, "editable_mode", False):  # an editable install finds the checkout's dist/lib
            copy_library(Path(self.build_lib) / PACKAGE)


class SdistWithLibrary(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        copy_library(Path(base_dir) / PACKAGE)


class NativeDistribution(Distribution):
    """Holds a native library: installed to platlib, and the wheel is not "pure"."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        # Any Python 3 on this platform: the bindings are ctypes, not an extension module.
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(
    distclass=NativeDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "sdist": SdistWithLibrary, "bdist_wheel": PlatformWheel},
)
