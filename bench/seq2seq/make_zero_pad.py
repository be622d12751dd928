#!/usr/bin/env python3
"""Copies a Marian model directory with its <pad> embedding row set to zero.

    python bench/seq2seq/make_zero_pad.py SRC_DIR DST_DIR

transformers starts the decoder from <pad>'s embedding; CTranslate2's Marian converter
drops <pad> and starts from a zero vector. With the row zeroed both compute the same model
(a trained model's <pad> row is small but not zero). Every tensor of the vocabulary's
height (shared, encoder/decoder embed_tokens, lm_head when stored) gets the row zeroed.
"""
import json
import os
import shutil
import sys

from safetensors.numpy import load_file, save_file


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    pad, vocab = config["pad_token_id"], config["vocab_size"]
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name != "model.safetensors":
            shutil.copy2(os.path.join(src, name), os.path.join(dst, name))
    tensors = load_file(os.path.join(src, "model.safetensors"))
    for name, tensor in tensors.items():
        if tensor.ndim == 2 and tensor.shape[0] == vocab:
            tensor[pad] = 0
    save_file(tensors, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
    print(f"wrote {dst} (<pad> = {pad} zeroed)")


if __name__ == "__main__":
    main()
