#!/usr/bin/env python3
"""Export a trained Spec-Drafter to the engine's format, or write the engine's parity fixture.

    python training/export_drafter.py                      # models/specdec-en-de-drafter (fp16)
    python training/export_drafter.py --fixture            # Tests/Fixtures/specdec/ (tiny, fp32)

Directory layout: config.json (model_type "specdec_drafter"), model.safetensors, and the shared
tokenizer files (source.spm, target.spm, vocab.json, tokenizer_config.json) so the directory is
self-contained. Tensor names and semantics are documented in training/README.md ("Drafter format").
"""
import argparse
import json
import os
import shutil

import torch

import common
from models import SpecDrafter

FORMAT_VERSION = 1


def drafter_config(cfg, dtype_name):
    return {
        "model_type": "specdec_drafter",
        "architectures": ["SpecDecBlockNAT"],
        "format_version": FORMAT_VERSION,
        "vocab_size": cfg["vocab_size"],
        "d_model": cfg["d_model"],
        "encoder_layers": cfg["encoder_layers"],
        "decoder_layers": cfg["decoder_layers"],
        "encoder_attention_heads": cfg["encoder_attention_heads"],
        "decoder_attention_heads": cfg["decoder_attention_heads"],
        "encoder_ffn_dim": cfg["encoder_ffn_dim"],
        "decoder_ffn_dim": cfg["decoder_ffn_dim"],
        "activation_function": cfg["activation_function"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "position_offset": 2,
        "block_size": cfg["block_size"],
        "mask_token_id": cfg["mask_token_id"],
        "unk_token_id": cfg["unk_token_id"],
        "pad_token_id": cfg["pad_token_id"],
        "eos_token_id": cfg["eos_token_id"],
        "bos_token_id": cfg.get("bos_token_id"),
        "source_appends_eos": True,
        "decoder_input": "verified_prefix_then_mask_slots",
        "normalize_before": False,
        "scale_embedding": False,
        "learned_positions": True,
        "positions_added_before_every_decoder_layer": True,
        "src_embedding_copy": True,
        "decoder_self_attention": "bidirectional",
        "tie_word_embeddings": True,
        "layer_norm_eps": 1e-5,
        "torch_dtype": dtype_name,
    }


def write_drafter_dir(model, out_dir, dtype=torch.float16, tokenizer=True, extra=None):
    from safetensors.torch import save_file
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)
    conf = drafter_config(model.cfg, {torch.float16: "float16", torch.float32: "float32"}[dtype])
    if extra:
        conf.update(extra)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(conf, f, indent=1)
    if tokenizer:
        from export_marian import write_tokenizer
        write_tokenizer(out_dir)
    return tensors


