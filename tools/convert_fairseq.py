#!/usr/bin/env python3
"""Convert a fairseq `transformer` checkpoint to the directory format libspecdec loads.

Input: a checkpoint file as fairseq's checkpoint_utils saves it (a dict with the `model` state
dict and `args` (argparse.Namespace) or `cfg` (with a `model` section)), plus the dictionaries
dict.<src>.txt and dict.<tgt>.txt next to it (or given with --src-dict/--tgt-dict). fairseq
need not be installed; torch is needed to read the checkpoint.

Output: a MarianMTModel-shaped Hugging Face directory:
  config.json        model_type "marian", plus two fields the engine reads because Marian's
                     config cannot express fairseq's positions:
                       "positional_embedding_style": "fairseq"
                       "position_offset": padding_idx + 1 (2)
                     fairseq's table uses frequencies 10000^(-j/(d/2-1)) (Marian: 10000^(-j/(d/2)))
                     and token i sits at row padding_idx + 1 + i (Marian: row i). Transformers would
                     load the directory but compute Marian's positions: it is for libspecdec.
  model.safetensors  model.shared.weight (share_all_embeddings) or model.encoder/decoder.embed_tokens,
                     model.{encoder,decoder}.layers.N.*, lm_head.weight when the output projection
                     is not the decoder embedding, final_logits_bias (zeros).
  vocab.json         source dictionary token -> id (fairseq order: <s> <pad> </s> <unk>, then the
                     file's lines); target_vocab.json too when the vocabularies are separate.

Supported: post-norm encoder and decoder (encoder_normalize_before / decoder_normalize_before
false, what the base models of SpecDec's authors use), sinusoidal positions, shared or separate
vocabularies, tied or untied output projection, embedding scaling or not, relu / gelu /
gelu_fast activations, optional layernorm_embedding, fp32/fp16/bf16 weights (kept as stored
unless --dtype), and the old combined in_proj_weight attention layout. Refused with a message:
pre-norm, learned positions, adaptive softmax, projections between embedding and model widths,
dictionaries that do not match the embedding tables.

Usage:
    python3 tools/convert_fairseq.py CHECKPOINT.pt OUT_DIR [--src-dict F] [--tgt-dict F] [--dtype float32|float16|bfloat16]
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from argparse import Namespace
from pathlib import Path


SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
BOS, PAD, EOS, UNK = 0, 1, 2, 3

ACTIVATIONS = {"relu": "relu", "gelu": "gelu", "gelu_fast": "gelu_new", "gelu_accurate": "gelu_new", "swish": "swish", "silu": "swish"}


class ConversionError(Exception):
    """The checkpoint cannot be converted; the message says why."""


# --- checkpoint and arguments ---------------------------------------------------------------

def load_checkpoint(path: Path) -> dict:
    import torch
    try:
        # fairseq checkpoints hold an argparse.Namespace (or omegaconf objects): they cannot be
        # read with weights_only=True. Only convert checkpoints you trust.
        ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such checkpoint file")
    except Exception as error:  # noqa: BLE001 - report any unpickling failure as a conversion error
        raise ConversionError(f"{path}: cannot read the checkpoint ({type(error).__name__}: {error})")
    if not isinstance(ckpt, dict) or "model" not in ckpt:
        raise ConversionError(f"{path}: not a fairseq checkpoint (expected a dict with a 'model' state dict)")
    return ckpt


def _as_dict(obj) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, Namespace):
        return dict(vars(obj))
    if isinstance(obj, dict):
        return dict(obj)
    try:  # omegaconf DictConfig and similar mappings
        return {k: obj[k] for k in obj.keys()}
    except Exception:  # noqa: BLE001
        return dict(vars(obj))


def model_arguments(ckpt: dict) -> dict:
    """The model hyper-parameters, from `args` (fairseq < 0.10) or `cfg.model` (>= 0.10)."""
    args = _as_dict(ckpt.get("args"))
    if not args and ckpt.get("cfg") is not None:
        cfg = _as_dict(ckpt["cfg"])
        args = _as_dict(cfg.get("model"))
        task = _as_dict(cfg.get("task"))
        for key in ("source_lang", "target_lang"):
            if args.get(key) is None and task.get(key) is not None:
                args[key] = task[key]
    if not args:
        raise ConversionError("the checkpoint has neither 'args' nor 'cfg.model': cannot read the architecture")
    return args


# --- dictionaries ---------------------------------------------------------------------------

def read_dictionary(path: Path) -> list[str]:
    """fairseq Dictionary order: the four specials, then one symbol per line ("token count")."""
    symbols = list(SPECIALS)
    index = {s: i for i, s in enumerate(symbols)}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConversionError(f"{path}: dictionary not found")
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        overwrite = False
        parts = line.rsplit(" ", 1)
        if len(parts) == 2 and parts[1] == "#fairseq:overwrite":
            overwrite = True
            parts = parts[0].rsplit(" ", 1)
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise ConversionError(f"{path}:{number}: expected '<token> <count>', got {line!r}")
        word = parts[0]
        if word in index and not overwrite:
            raise ConversionError(f"{path}:{number}: duplicate token {word!r} (fairseq refuses it too)")
        index[word] = len(symbols)
        symbols.append(word)
    return symbols


def vocabulary_json(symbols: list[str], rows: int, path_for_errors: str) -> dict:
    """token -> id for `rows` embedding rows; rows past the dictionary get fairseq's padding names."""
    if len(symbols) > rows:
        raise ConversionError(
            f"{path_for_errors} has {len(symbols)} symbols (4 specials + {len(symbols) - 4} lines) but the embedding "
            f"table has {rows} rows: the dictionary does not belong to this checkpoint")
    names = list(symbols) + [f"madeupword{i:04d}" for i in range(rows - len(symbols))]
    vocab: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in vocab:  # an overwritten symbol: the later id wins, the earlier row keeps a unique name
            vocab[f"<fairseq_duplicate_{vocab[name]}>"] = vocab[name]
        vocab[name] = i
    return vocab


