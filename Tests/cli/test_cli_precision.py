"""Weight precision and kernel path through `specdec`: what `info` reports, and bad input
(an unknown --weights or --kernels value, a path this CPU lacks, a bad SPECDEC_KERNEL_PATH)
answered with a status and a message."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECDEC = Path(os.environ.get("SPECDEC_CLI", REPO / "dist" / "bin" / "specdec"))
MODEL = REPO / "Tests" / "Fixtures" / "decoder" / "llama_f16"
ALL_PATHS = ["portable", "avx2", "avx512", "avx512_bf16", "amx"]


@pytest.fixture(autouse=True, scope="module")
def binary():
    required = os.environ.get("SPECDEC_CLI_REQUIRED") == "1"
    if not SPECDEC.is_file():
        (pytest.fail if required else pytest.skip)(f"{SPECDEC} is not built")


def specdec(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(SPECDEC), *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def last_json(out: subprocess.CompletedProcess) -> dict:
    return json.loads(out.stdout.splitlines()[-1])


def cpu_flags() -> set:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


@pytest.mark.parametrize("weights", ["auto", "fp32", "bf16", "int8"])
def test_info_reports_precision_and_path(weights: str) -> None:
    out = specdec("info", "--model", str(MODEL), "--weights", weights, "--kernels", "portable")
    assert out.returncode == 0, out.stderr
    info = last_json(out)
    assert info["weights"] == weights
    assert info["kernel_path"] == "portable"
    assert info["projection_bytes"] > 0


def test_int8_streams_about_a_quarter_of_fp32() -> None:
    fp32 = last_json(specdec("info", "--model", str(MODEL), "--weights", "fp32"))["projection_bytes"]
    int8 = last_json(specdec("info", "--model", str(MODEL), "--weights", "int8"))["projection_bytes"]
    assert int8 < fp32 / 3


def test_every_path_gives_the_same_int8_greedy_ids() -> None:
    runs = {}
    for path in ALL_PATHS:
        out = specdec("generate", "--model", str(MODEL), "--prompt-ids", "5,9,200,17", "--max-new-tokens", "12",
                      "--weights", "int8", "--kernels", path, "--json")
        if out.returncode != 0:
            assert last_json(out)["error"]["status"] == 4  # SPECDEC_ERR_UNSUPPORTED: this CPU lacks the path
            continue
        runs[path] = last_json(out)["tokens"]
    assert "portable" in runs
    assert len({tuple(v) for v in runs.values()}) == 1, runs


def test_unknown_weights_value_is_an_error() -> None:
    out = specdec("generate", "--model", str(MODEL), "--prompt-ids", "1,2", "--weights", "int4", "--json")
    assert out.returncode != 0
    error = last_json(out)["error"]
    assert error["status"] == 1 and "int4" in error["message"]


def test_unknown_kernel_path_is_an_error() -> None:
    out = specdec("generate", "--model", str(MODEL), "--prompt-ids", "1,2", "--kernels", "neon", "--json")
    assert out.returncode != 0
    assert "neon" in last_json(out)["error"]["message"]


def test_bad_environment_kernel_path_is_an_error() -> None:
    out = specdec("generate", "--model", str(MODEL), "--prompt-ids", "1,2", "--json", env={"SPECDEC_KERNEL_PATH": "sse9"})
    assert out.returncode != 0
    assert "SPECDEC_KERNEL_PATH=sse9" in last_json(out)["error"]["message"]


def test_environment_forces_a_path() -> None:
    out = specdec("info", "--model", str(MODEL), "--weights", "bf16", env={"SPECDEC_KERNEL_PATH": "avx2"})
    assert out.returncode == 0, out.stderr
    assert last_json(out)["kernel_path"] == "avx2"


def test_a_path_this_cpu_lacks_is_refused() -> None:
    if "amx_tile" in cpu_flags():
        pytest.skip("this CPU has AMX: every path is available")
    out = specdec("generate", "--model", str(MODEL), "--prompt-ids", "1,2", "--weights", "bf16", "--kernels", "amx", "--json")
    assert out.returncode != 0
    error = last_json(out)["error"]
    assert error["status"] == 4 and "amx" in error["message"]
