"""Arena backend: mmap under plain Python (jemalloc cannot be dlopen'ed late), jemalloc
when the process has it preloaded."""

import os
import subprocess
import sys

import pytest

import specdec

from conftest import FIXTURES, PACKAGE_ROOT

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


def _preloaded() -> bool:
    return "libjemalloc" in os.environ.get("LD_PRELOAD", "")


def test_plain_python_uses_mmap(llama):
    with specdec.Session(llama.model) as session:
        assert session.arena_backend == ("jemalloc" if _preloaded() else "mmap")
        assert session.generate(llama.prompt, max_new_tokens=24, stop_at_eos=False) == llama.greedy
    with specdec.Session(llama.model, arena_backend="mmap") as session:
        assert session.arena_backend == "mmap"


def test_jemalloc_requested_but_unavailable(llama):
    if _preloaded():
        pytest.skip("this process has jemalloc preloaded")
    with pytest.raises(specdec.UnsupportedError) as info:
        specdec.Session(llama.model, arena_backend="jemalloc")
    assert info.value.message


SCRIPT = """
import sys
sys.path.insert(0, {package!r})
import specdec
m = specdec.Model({model!r})
for backend in ("auto", "jemalloc"):
    s = specdec.Session(m, arena_backend=backend)
    ids = s.generate({prompt!r}, max_new_tokens=24, stop_at_eos=False)
    print(backend, s.arena_backend, ids == {greedy!r})
    s.close()
m.close()
"""


def test_ld_preload_jemalloc_reports_jemalloc(llama):
    if not os.path.exists(JEMALLOC):
        pytest.skip(f"{JEMALLOC} is not installed (apt-get install libjemalloc2)")
    env = dict(os.environ, LD_PRELOAD=JEMALLOC)
    script = SCRIPT.format(package=str(PACKAGE_ROOT), model=str(llama.path), prompt=llama.prompt, greedy=llama.greedy)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["auto jemalloc True", "jemalloc jemalloc True"]