def find_dictionaries(checkpoint: Path, args: dict, src: Path | None, tgt: Path | None) -> tuple[Path, Path]:
    directory = checkpoint.parent
    if src is None:
        lang = args.get("source_lang")
        candidates = [directory / f"dict.{lang}.txt"] if lang else []
        candidates.append(directory / "dict.src.txt")
        src = next((c for c in candidates if c.exists()), None)
    if tgt is None:
        lang = args.get("target_lang")
        candidates = [directory / f"dict.{lang}.txt"] if lang else []
        candidates.append(directory / "dict.tgt.txt")
        tgt = next((c for c in candidates if c.exists()), None)
    if src is None or tgt is None:
        found = sorted(p.name for p in directory.glob("dict.*.txt"))
        if len(found) == 1 and args.get("share_all_embeddings"):
            src = tgt = directory / found[0]
        else:
            raise ConversionError(
                f"cannot find the dictionaries next to {checkpoint} (looked for dict.<lang>.txt with the checkpoint's "
                f"source_lang/target_lang, and dict.src.txt/dict.tgt.txt; found {found}); pass --src-dict and --tgt-dict")
    return src, tgt


# --- tensors --------------------------------------------------------------------------------

def as_stored(tensor, dtype: str | None):
    import torch
    t = tensor.detach().cpu()
    if dtype is not None:
        t = t.to({"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[dtype])
    elif t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
        t = t.to(torch.float32)
    return t.contiguous()


def write_safetensors(path: Path, tensors: dict) -> None:
    """The safetensors format: 8-byte header length, JSON header, then the raw bytes."""
    import torch
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for raw in blobs:
            f.write(raw)


# --- conversion -----------------------------------------------------------------------------

def convert(checkpoint: Path, out_dir: Path, src_dict: Path | None = None, tgt_dict: Path | None = None,
            dtype: str | None = None, dict_dir: Path | None = None) -> dict:
    """Converts and returns the written config. Raises ConversionError with a reason."""
    checkpoint = Path(checkpoint)
    ckpt = load_checkpoint(checkpoint)
    args = model_arguments(ckpt)
    sd = ckpt["model"]
    if dict_dir is not None:
        src_dict = src_dict or (Path(dict_dir) / "dict.src.txt")
        tgt_dict = tgt_dict or (Path(dict_dir) / "dict.tgt.txt")
    src_path, tgt_path = find_dictionaries(checkpoint, args, src_dict, tgt_dict)

    arch = str(args.get("arch", args.get("_name", "transformer")))
    if args.get("encoder_normalize_before") or args.get("decoder_normalize_before") or "encoder.layer_norm.weight" in sd:
        raise ConversionError(
            f"{checkpoint}: pre-norm transformer (encoder_normalize_before/decoder_normalize_before) is not supported; "
            "the engine runs post-norm Marian/fairseq layers")
    if args.get("encoder_learned_pos") or args.get("decoder_learned_pos") or "encoder.embed_positions.weight" in sd:
        raise ConversionError(f"{checkpoint}: learned positional embeddings are not supported for fairseq transformer checkpoints")
    if args.get("no_token_positional_embeddings"):
        raise ConversionError(f"{checkpoint}: models without positional embeddings are not supported")
    if args.get("adaptive_softmax_cutoff"):
        raise ConversionError(f"{checkpoint}: adaptive softmax output layers are not supported")
    if any(k.startswith(("decoder.project_in_dim", "decoder.project_out_dim")) for k in sd):
        raise ConversionError(f"{checkpoint}: decoder input/output projections (embedding width != model width) are not supported")
    if "encoder.embed_tokens.weight" not in sd or "decoder.embed_tokens.weight" not in sd:
        raise ConversionError(f"{checkpoint}: no encoder.embed_tokens.weight / decoder.embed_tokens.weight: not a transformer checkpoint")
    activation = str(args.get("activation_fn", "relu"))
    if activation not in ACTIVATIONS:
        raise ConversionError(f"{checkpoint}: activation_fn {activation!r} is not supported ({sorted(ACTIVATIONS)})")

    enc_emb = sd["encoder.embed_tokens.weight"]
    dec_emb = sd["decoder.embed_tokens.weight"]
    d = int(enc_emb.shape[1])
    if int(dec_emb.shape[1]) != d:
        raise ConversionError(f"{checkpoint}: encoder and decoder embedding widths differ ({d} vs {int(dec_emb.shape[1])})")
    src_rows, tgt_rows = int(enc_emb.shape[0]), int(dec_emb.shape[0])
    share_all = bool(args.get("share_all_embeddings", False))
    if share_all and (src_rows != tgt_rows or not bool((enc_emb == dec_emb).all())):
        raise ConversionError(f"{checkpoint}: share_all_embeddings is set but the encoder and decoder embeddings differ")

    def count_layers(prefix):
        n = 0
        while any(k.startswith(f"{prefix}.layers.{n}.") for k in sd):
            n += 1
        return n

    enc_layers, dec_layers = count_layers("encoder"), count_layers("decoder")
    for key, found in (("encoder_layers", enc_layers), ("decoder_layers", dec_layers)):
        if args.get(key) is not None and int(args[key]) != found:
            raise ConversionError(f"{checkpoint}: args say {key}={args[key]} but the state dict has {found} layers")
    enc_heads = args.get("encoder_attention_heads")
    dec_heads = args.get("decoder_attention_heads")
    if enc_heads is None or dec_heads is None:
        raise ConversionError(f"{checkpoint}: encoder_attention_heads / decoder_attention_heads missing from the arguments")
    for heads in (int(enc_heads), int(dec_heads)):
        if heads <= 0 or d % heads:
            raise ConversionError(f"{checkpoint}: model width {d} is not divisible by {heads} attention heads")
    enc_ffn = int(sd["encoder.layers.0.fc1.weight"].shape[0]) if enc_layers else int(args.get("encoder_ffn_embed_dim", 4 * d))
    dec_ffn = int(sd["decoder.layers.0.fc1.weight"].shape[0]) if dec_layers else int(args.get("decoder_ffn_embed_dim", 4 * d))

    # Output projection: fairseq >= 0.10 stores decoder.output_projection.weight (the decoder
    # embedding itself when share_decoder_input_output_embed); older versions embed_out.
    out_proj = sd.get("decoder.output_projection.weight", sd.get("decoder.embed_out"))
    share_io = bool(args.get("share_decoder_input_output_embed", False)) or share_all
    if out_proj is None:
        if not share_io:
            raise ConversionError(f"{checkpoint}: no decoder.output_projection.weight and share_decoder_input_output_embed is false")
        out_proj = dec_emb
    if tuple(out_proj.shape) != (tgt_rows, d):
        raise ConversionError(f"{checkpoint}: output projection has shape {tuple(out_proj.shape)}, expected ({tgt_rows}, {d}): "
                              "inconsistent vocabulary sizes")
    tied = share_io or (out_proj.data_ptr() == dec_emb.data_ptr()) or bool(out_proj.shape == dec_emb.shape and (out_proj == dec_emb).all())

    src_symbols = read_dictionary(src_path)
    tgt_symbols = read_dictionary(tgt_path)
    src_vocab = vocabulary_json(src_symbols, src_rows, str(src_path))
    tgt_vocab = vocabulary_json(tgt_symbols, tgt_rows, str(tgt_path))
    if share_all and src_symbols != tgt_symbols:
        raise ConversionError(f"{checkpoint}: share_all_embeddings is set but {src_path.name} and {tgt_path.name} differ")

    tensors: dict = {}

    def put(name, tensor):
        tensors[name] = as_stored(tensor, dtype)

    if share_all:
        put("model.shared.weight", enc_emb)
    else:
        put("model.encoder.embed_tokens.weight", enc_emb)
        put("model.decoder.embed_tokens.weight", dec_emb)
    if not tied:
        put("lm_head.weight", out_proj)
    layernorm_embedding = bool(args.get("layernorm_embedding", False)) or "encoder.layernorm_embedding.weight" in sd
    for side in ("encoder", "decoder"):
        if layernorm_embedding:
            for p in ("weight", "bias"):
                key = f"{side}.layernorm_embedding.{p}"
                if key not in sd:
                    raise ConversionError(f"{checkpoint}: layernorm_embedding is set but {key} is missing")
                put(f"model.{key}", sd[key])

    def attention(src_prefix, dst_prefix):
        if f"{src_prefix}.in_proj_weight" in sd:  # fairseq < 0.9: q, k, v stacked
            w, b = sd[f"{src_prefix}.in_proj_weight"], sd[f"{src_prefix}.in_proj_bias"]
            for i, name in enumerate(("q_proj", "k_proj", "v_proj")):
                put(f"{dst_prefix}.{name}.weight", w[i * d:(i + 1) * d])
                put(f"{dst_prefix}.{name}.bias", b[i * d:(i + 1) * d])
            names = ("out_proj",)
        else:
            names = ("q_proj", "k_proj", "v_proj", "out_proj")
        for name in names:
            for p in ("weight", "bias"):
                key = f"{src_prefix}.{name}.{p}"
                if key not in sd:
                    raise ConversionError(f"{checkpoint}: missing tensor {key}")
                put(f"{dst_prefix}.{name}.{p}", sd[key])

    def copy(src_key, dst_key):
        if src_key not in sd:
            raise ConversionError(f"{checkpoint}: missing tensor {src_key}")
        put(dst_key, sd[src_key])

    for side, count in (("encoder", enc_layers), ("decoder", dec_layers)):
        for i in range(count):
            s, t = f"{side}.layers.{i}", f"model.{side}.layers.{i}"
            attention(f"{s}.self_attn", f"{t}.self_attn")
            parts = ["self_attn_layer_norm", "fc1", "fc2", "final_layer_norm"]
            if side == "decoder":
                attention(f"{s}.encoder_attn", f"{t}.encoder_attn")
                parts.append("encoder_attn_layer_norm")
            for part in parts:
                for p in ("weight", "bias"):
                    copy(f"{s}.{part}.{p}", f"{t}.{part}.{p}")
    import torch
    tensors["final_logits_bias"] = torch.zeros(1, tgt_rows, dtype=next(iter(tensors.values())).dtype)

    stored = {str(t.dtype).replace("torch.", "") for t in tensors.values()}
    max_src = int(args.get("max_source_positions", 1024))
    max_tgt = int(args.get("max_target_positions", 1024))
    config = {
        "architectures": ["MarianMTModel"],
        "model_type": "marian",
        "is_encoder_decoder": True,
        "vocab_size": src_rows,
        "decoder_vocab_size": tgt_rows,
        "share_encoder_decoder_embeddings": share_all,
        "tie_word_embeddings": tied,
        "d_model": d,
        "encoder_layers": enc_layers,
        "decoder_layers": dec_layers,
        "encoder_attention_heads": int(enc_heads),
        "decoder_attention_heads": int(dec_heads),
        "encoder_ffn_dim": enc_ffn,
        "decoder_ffn_dim": dec_ffn,
        "activation_function": ACTIVATIONS[activation],
        "scale_embedding": not bool(args.get("no_scale_embedding", False)),
        "max_position_embeddings": max(max_src, max_tgt),
        "max_source_positions": max_src,
        "max_target_positions": max_tgt,
        "positional_embedding_style": "fairseq",
        "position_offset": PAD + 1,
        "layernorm_embedding": layernorm_embedding,
        "normalize_before": False,
        "bos_token_id": BOS,
        "pad_token_id": PAD,
        "eos_token_id": EOS,
        "unk_token_id": UNK,
        "decoder_start_token_id": EOS,
        "forced_eos_token_id": None,
        "dtype": stored.pop() if len(stored) == 1 else "float32",
        "fairseq": {"arch": arch, "source_lang": args.get("source_lang"), "target_lang": args.get("target_lang"),
                    "source_dictionary": src_path.name, "target_dictionary": tgt_path.name},
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_safetensors(out_dir / "model.safetensors", tensors)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out_dir / "vocab.json").write_text(json.dumps(src_vocab, ensure_ascii=False, indent=0) + "\n")
    if not share_all:
        (out_dir / "target_vocab.json").write_text(json.dumps(tgt_vocab, ensure_ascii=False, indent=0) + "\n")
    elif (out_dir / "target_vocab.json").exists():
        (out_dir / "target_vocab.json").unlink()
    return config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--src-dict", type=Path)
    ap.add_argument("--tgt-dict", type=Path)
    ap.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], help="convert weights (default: as stored)")
    args = ap.parse_args(argv)
    try:
        config = convert(args.checkpoint, args.out_dir, args.src_dict, args.tgt_dict, args.dtype)
    except ConversionError as error:
        print(f"convert_fairseq: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out_dir}: {config['encoder_layers']}+{config['decoder_layers']} layers, d_model {config['d_model']}, "
          f"vocab {config['vocab_size']}/{config['decoder_vocab_size']}, shared={config['share_encoder_decoder_embeddings']}, "
          f"tied={config['tie_word_embeddings']}, {config['dtype']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
