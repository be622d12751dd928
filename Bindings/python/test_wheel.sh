#!/usr/bin/env bash
# The Python package as users get it, with no variable set:
#   1. a wheel built with `python3 -m build --wheel`, installed into a fresh virtual
#      environment, passes the binding tests, run from outside the source tree so that
#      only the installed package can be imported;
#   2. `pip install ./Bindings/python` into another fresh environment gives a package
#      that imports and loads the library it bundles.
# Both take libspecdec.so from dist/lib (setup.py builds it there when it is missing).
# pip reaches PyPI for setuptools (build isolation) and pytest.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"   # Bindings/python
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
unset SPECDEC_LIBRARY SPECDEC_LIB_DIR SPECDEC_TEST_INSTALLED PYTHONPATH

python3 -m build --version >/dev/null 2>&1 || python3 -m pip install -q build

echo "== wheel: build"
python3 -m build --wheel --outdir "$work/wheel" "$here" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=("$work"/wheel/specdec-*.whl)
echo "${wheel[0]##*/}"

echo "== wheel: install into a fresh venv and run the tests"
python3 -m venv "$work/wheel-env"
# setuptools >= 77 lets test_packaging.py build the package inside this environment.
"$work/wheel-env/bin/python" -m pip install -q "${wheel[0]}" pytest "setuptools>=77"
cd "$work"   # not the source tree: `import specdec` must find the installed package
"$work/wheel-env/bin/python" - <<'EOF'
import pathlib, specdec
installed = pathlib.Path(specdec.__file__).resolve().parent
assert "site-packages" in installed.parts, f"imported {installed}, not the installed wheel"
assert pathlib.Path(specdec.library_path()).resolve() == installed / "libspecdec.so", specdec.library_path()
print("specdec", specdec.version_string(), "from", installed)
EOF
SPECDEC_TEST_INSTALLED=1 "$work/wheel-env/bin/python" -m pytest -q -p no:cacheprovider "$here/tests"

echo "== pip install ./Bindings/python into a fresh venv"
python3 -m venv "$work/pip-env"
(cd "$repo" && "$work/pip-env/bin/python" -m pip install -q ./Bindings/python)
"$work/pip-env/bin/python" -c '
import pathlib, specdec
assert pathlib.Path(specdec.library_path()).parent == pathlib.Path(specdec.__file__).resolve().parent, specdec.library_path()
print("specdec", specdec.version_string(), "loads", specdec.library_path())
'