def load_drafter_dir(path, dtype=torch.float32):
    from safetensors.torch import load_file
    with open(os.path.join(path, "config.json")) as f:
        conf = json.load(f)
    assert conf["model_type"] == "specdec_drafter"
    model = SpecDrafter(conf)
    sd = {k: v.to(dtype) for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
    model.load_state_dict(sd, strict=True)
    model.cfg = dict(conf)
    return model.eval(), conf


def randomize_for_fixture(model, position_std=1.0):
    """Random weights far from the training init, so that a fixture's logits are far from
    uniform (distinct argmax ids, clear top-1/top-2 margins); the pad embedding is zero."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.05 * torch.randn_like(p))
            elif name.endswith("bias"):
                p.normal_(0.0, 0.05)
            elif "embed_positions" in name:
                p.normal_(0.0, position_std)
            elif "embed" in name:
                p.normal_(0.0, 1.0)
            else:
                p.normal_(0.0, 0.12)
        model.embed_tokens.weight[model.cfg["pad_token_id"]].zero_()


def make_fixture(out_dir):
    """A tiny random drafter (fp32) + reference logits computed by the PyTorch model reloaded from
    the written files. Weights are drawn larger than the bert init so that the logits are far from
    uniform (distinct argmax ids, clear top-1/top-2 margins)."""
    torch.manual_seed(20230607)
    cfg = dict(model_type="specdec_drafter", vocab_size=64, d_model=32, encoder_layers=2, decoder_layers=2,
               encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=48, decoder_ffn_dim=48,
               activation_function="gelu", max_position_embeddings=40, block_size=5,
               mask_token_id=1, unk_token_id=1, pad_token_id=63, eos_token_id=0, bos_token_id=None,
               dropout=0.0)
    model = SpecDrafter(cfg)
    randomize_for_fixture(model, position_std=2.0)
    wdir = os.path.join(out_dir, "tiny-drafter")
    write_drafter_dir(model, wdir, dtype=torch.float32, tokenizer=False,
                      extra={"note": "random weights; parity fixture for the engine's Spec-Drafter"})
    ref_model, conf = load_drafter_dir(wdir)
    cases = [
        {"name": "empty_prefix", "source_ids": [5, 17, 33, 9, 41, 0], "prefix_ids": [], "k": 5},
        {"name": "short_prefix", "source_ids": [5, 17, 33, 9, 41, 0], "prefix_ids": [22, 7, 50], "k": 5},
        {"name": "long_source_k3", "source_ids": [12, 3, 3, 58, 60, 2, 44, 19, 27, 31, 8, 0],
         "prefix_ids": [4, 4, 13, 61, 36, 2, 9], "k": 3},
        {"name": "single_token_source_k8", "source_ids": [0], "prefix_ids": [30], "k": 8},
    ]
    out = {"description": "Spec-Drafter parity fixture: logits of the k mask slots for decoder input "
                          "prefix_ids + [mask_token_id] * k, source_ids already eos-terminated. "
                          "Computed by training/models.py SpecDrafter (fp32) reloaded from tiny-drafter/.",
           "model_dir": "tiny-drafter", "mask_token_id": conf["mask_token_id"], "cases": []}
    with torch.no_grad():
        for c in cases:
            src = torch.tensor([c["source_ids"]])
            enc = ref_model.encode(src)
            logits, ids = ref_model.draft(enc, c["prefix_ids"], c["k"])
            top2 = logits.topk(2, -1).values
            case = dict(c)
            case["logits"] = [[round(float(x), 6) for x in row] for row in logits]
            case["argmax_ids"] = ids
            case["min_top1_top2_margin"] = round(float((top2[:, 0] - top2[:, 1]).min()), 6)
            if c["name"] == "short_prefix":
                prev = torch.tensor([c["prefix_ids"] + [conf["mask_token_id"]] * c["k"]])
                case["encoder_output"] = [[round(float(x), 6) for x in row] for row in enc["out"][0]]
                case["decoder_features"] = [[round(float(x), 6) for x in row]
                                            for row in ref_model.decode_features(prev, enc)[0]]
            out["cases"].append(case)
            print(f"{c['name']}: argmax {ids}, distinct {len(set(ids))}, min margin {case['min_top1_top2_margin']:.3f}")
    with open(os.path.join(out_dir, "reference.json"), "w") as f:
        json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(common.WORK, "drafter", "best.pt"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--fixture", action="store_true")
    args = ap.parse_args()
    common.setup_threads()
    if args.fixture:
        make_fixture(args.out or os.path.join(common.REPO, "Tests", "Fixtures", "specdec"))
        return
    out = args.out or os.path.join(common.REPO, "models", "specdec-en-de-drafter")
    ck = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    model = SpecDrafter(ck["cfg"])
    model.load_state_dict(ck["model"])
    model.eval()
    write_drafter_dir(model, out)
    # check: the reloaded fp16 directory reproduces the fp16-rounded PyTorch model
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    re, conf = load_drafter_dir(out)
    sp = common.load_spm()
    eos = conf["eos_token_id"]
    worst = 0.0
    for s in common.read_lines(os.path.join(common.DATA, "test.en"))[:20]:
        src = torch.tensor([sp.encode(s) + [eos]])
        a, _ = model.draft(src, [5, 6], conf["block_size"])
        b, _ = re.draft(src, [5, 6], conf["block_size"])
        worst = max(worst, float((a - b).abs().max()))
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out} ({size / 1e6:.2f} MB); reload max |logit diff| {worst:.2e}")
    assert worst < 1e-4


if __name__ == "__main__":
    main()
