#!/usr/bin/env python3
"""Convert the benchmark's Marian model to CTranslate2 (float32) and check the conversion.

    python bench/seq2seq/convert_ct2.py HF_DIR CT2_DIR [--force] [--sources 4] [--max-new-tokens 32]

Runs CTranslate2's own converter,

    ct2-transformers-converter --model HF_DIR --output_dir CT2_DIR --quantization float32 --force

then translates a few fixed pseudo-random sources greedily with CTranslate2 and with
transformers (the model reloaded from HF_DIR) and requires the token ids to be identical.
Exits non-zero when they differ. Skips the conversion (not the check) when CT2_DIR is newer
than HF_DIR/model.safetensors, unless --force.

Notes on the converter (ctranslate2 4.x): it loads the Marian tokenizer, so HF_DIR needs
source.spm, target.spm and vocab.json; it drops the last vocabulary entry ("<pad>") and its
rows, and starts the decoder from a zero embedding instead of <pad>'s (zero) row. Sources
are given to CTranslate2 as token strings of the same ids, EOS included (CTranslate2 adds
no EOS to Marian sources).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys

EOS_ID = 0


def log(msg: str) -> None:
    print(f"[convert_ct2] {msg}", file=sys.stderr, flush=True)


def make_sources(n: int, length: int, vocab: int, seed: int = 11) -> list[list[int]]:
    """Fixed pseudo-random sources: ids in [2, vocab - 1) (no EOS/<unk>/<pad>) then EOS."""
    rng = random.Random(seed)
    return [[rng.randrange(2, vocab - 1) for _ in range(length)] + [EOS_ID] for _ in range(n)]


def convert(hf_dir: str, ct2_dir: str, force: bool) -> None:
    weights = os.path.join(hf_dir, "model.safetensors")
    marker = os.path.join(ct2_dir, "model.bin")
    if not force and os.path.isfile(marker) and os.path.getmtime(marker) >= os.path.getmtime(weights):
        log(f"{ct2_dir} is up to date; not converting again (--force converts)")
        return
    exe = shutil.which("ct2-transformers-converter")
    cmd = ([exe] if exe else [sys.executable, "-m", "ctranslate2.converters.transformers"]) + [
        "--model", hf_dir, "--output_dir", ct2_dir, "--quantization", "float32", "--force"]
    log("running " + " ".join(cmd))
    subprocess.run(cmd, check=True)


def verify(hf_dir: str, ct2_dir: str, sources: int, max_new_tokens: int) -> bool:
    import ctranslate2
    import torch
    from transformers import MarianMTModel

    with open(os.path.join(hf_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    id_to_token = {i: t for t, i in vocab.items()}
    ct2_vocab_file = os.path.join(ct2_dir, "shared_vocabulary.json")
    if os.path.isfile(ct2_vocab_file):
        with open(ct2_vocab_file, encoding="utf-8") as f:
            n = len(json.load(f))
        log(f"CTranslate2 vocabulary: {n} tokens (transformers: {len(vocab)}; <pad> dropped)")

    model = MarianMTModel.from_pretrained(hf_dir, dtype=torch.float32).eval()
    translator = ctranslate2.Translator(ct2_dir, device="cpu", compute_type="float32",
                                        inter_threads=1, intra_threads=1)
    ok = True
    for k, src in enumerate(make_sources(sources, 24, len(vocab))):
        with torch.inference_mode():
            x = torch.tensor([src])
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                 max_new_tokens=max_new_tokens, forced_bos_token_id=None,
                                 forced_eos_token_id=None, no_repeat_ngram_size=0,
                                 repetition_penalty=1.0)
        hf = out[0, 1:].tolist()
        if hf and hf[-1] == EOS_ID:
            hf = hf[:-1]
        res = translator.translate_batch([[id_to_token[i] for i in src]], beam_size=1,
                                         max_decoding_length=max_new_tokens, return_scores=False)
        ct = [vocab[t] for t in res[0].hypotheses[0]]
        same = ct == hf
        ok &= same
        log(f"source {k}: transformers {len(hf)} tokens, CTranslate2 {len(ct)} tokens: "
            + ("identical" if same else f"DIFFER at {next((i for i, (a, b) in enumerate(zip(hf, ct)) if a != b), min(len(hf), len(ct)))}"))
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_dir")
    ap.add_argument("ct2_dir")
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--sources", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args(argv)
    hf_dir, ct2_dir = os.path.abspath(args.hf_dir), os.path.abspath(args.ct2_dir)
    convert(hf_dir, ct2_dir, args.force)
    if not verify(hf_dir, ct2_dir, args.sources, args.max_new_tokens):
        log("ERROR: CTranslate2 and transformers disagree on greedy outputs")
        return 1
    log("CTranslate2 conversion matches transformers' greedy outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
