"""The package reads from the FFI up: every module imports only modules of lower layers,
so there is no import cycle. Imports are read with ast from the sources, inside
functions too (a lazy import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

from conftest import PACKAGE_ROOT

PACKAGE = "specdec"
SOURCES = PACKAGE_ROOT / PACKAGE

#: Bottom to top. A module may import modules of the layers below its own, never of
#: its own layer or above.
LAYERS = (
    ("_ffi",),  # the C ABI: constants, structs, functions, library loading
    ("errors",),  # status codes as exceptions
    ("_marshal", "_handle"),  # argument conversion and output buffers; handle lifetime
    ("tokenizer", "drafter"),  # objects the library calls back into
    ("model",),  # models, and the tokenizer of their directory
    ("generation", "seq2seq"),  # options and results of generate calls
    ("speculative", "text", "batch"),  # options that name models, drafters and tokenizers; batch calls' buffers
    ("session", "verifier"),  # the calls themselves
    ("__init__",),  # the public names
)

LAYER_OF: Dict[str, int] = {name: level for level, names in enumerate(LAYERS) for name in names}


def package_modules() -> List[str]:
    return sorted(path.stem for path in SOURCES.glob("*.py"))


def imported_modules(source: str, modules: Set[str]) -> Set[str]:
    """The package's modules that ``source`` (a module of the package) imports,
    anywhere in it; ``__init__`` stands for the package itself."""
    found: Set[str] = set()

    def add(dotted: str, names=()) -> None:
        # `dotted` is relative to the package: "" (the package), "errors", ...
        head = dotted.split(".")[0]
        if head:
            found.add(head)
            return
        for name in names:
            found.add(name if name in modules else "__init__")

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = [alias.name for alias in node.names]
            module = node.module or ""
            if node.level == 1:
                add(module, names)
            elif node.level == 0 and (module == PACKAGE or module.startswith(PACKAGE + ".")):
                add(module[len(PACKAGE) + 1 :], names)
            elif node.level > 1:
                found.add("<outside the package>")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == PACKAGE:
                    found.add("__init__")
                elif alias.name.startswith(PACKAGE + "."):
                    add(alias.name[len(PACKAGE) + 1 :])
    return found


def dynamic_imports(source: str) -> List[int]:
    """Lines calling importlib.import_module or __import__: imports ast cannot follow."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return lines


def import_graph() -> Dict[str, Set[str]]:
    modules = set(package_modules())
    return {
        name: imported_modules((SOURCES / f"{name}.py").read_text(encoding="utf-8"), modules) - {name}
        for name in modules
    }


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One import cycle as [a, b, ..., a], or [] when the graph has none."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: done
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


def test_every_module_has_a_layer():
    unplaced = [name for name in package_modules() if name not in LAYER_OF]
    assert not unplaced, f"add {unplaced} to LAYERS in {Path(__file__).name}"
    missing = [name for name in LAYER_OF if not (SOURCES / f"{name}.py").is_file()]
    assert not missing, f"LAYERS names modules that do not exist: {missing}"


@pytest.mark.parametrize("module", package_modules())
def test_imports_point_down(module):
    graph = import_graph()
    level = LAYER_OF.get(module)
    if level is None:
        pytest.fail(f"{module} has no layer")
    upward = sorted(
        target for target in graph[module] if LAYER_OF.get(target, len(LAYERS)) >= level
    )
    assert not upward, (
        f"specdec/{module}.py (layer {level}) imports {upward}, which are not below it: "
        + ", ".join(f"{t} is layer {LAYER_OF.get(t, '?')}" for t in upward)
    )


@pytest.mark.parametrize("module", package_modules())
def test_no_dynamic_imports(module):
    lines = dynamic_imports((SOURCES / f"{module}.py").read_text(encoding="utf-8"))
    assert not lines, f"specdec/{module}.py imports dynamically at lines {lines}"


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert not cycle, "import cycle: " + " -> ".join(cycle)


# -- the checker itself --------------------------------------------------------


def test_checker_sees_lazy_and_absolute_imports():
    modules = {"session", "model", "errors", "_ffi"}
    source = (
        "from . import _ffi\n"
        "from .errors import check\n"
        "import specdec.model\n"
        "def tokenizer():\n"
        "    from .session import Session\n"
        "    from specdec import errors\n"
        "    import specdec\n"
    )
    assert imported_modules(source, modules) == {"_ffi", "errors", "model", "session", "__init__"}
    assert dynamic_imports("import importlib\nimportlib.import_module('specdec.session')\n") == [2]


def test_checker_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
