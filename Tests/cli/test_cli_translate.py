"""`specdec translate` on the shipped pair: line-by-line translation of stdin or a file,
greedy and beam-5 identical to transformers (Tests/Fixtures/specdec-pair/reference.json),
SpecDec with beta 1 identical to greedy, a summary on stderr, and a failing line that keeps
its place without stopping the others."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERIFIER = REPO / "models" / "specdec-en-de-verifier"
DRAFTER = REPO / "models" / "specdec-en-de-drafter"
REFERENCE = json.loads((REPO / "Tests" / "Fixtures" / "specdec-pair" / "reference.json").read_text(encoding="utf-8"))
SPECDEC = Path(os.environ.get("SPECDEC_CLI", REPO / "dist" / "bin" / "specdec"))
CASES = REFERENCE["cases"]
SOURCES = "".join(case["source"] + "\n" for case in CASES)


@pytest.fixture(autouse=True, scope="module")
def binary():
    required = os.environ.get("SPECDEC_CLI_REQUIRED") == "1"
    if not SPECDEC.is_file():
        (pytest.fail if required else pytest.skip)(f"{SPECDEC} is not built")


def translate(*args: str, stdin: str = SOURCES) -> subprocess.CompletedProcess:
    return subprocess.run([str(SPECDEC), "translate", "--model", str(VERIFIER), "--max-new-tokens", "200", *args],
                          input=stdin, capture_output=True, text=True, timeout=300)


def objects(out: subprocess.CompletedProcess) -> list:
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_greedy_lines_match_transformers() -> None:
    out = translate("--json")
    assert out.returncode == 0, out.stderr
    rows = objects(out)
    assert [row["line"] for row in rows] == list(range(1, len(CASES) + 1))
    for row, case in zip(rows, CASES):
        assert row["source"] == case["source"]
        assert row["tokens"] == case["greedy_ids"], case["source"]
        assert row["translation"]
    assert "sentences/s" in out.stderr and "tokens/s" in out.stderr
    assert f"translated {len(CASES)} sentences" in out.stderr


def test_beam5_matches_transformers() -> None:
    sources = "".join(case["source"] + "\n" for case in CASES[:8])
    rows = objects(translate("--beams", "5", "--json", stdin=sources))
    assert [row["tokens"] for row in rows] == [case["beam5_ids"] for case in CASES[:8]]


def test_file_input_and_output_equal_stdin(tmp_path: Path) -> None:
    source = tmp_path / "in.en"
    target = tmp_path / "out.de"
    source.write_text(SOURCES, encoding="utf-8")
    from_stdin = translate()
    from_file = translate("--input", str(source), "--output", str(target), stdin="")
    assert from_stdin.returncode == 0 and from_file.returncode == 0, from_file.stderr
    assert from_file.stdout == ""
    assert target.read_text(encoding="utf-8") == from_stdin.stdout
    assert len(from_stdin.stdout.splitlines()) == len(CASES)


def test_specdec_beta_one_is_greedy_with_statistics() -> None:
    out = translate("--drafter", "specdec", "--draft", str(DRAFTER), "--draft-len", str(REFERENCE["block_size"]),
                    "--accept", "topk", "--beta", "1", "--tau", "0", "--json")
    assert out.returncode == 0, out.stderr
    rows = objects(out)
    assert [row["tokens"] for row in rows] == [case["greedy_ids"] for case in CASES]
    assert sum(row["stats"]["drafted_tokens"] for row in rows) > 0
    assert "specdec drafter:" in out.stderr and "target passes" in out.stderr and "accepted" in out.stderr


def test_a_failing_line_keeps_its_place() -> None:
    too_long = " ".join(["word"] * 2000)  # far beyond the verifier's 256 source positions
    out = translate(stdin=CASES[0]["source"] + "\n" + too_long + "\n" + CASES[1]["source"] + "\n")
    assert out.returncode == 1
    lines = out.stdout.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[0] and lines[2], out.stdout
    assert "line 2:" in out.stderr and "1 failed" in out.stderr


def test_decoder_only_model_is_refused() -> None:
    out = subprocess.run([str(SPECDEC), "translate", "--model", str(REPO / "Tests" / "Fixtures" / "decoder" / "llama_f32")],
                         input="hello\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "not an encoder-decoder model" in out.stderr


def test_beams_and_drafter_exclude_each_other() -> None:
    out = translate("--beams", "2", "--drafter", "ngram")
    assert out.returncode != 0 and "exclude each other" in out.stderr
