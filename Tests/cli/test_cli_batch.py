"""Batched decoding from the command line: `specdec translate --batch-size N` on the shipped
pair equals transformers' greedy translations (Tests/Fixtures/specdec-pair/reference.json)
line for line, whatever the batch size or token budget, plain or with SpecDec at beta = 1,
with a bad line failing alone;
`specdec generate --input` on a decoder fixture equals one `generate` per prompt."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERIFIER = REPO / "models" / "specdec-en-de-verifier"
LLAMA = REPO / "Tests" / "Fixtures" / "decoder" / "llama_f32"
CASES = json.loads((REPO / "Tests" / "Fixtures" / "specdec-pair" / "reference.json").read_text(encoding="utf-8"))["cases"]
SPECDEC = Path(os.environ.get("SPECDEC_CLI", REPO / "dist" / "bin" / "specdec"))
SOURCES = "".join(case["source"] + "\n" for case in CASES)


@pytest.fixture(autouse=True, scope="module")
def binary():
    required = os.environ.get("SPECDEC_CLI_REQUIRED") == "1"
    if not SPECDEC.is_file():
        (pytest.fail if required else pytest.skip)(f"{SPECDEC} is not built")


def run(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SPECDEC), *args], input=stdin, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("batch", [["--batch-size", "8"], ["--batch-size", "24"], ["--batch-size", "6", "--batch-tokens", "40"]])
def test_translate_batches_equal_transformers(batch) -> None:
    out = run("translate", "--model", str(VERIFIER), "--max-new-tokens", "200", "--json", *batch, stdin=SOURCES)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [row["tokens"] for row in rows] == [case["greedy_ids"] for case in CASES]
    assert f"translated {len(CASES)} sentences" in out.stderr


def test_translate_specdec_batches_equal_transformers_greedy() -> None:
    drafter = REPO / "models" / "specdec-en-de-drafter"
    # No --draft-len: it defaults to the k the Spec-Drafter was trained for.
    out = run("translate", "--model", str(VERIFIER), "--max-new-tokens", "200", "--json", "--batch-size", "8",
              "--drafter", "specdec", "--draft", str(drafter), "--accept", "topk", "--beta", "1",
              "--tau", "0", stdin=SOURCES)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [row["tokens"] for row in rows] == [case["greedy_ids"] for case in CASES]
    # The batch's passes serve every sentence: far fewer than the sentences' tokens.
    summary = out.stderr.split("specdec drafter: ")[1]
    passes = int(summary.split(" target passes")[0])
    assert 0 < passes < sum(len(case["greedy_ids"]) for case in CASES) // 4, out.stderr


def test_translate_batch_bad_line_fails_alone() -> None:
    too_long = " ".join(["word"] * 2000)  # far beyond the verifier's 256 source positions
    stdin = CASES[0]["source"] + "\n" + too_long + "\n" + CASES[1]["source"] + "\n"
    out = run("translate", "--model", str(VERIFIER), "--max-new-tokens", "200", "--json", "--batch-size", "4", stdin=stdin)
    assert out.returncode == 1
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["tokens"] == CASES[0]["greedy_ids"] and rows[2]["tokens"] == CASES[1]["greedy_ids"]
    assert "256" in rows[1]["error"] and "line 2:" in out.stderr


def test_generate_input_equals_one_prompt_at_a_time() -> None:
    prompts = ["1,5,9", "2", "3,4,5,6,7,8,9,10", "9,9"]
    out = run("generate", "--model", str(LLAMA), "--input", "-", "--input-ids", "--batch-size", "3",
              "--max-new-tokens", "10", "--ignore-eos", "--json", stdin="\n".join(prompts) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == len(prompts)
    for row, prompt in zip(rows, prompts):
        alone = run("generate", "--model", str(LLAMA), "--prompt-ids", prompt, "--max-new-tokens", "10", "--ignore-eos",
                    "--json", stdin="")
        assert row["tokens"] == json.loads(alone.stdout.splitlines()[-1])["tokens"], prompt
    assert "inputs/s" in out.stderr


def test_generate_input_sources_and_bad_line() -> None:
    stdin = "".join(",".join(map(str, case["source_ids"])) + "\n" for case in CASES[:3]) + "5,999999\n"
    out = run("generate", "--model", str(VERIFIER), "--input", "-", "--input-ids", "--batch-size", "4",
              "--max-new-tokens", "128", "--json", stdin=stdin)
    assert out.returncode == 1
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [row["tokens"] for row in rows[:3]] == [case["greedy_ids"] for case in CASES[:3]]
    assert "outside" in rows[3]["error"]


def test_generate_input_sources_with_specdec_batched() -> None:
    drafter = REPO / "models" / "specdec-en-de-drafter"
    k = json.loads((drafter / "config.json").read_text(encoding="utf-8"))["block_size"]
    stdin = "".join(",".join(map(str, case["source_ids"])) + "\n" for case in CASES[:6])
    out = run("generate", "--model", str(VERIFIER), "--input", "-", "--input-ids", "--batch-size", "4",
              "--max-new-tokens", "128", "--drafter", "specdec", "--draft", str(drafter), "--draft-len", str(k),
              "--accept", "topk", "--beta", "1", "--tau", "0", "--json", stdin=stdin)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [row["tokens"] for row in rows] == [case["greedy_ids"] for case in CASES[:6]]
