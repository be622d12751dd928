"""`specdec generate/score` with encoder-decoder models, against the references of
tools/fixtures/make_seq2seq_fixtures.py (transformers' generate() and teacher-forced scores).

The binary is $SPECDEC_CLI or dist/bin/specdec; the tests are skipped when it predates
--source-ids.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures" / "seq2seq"
SPECDEC = Path(os.environ.get("SPECDEC_CLI", REPO / "dist" / "bin" / "specdec"))
NAMES = ["marian_f32", "marian_f16", "bart_f32", "fairseq_f32"]


def run(*args: str, check: bool = True) -> dict:
    out = subprocess.run([str(SPECDEC), *args], capture_output=True, text=True, timeout=120)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def ids(xs) -> str:
    return ",".join(map(str, xs))


@pytest.fixture(autouse=True, scope="module")
def binary_with_seq2seq():
    # scripts/test.sh builds the binary first and sets SPECDEC_CLI_REQUIRED: there, a
    # missing or stale binary is a failure, not a skip.
    required = os.environ.get("SPECDEC_CLI_REQUIRED") == "1"
    if not SPECDEC.is_file():
        (pytest.fail if required else pytest.skip)(f"{SPECDEC} is not built")
    help_text = subprocess.run([str(SPECDEC), "generate", "--help"], capture_output=True, text=True).stdout
    if "--source-ids" not in help_text:
        (pytest.fail if required else pytest.skip)(f"{SPECDEC} predates encoder-decoder support")


def reference(name: str) -> dict:
    return json.loads((FIXTURES / name / "reference.json").read_text())


@pytest.mark.parametrize("name", NAMES)
def test_greedy_matches(name: str) -> None:
    ref = reference(name)
    out = run("generate", "--model", str(FIXTURES / name), "--source-ids", ids(ref["source_ids"]),
              "--max-new-tokens", str(ref["max_new_tokens"]), "--json", "--threads", "2")
    assert out["tokens"] == ref["greedy_ids"]
    assert out["stats"]["prompt_tokens"] == len(ref["source_ids"])


@pytest.mark.parametrize("name", NAMES)
def test_score_matches(name: str) -> None:
    ref = reference(name)
    out = run("score", "--model", str(FIXTURES / name), "--source-ids", ids(ref["source_ids"]),
              "--target-ids", ids(ref["score_target_ids"]), "--json")
    assert len(out["logprobs"]) == len(ref["logprobs"])
    assert max(abs(a - b) for a, b in zip(out["logprobs"], ref["logprobs"])) < 1e-3


@pytest.mark.parametrize("name", ["marian_f32", "marian_f16", "bart_f32"])
def test_beams_match(name: str) -> None:
    ref = reference(name)
    for beam in ref["beam"]:
        early = {False: "false", True: "true", "never": "never"}[beam["early_stopping"]]
        out = run("generate", "--model", str(FIXTURES / name), "--source-ids", ids(ref["source_ids"]),
                  "--max-new-tokens", str(beam["max_new_tokens"]), "--beams", str(beam["num_beams"]),
                  "--num-return", str(beam["num_return_sequences"]), "--length-penalty", str(beam["length_penalty"]),
                  "--early-stopping", early, "--json")
        got = out["hypotheses"]
        assert [h["tokens"] for h in got] == [h["tokens"] for h in beam["hypotheses"]]
        assert all(abs(a["score"] - b["score"]) < 1e-4 for a, b in zip(got, beam["hypotheses"]))
        assert [h["ended_with_eos"] for h in got] == [h["ended_with_eos"] for h in beam["hypotheses"]]
        assert out["tokens"] == beam["hypotheses"][0]["tokens"]


def test_misuse_is_reported() -> None:
    marian = str(FIXTURES / "marian_f32")
    out = run("generate", "--model", marian, "--prompt-ids", "1,2", "--json", check=False)
    assert out["error"]["status"] == 1 and "--source-ids" in out["error"]["message"]
    llama = str(REPO / "Tests" / "Fixtures" / "decoder" / "llama_f32")
    out = run("generate", "--model", llama, "--source-ids", "1,2", "--json", check=False)
    assert out["error"]["status"] == 1
    out = run("generate", "--model", marian, "--source-ids", ",".join(["5"] * 200), "--json", check=False)
    assert out["error"]["status"] == 8  # capacity: longer than max_position_embeddings
    out = run("score", "--model", marian, "--source-ids", "5,0", "--target-ids", "999", "--json", check=False)
    assert out["error"]["status"] == 6  # token out of range


def test_specdec_drafter_with_beta_one_is_greedy():
    """--drafter specdec with Spec-Verification at beta 1 reproduces greedy translation."""
    ref = reference("marian_f32")
    drafter = REPO / "Tests" / "Fixtures" / "specdec" / "marian-drafter"
    out = subprocess.run([str(SPECDEC), "generate", "--model", str(FIXTURES / "marian_f32"), "--source-ids", ids(ref["source_ids"]),
                          "--max-new-tokens", str(len(ref["greedy_ids"])), "--drafter", "specdec", "--draft", str(drafter),
                          "--draft-len", "4", "--accept", "topk", "--beta", "1", "--tau", "3", "--json"],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["tokens"] == ref["greedy_ids"]
    assert result["stats"]["drafted_tokens"] > 0
    bad = subprocess.run([str(SPECDEC), "generate", "--model", str(FIXTURES / "marian_f32"), "--source-ids", ids(ref["source_ids"]),
                          "--drafter", "specdec", "--draft", str(drafter), "--draft-len", "25", "--json"], capture_output=True, text=True)
    assert bad.returncode != 0 and "trained for k = 4" in bad.stdout
