#!/usr/bin/env python3
"""Export the trained verifier to a Hugging Face MarianMTModel directory and check it.

    python training/export_marian.py [--ckpt training/work/verifier/best.pt]
                                     [--out models/specdec-en-de-verifier] [--check 200]

Writes config.json, generation_config.json, model.safetensors (fp16), source.spm, target.spm
(the same joint SentencePiece model), vocab.json, tokenizer_config.json, special_tokens_map.json.

Check (fails loudly): transformers' MarianTokenizer + MarianMTModel loaded from the directory
(fp32) must (1) tokenize the test sources exactly as training did, (2) give the same teacher-forced
logits as the PyTorch model with the same fp16-rounded weights (max |diff| < 2e-3), and (3) produce
the same greedy translations token for token.
"""
import argparse
import json
import os
import shutil
import sys

import torch

import common
from models import MarianTransformer

HF_SKIP = {"model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"}


def marian_config(cfg):
    return {
        "architectures": ["MarianMTModel"],
        "model_type": "marian",
        "vocab_size": cfg["vocab_size"],
        "decoder_vocab_size": cfg["vocab_size"],
        "d_model": cfg["d_model"],
        "encoder_layers": cfg["encoder_layers"],
        "decoder_layers": cfg["decoder_layers"],
        "encoder_attention_heads": cfg["encoder_attention_heads"],
        "decoder_attention_heads": cfg["decoder_attention_heads"],
        "encoder_ffn_dim": cfg["encoder_ffn_dim"],
        "decoder_ffn_dim": cfg["decoder_ffn_dim"],
        "activation_function": cfg["activation_function"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "scale_embedding": bool(cfg.get("scale_embedding", True)),
        "share_encoder_decoder_embeddings": True,
        "tie_word_embeddings": True,
        "static_position_embeddings": True,
        "normalize_embedding": False,
        "normalize_before": False,
        "add_final_layer_norm": False,
        "dropout": 0.1, "attention_dropout": 0.0, "activation_dropout": 0.0,
        "init_std": 0.02, "encoder_layerdrop": 0.0, "decoder_layerdrop": 0.0,
        "pad_token_id": cfg["pad_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "decoder_start_token_id": cfg["decoder_start_token_id"],
        "forced_eos_token_id": cfg["eos_token_id"],
        "bos_token_id": None,
        "is_encoder_decoder": True,
        "use_cache": True,
        "torch_dtype": "float16",
        "num_beams": 1,
        "max_length": cfg["max_position_embeddings"],
    }


def write_tokenizer(out_dir, spm_dir=common.SPM_DIR):
    shutil.copyfile(os.path.join(spm_dir, "spm.model"), os.path.join(out_dir, "source.spm"))
    shutil.copyfile(os.path.join(spm_dir, "spm.model"), os.path.join(out_dir, "target.spm"))
    shutil.copyfile(os.path.join(spm_dir, "vocab.json"), os.path.join(out_dir, "vocab.json"))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "MarianTokenizer", "source_lang": "en", "target_lang": "de",
                   "separate_vocabs": False, "model_max_length": 512,
                   "unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>"}, f, indent=1)
    with open(os.path.join(out_dir, "special_tokens_map.json"), "w") as f:
        json.dump({"unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>"}, f, indent=1)


def write_marian_dir(state_dict, cfg, out_dir, dtype=torch.float16, extra_config=None):
    """state_dict uses HF Marian names (as models.MarianTransformer does)."""
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    tensors = {}
    for k, v in state_dict.items():
        if k in HF_SKIP or k == "pos_table":
            continue
        tensors[k] = v.detach().to(dtype).contiguous()
    tensors["final_logits_bias"] = state_dict["final_logits_bias"].detach().to(dtype).reshape(1, -1).contiguous()
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)
    conf = marian_config(cfg)
    conf["torch_dtype"] = {torch.float16: "float16", torch.float32: "float32", torch.bfloat16: "bfloat16"}[dtype]
    if extra_config:
        conf.update(extra_config)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(conf, f, indent=1)
    with open(os.path.join(out_dir, "generation_config.json"), "w") as f:
        json.dump({"decoder_start_token_id": cfg["decoder_start_token_id"], "eos_token_id": cfg["eos_token_id"],
                   "forced_eos_token_id": cfg["eos_token_id"], "pad_token_id": cfg["pad_token_id"],
                   "num_beams": 1,
                   "max_length": cfg["max_position_embeddings"]}, f, indent=1)
    return tensors


def check(out_dir, model, cfg, n):
    """Compare the exported directory, loaded by transformers, with the PyTorch model."""
    import warnings
    warnings.filterwarnings("ignore")
    from transformers import MarianMTModel, MarianTokenizer
    tok = MarianTokenizer.from_pretrained(out_dir)
    hf = MarianMTModel.from_pretrained(out_dir, dtype=torch.float32).eval()
    sp = common.load_spm()
    lines = common.read_lines(os.path.join(common.DATA, "test.en"))[:n]
    eos, pad = cfg["eos_token_id"], cfg["pad_token_id"]
    tok_ok = 0
    for s in lines:
        ref = sp.encode(s) + [eos]
        tok_ok += tok(s)["input_ids"] == ref
    print(f"tokenizer: {tok_ok}/{len(lines)} sources identical to training ids")
    assert tok_ok == len(lines), "MarianTokenizer disagrees with the training tokenization"
    model.eval()
    max_diff, same = 0.0, 0
    for i, s in enumerate(lines):
        src = torch.tensor([sp.encode(s) + [eos]])
        cap = min(cfg["max_position_embeddings"] - 1, src.size(1) * 2 + 10)     # models.greedy's limit
        mine = model.greedy(src, max_len=cap)[0]
        with torch.no_grad():
            gen = hf.generate(input_ids=src, attention_mask=torch.ones_like(src), num_beams=1, do_sample=False,
                              max_new_tokens=cap, forced_bos_token_id=None,
                              forced_eos_token_id=None, no_repeat_ngram_size=0, repetition_penalty=1.0,
                              bad_words_ids=None, min_length=0, length_penalty=1.0)[0].tolist()
        gen = gen[1:]
        if gen and gen[-1] == eos:
            gen = gen[:-1]
        same += gen == mine
        dec_in = torch.tensor([[cfg["decoder_start_token_id"]] + mine])
        with torch.no_grad():
            a = model(src, dec_in)
            b = hf(input_ids=src, decoder_input_ids=dec_in).logits
        max_diff = max(max_diff, float((a - b).abs().max()))
    print(f"HF MarianMTModel vs PyTorch: greedy identical {same}/{len(lines)}, max |logit diff| {max_diff:.2e}")
    assert max_diff < 2e-3 and same == len(lines), "export check failed"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(common.WORK, "verifier", "best.pt"))
    ap.add_argument("--out", default=os.path.join(common.REPO, "models", "specdec-en-de-verifier"))
    ap.add_argument("--check", type=int, default=200, help="number of test sentences to check (0: skip)")
    args = ap.parse_args()
    common.setup_threads()
    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    cfg = ck["cfg"]
    model = MarianTransformer(cfg)
    model.load_state_dict(ck["model"])
    # round to fp16 exactly as stored, so the check compares like with like
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    write_marian_dir(model.state_dict(), cfg, args.out)
    write_tokenizer(args.out)
    size = sum(os.path.getsize(os.path.join(args.out, f)) for f in os.listdir(args.out))
    print(f"wrote {args.out} ({size / 1e6:.2f} MB)")
    if args.check:
        check(args.out, model, cfg, args.check)


if __name__ == "__main__":
    main()
