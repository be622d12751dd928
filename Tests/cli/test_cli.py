"""The `specdec` command's machine-readable output, checked against the transformers
references committed with the fixtures (Tests/Fixtures/decoder/*/reference.json)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECDEC = Path(os.environ.get("SPECDEC_CLI", REPO / "dist" / "bin" / "specdec"))
FIXTURES = REPO / "Tests" / "Fixtures" / "decoder"
MODELS = ["llama_f32", "llama_bf16", "mistral_f32", "qwen2_f32", "gpt2_f32", "gpt2_f16"]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    if not SPECDEC.exists():
        pytest.fail(f"{SPECDEC} is missing: run scripts/build.sh first")
    return subprocess.run([str(SPECDEC), *args], capture_output=True, text=True, check=check, timeout=120)


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def reference(name: str) -> dict:
    return json.loads((FIXTURES / name / "reference.json").read_text())


@pytest.mark.parametrize("name", MODELS)
def test_generate_json_matches_transformers_greedy(name: str) -> None:
    ref = reference(name)
    out = run("generate", "--model", str(FIXTURES / name), "--prompt-ids", ",".join(map(str, ref["prompt_ids"])),
              "--max-new-tokens", str(len(ref["greedy_ids"])), "--json")
    result = last_json(out.stdout)
    assert result["tokens"] == ref["greedy_ids"]
    assert result["text"] is None
    stats = result["stats"]
    assert stats["generated_tokens"] == len(ref["greedy_ids"])
    assert stats["prompt_tokens"] == len(ref["prompt_ids"])
    assert stats["decode_tokens_per_second"] > 0


@pytest.mark.parametrize("name", ["llama_f32", "gpt2_f32"])
def test_score_logprobs_match_transformers(name: str) -> None:
    ref = reference(name)
    out = run("score", "--model", str(FIXTURES / name), "--prompt-ids", ",".join(map(str, ref["score_ids"])), "--json")
    logprobs = last_json(out.stdout)["logprobs"]
    assert len(logprobs) == len(ref["logprobs"])
    assert max(abs(a - b) for a, b in zip(logprobs, ref["logprobs"])) < 1e-3


def test_sampling_is_reproducible_with_a_seed() -> None:
    ref = reference("llama_f32")
    args = ["generate", "--model", str(FIXTURES / "llama_f32"), "--prompt-ids", ",".join(map(str, ref["prompt_ids"])),
            "--max-new-tokens", "16", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "7",
            "--threads", "2", "--json"]
    first, second = last_json(run(*args).stdout), last_json(run(*args).stdout)
    assert first["tokens"] == second["tokens"]
    assert len(first["tokens"]) == 16


def test_bad_model_directory_is_a_json_error() -> None:
    out = run("generate", "--model", "/nonexistent", "--prompt-ids", "1,2", "--json", check=False)
    assert out.returncode != 0
    error = last_json(out.stdout)["error"]
    assert error["status"] == 2 and "/nonexistent" in error["message"]


def test_out_of_range_prompt_id_is_an_error() -> None:
    out = run("generate", "--model", str(FIXTURES / "llama_f32"), "--prompt-ids", "1,999", "--json", check=False)
    assert out.returncode != 0
    assert last_json(out.stdout)["error"]["status"] == 6
