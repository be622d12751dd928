"""Resources: destroying sessions and models gives back what they took."""

import os

import pytest

import specdec


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")


def test_destroyed_sessions_leave_no_threads(llama):
    before = _threads()
    for _ in range(5):
        with specdec.Session(llama.model, n_threads=2) as session:
            session.generate(llama.prompt, max_new_tokens=4, stop_at_eos=False)
    assert _threads() - before == 0


def test_many_sessions_and_models(llama):
    for _ in range(50):
        with specdec.Model(llama.path) as model:
            with specdec.Session(model, n_threads=1) as session:
                assert session.generate(llama.prompt, max_new_tokens=2, stop_at_eos=False) == llama.greedy[:2]
