#!/usr/bin/env python3
"""Convert the SpecDec authors' released fairseq checkpoints to the engine's formats.

    python training/convert_specdec_fairseq.py verifier CKPT.pt OUT_DIR --dict dict.de.txt [--bpe bpe.32000]
    python training/convert_specdec_fairseq.py drafter  CKPT.pt OUT_DIR --dict dict.de.txt [--bpe bpe.32000]

verifier: ``ar-verifier-base`` (fairseq ``transformer``, --share-all-embeddings, post-norm,
    sinusoidal positions, scaled embeddings, relu) -> a Hugging Face MarianMTModel directory.
    fairseq's sinusoids are NOT Marian's (frequencies 10000^(-i/(d/2-1)) instead of
    10000^(-2i/d), and positions start at padding_idx + 1 = 2), so the exact table is stored in
    model.safetensors as model.{encoder,decoder}.embed_positions.weight (row i = fairseq position
    i + 2). transformers' MarianMTModel loads a stored table instead of computing its own; config.json
    says so with "position_embedding_type": "stored" (an engine must then read the table).
    fairseq starts decoding with </s>: decoder_start_token_id = eos = 2; pad = 1; unk = 3; bos = 0.
    final_logits_bias is zero (fairseq has none).
drafter: ``nar-drafter-base`` (BlockNAT, k = 25) -> the specdec_drafter directory described in
    training/README.md (mask slot = <unk> = 3, pad = 1, eos = 2, learned positions with row = i + 2).

The fairseq dictionary (dict.txt: "<token> <count>" per line) gives ids 4.. after the four specials
<s> <pad> </s> <unk>; rows beyond it (fairseq pads the vocabulary to a multiple of 8) are named
madeupwordNNNN, as fairseq does. The released models use subword-nmt BPE (joined with "@@ "), which
the engine's SentencePiece tokenizer cannot reproduce; --bpe copies the codes file next to the
weights for external tokenisation.
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

LAYER_PARTS_ENC = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj",
                   "self_attn_layer_norm", "fc1", "fc2", "final_layer_norm"]
LAYER_PARTS_DEC = LAYER_PARTS_ENC[:5] + ["encoder_attn.q_proj", "encoder_attn.k_proj", "encoder_attn.v_proj",
                                         "encoder_attn.out_proj", "encoder_attn_layer_norm", "fc1", "fc2",
                                         "final_layer_norm"]
FAIRSEQ_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
IGNORED_SUFFIXES = ("version", "_float_tensor", "embed_length.weight")


def load_checkpoint(path):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    sd = ck["model"]
    args = ck.get("args")
    if args is None and ck.get("cfg") is not None:
        cfg = ck["cfg"]
        args = cfg["model"] if isinstance(cfg, dict) else cfg.model
    if args is None:
        raise ValueError("checkpoint has neither 'args' nor 'cfg.model'")
    get = (lambda k, d=None: args.get(k, d)) if isinstance(args, dict) else (lambda k, d=None: getattr(args, k, d))
    return sd, get


def fairseq_sinusoids(num_embeddings, dim, padding_idx=1):
    """fairseq SinusoidalPositionalEmbedding.get_embedding."""
    half = dim // 2
    f = math.log(10000) / (half - 1)
    f = torch.exp(torch.arange(half, dtype=torch.float) * -f)
    e = torch.arange(num_embeddings, dtype=torch.float).unsqueeze(1) * f.unsqueeze(0)
    e = torch.cat([torch.sin(e), torch.cos(e)], dim=1).view(num_embeddings, -1)
    if dim % 2 == 1:
        e = torch.cat([e, torch.zeros(num_embeddings, 1)], dim=1)
    if padding_idx is not None:
        e[padding_idx, :] = 0
    return e


def read_dict(path, rows):
    vocab = {tok: i for i, tok in enumerate(FAIRSEQ_SPECIALS)}
    if path:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                tok = line.rsplit(" ", 1)[0] if " " in line else line
                if tok.endswith(" #fairseq:overwrite"):
                    tok = tok[: -len(" #fairseq:overwrite")]
                if tok not in vocab:
                    vocab[tok] = len(vocab)
    i = 0
    while len(vocab) < rows:
        vocab[f"madeupword{i:04d}"] = len(vocab)
        i += 1
    if len(vocab) != rows:
        raise ValueError(f"dictionary has {len(vocab)} entries but the embedding has {rows} rows")
    return vocab


def take(sd, key, used):
    if key not in sd:
        raise KeyError(f"missing tensor {key}")
    used.add(key)
    return sd[key].float()


def check_unused(sd, used):
    extra = [k for k in sd if k not in used and not k.endswith(IGNORED_SUFFIXES)]
    if extra:
        raise KeyError(f"unexpected tensors (unknown architecture variant?): {extra[:8]}")


def layer_tensors(sd, prefix, parts, used):
    out = {}
    for part in parts:
        for wb in ("weight", "bias"):
            out[f"{part}.{wb}"] = take(sd, f"{prefix}.{part}.{wb}", used)
    return out


def convert_verifier(ckpt, out_dir, dict_path=None, bpe=None, dtype=torch.float16):
    from export_marian import write_marian_dir
    sd, get = load_checkpoint(ckpt)
    if get("encoder_normalize_before", False) or get("decoder_normalize_before", False):
        raise ValueError("pre-norm fairseq models are not Marian-compatible")
    if get("encoder_learned_pos", False) or get("decoder_learned_pos", False):
        raise ValueError("learned positions: not the released ar-verifier architecture")
    if get("layernorm_embedding", False):
        raise ValueError("layernorm_embedding is BART, not Marian")
    used = set()
    emb = take(sd, "encoder.embed_tokens.weight", used)
    for k in ("decoder.embed_tokens.weight", "decoder.output_projection.weight"):
        if k in sd:
            if not torch.equal(sd[k].float(), emb):
                raise ValueError(f"{k} differs from encoder.embed_tokens.weight: not --share-all-embeddings")
            used.add(k)
    V, d = emb.shape
    n_enc, n_dec = int(get("encoder_layers")), int(get("decoder_layers"))
    max_pos = int(max(get("max_source_positions", 1024), get("max_target_positions", 1024)))
    out = {"model.shared.weight": emb, "final_logits_bias": torch.zeros(1, V)}
    for i in range(n_enc):
        for k, v in layer_tensors(sd, f"encoder.layers.{i}", LAYER_PARTS_ENC, used).items():
            out[f"model.encoder.layers.{i}.{k}"] = v
    for i in range(n_dec):
        for k, v in layer_tensors(sd, f"decoder.layers.{i}", LAYER_PARTS_DEC, used).items():
            out[f"model.decoder.layers.{i}.{k}"] = v
    check_unused(sd, used)
    table = fairseq_sinusoids(max_pos + 2, d, padding_idx=1)[2:]
    out["model.encoder.embed_positions.weight"] = table
    out["model.decoder.embed_positions.weight"] = table.clone()
    cfg = dict(vocab_size=V, d_model=d, encoder_layers=n_enc, decoder_layers=n_dec,
               encoder_attention_heads=int(get("encoder_attention_heads")),
               decoder_attention_heads=int(get("decoder_attention_heads")),
               encoder_ffn_dim=int(get("encoder_ffn_embed_dim")), decoder_ffn_dim=int(get("decoder_ffn_embed_dim")),
               activation_function=str(get("activation_fn", "relu") or "relu"),
               max_position_embeddings=max_pos, scale_embedding=not get("no_scale_embedding", False),
               pad_token_id=1, eos_token_id=2, decoder_start_token_id=2)
    if cfg["activation_function"] == "gelu_accurate":
        cfg["activation_function"] = "gelu_new"
    write_marian_dir(out, cfg, out_dir, dtype=dtype,
                     extra_config={"bos_token_id": 0, "unk_token_id": 3, "position_embedding_type": "stored",
                                   "position_embedding_note": "fairseq sinusoids: row i = fairseq position i+2; "
                                                              "use the stored table, do not compute Marian's",
                                   "converted_from": os.path.basename(ckpt)})
    vocab = read_dict(dict_path, V)
    _write_vocab(out_dir, vocab, bpe)
    return cfg


def _write_vocab(out_dir, vocab, bpe):
    with open(os.path.join(out_dir, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "fairseq-subword-nmt", "bpe_separator": "@@",
                   "unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>", "bos_token": "<s>",
                   "note": "no SentencePiece model: tokenize with subword-nmt using bpe.codes"}, f, indent=1)
    if bpe:
        shutil.copyfile(bpe, os.path.join(out_dir, "bpe.codes"))


def convert_drafter(ckpt, out_dir, dict_path=None, bpe=None, dtype=torch.float16, block_size=None):
    from export_drafter import drafter_config
    from safetensors.torch import save_file
    sd, get = load_checkpoint(ckpt)
    if not (get("encoder_learned_pos", False) and get("decoder_learned_pos", False)):
        raise ValueError("BlockNAT drafters use learned positions (--encoder-learned-pos --decoder-learned-pos)")
    if get("encoder_normalize_before", False) or get("decoder_normalize_before", False):
        raise ValueError("pre-norm drafter: not the released architecture")
    if not get("src_embedding_copy", False):
        raise ValueError("drafter trained without --src-embedding-copy")
    used = set()
    emb = take(sd, "encoder.embed_tokens.weight", used)
    for k in ("decoder.embed_tokens.weight", "decoder.output_projection.weight"):
        if k in sd:
            if not torch.equal(sd[k].float(), emb):
                raise ValueError(f"{k} differs from encoder.embed_tokens.weight: not --share-all-embeddings")
            used.add(k)
    V, d = emb.shape
    n_enc, n_dec = int(get("encoder_layers")), int(get("decoder_layers"))
    out = {"embed_tokens.weight": emb,
           "encoder.embed_positions.weight": take(sd, "encoder.embed_positions.weight", used),
           "decoder.embed_positions.weight": take(sd, "decoder.embed_positions.weight", used),
           "decoder.copy_attn.weight": take(sd, "decoder.copy_attn.weight", used)}
    if out["encoder.embed_positions.weight"].shape != out["decoder.embed_positions.weight"].shape:
        raise ValueError("encoder and decoder position tables differ in size")
    for i in range(n_enc):
        for k, v in layer_tensors(sd, f"encoder.layers.{i}", LAYER_PARTS_ENC, used).items():
            out[f"encoder.layers.{i}.{k}"] = v
    for i in range(n_dec):
        for k, v in layer_tensors(sd, f"decoder.layers.{i}", LAYER_PARTS_DEC, used).items():
            out[f"decoder.layers.{i}.{k}"] = v
    check_unused(sd, used)
    n_pos = out["encoder.embed_positions.weight"].shape[0] - 2
    act = str(get("activation_fn", "relu") or "relu")
    cfg = dict(vocab_size=V, d_model=d, encoder_layers=n_enc, decoder_layers=n_dec,
               encoder_attention_heads=int(get("encoder_attention_heads")),
               decoder_attention_heads=int(get("decoder_attention_heads")),
               encoder_ffn_dim=int(get("encoder_ffn_embed_dim")), decoder_ffn_dim=int(get("decoder_ffn_embed_dim")),
               activation_function=act, max_position_embeddings=n_pos,
               block_size=int(block_size or get("block_size", 25) or 25),
               mask_token_id=3, unk_token_id=3, pad_token_id=1, eos_token_id=2, bos_token_id=0)
    os.makedirs(out_dir, exist_ok=True)
    save_file({k: v.to(dtype).contiguous() for k, v in out.items()}, os.path.join(out_dir, "model.safetensors"),
              metadata={"format": "pt"})
    os.chmod(os.path.join(out_dir, "model.safetensors"), 0o644)
    conf = drafter_config(cfg, {torch.float16: "float16", torch.float32: "float32"}[dtype])
    conf["converted_from"] = os.path.basename(ckpt)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(conf, f, indent=1)
    _write_vocab(out_dir, read_dict(dict_path, V), bpe)
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["verifier", "drafter"])
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--dict", help="fairseq dict.<tgt>.txt (shared vocabulary)")
    ap.add_argument("--bpe", help="subword-nmt codes to copy along")
    ap.add_argument("--fp32", action="store_true", help="store fp32 instead of fp16")
    ap.add_argument("--block-size", type=int, help="drafter k if the checkpoint does not record it")
    args = ap.parse_args()
    dtype = torch.float32 if args.fp32 else torch.float16
    if args.kind == "verifier":
        cfg = convert_verifier(args.ckpt, args.out, args.dict, args.bpe, dtype)
    else:
        cfg = convert_drafter(args.ckpt, args.out, args.dict, args.bpe, dtype, args.block_size)
    print(json.dumps(cfg))


if __name__ == "__main__":
    main()
