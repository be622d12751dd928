#!/usr/bin/env python3
"""Create the random-initialised Marian model of Transformer-base size used by the
encoder-decoder benchmark.

    python bench/seq2seq/make_marian_base.py OUTDIR [--force] [--seed N]

OUTDIR becomes a Hugging Face directory that transformers, libspecdec and CTranslate2's
`ct2-transformers-converter` all accept:

  config.json, generation_config.json, model.safetensors   MarianMTModel, float32
  source.spm, target.spm                                   a tiny SentencePiece model
  vocab.json, tokenizer_config.json, special_tokens_map.json

Model: 6 encoder + 6 decoder layers, d_model 512, 8 heads, FFN 2048 (swish, as Marian's
Transformer-base), post-norm, sinusoidal positions, scaled embeddings, one shared 32000-token
vocabulary for source and target, untied output projection. 76.9M parameters (the file
holds the shared embedding table three times, as transformers 5 saves an untied Marian).

Vocabulary: "</s>" = 0 (EOS), "<unk>" = 1, the SentencePiece pieces, filler pieces up to
31999 entries, and "<pad>" = 31999 last, as in the Opus-MT models: transformers starts the
decoder from <pad> (whose embedding row is zero), CTranslate2 drops that last row and starts
from a zero embedding instead, so both compute the same thing.

Random weights, fixed seed. Chosen so that greedy decoding is a usable speed workload:
  - the output projection is untied and wider (std --head-std) than the embeddings
    (std --embed-std), so outputs vary with the context instead of repeating one token
    and the top-1/top-2 logit margins are far above fp32 rounding differences;
  - final_logits_bias is --eos-bias (default -100) on EOS and on <pad>: no engine stops
    early or emits <pad>, so every engine generates exactly max-new-tokens tokens, greedy
    and beam search alike, without engine-specific "ignore EOS" options. The bias is part
    of the model (CTranslate2's converter copies it), not a decoding option.
The sinusoidal position table is never randomised (Marian recomputes it).

The script reloads the saved directory with transformers, checks the tokenizer files load,
and prints how many distinct tokens greedy decoding produces for a few sources.
If OUTDIR already holds this model (same configuration and seed), nothing is done.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile

SEED = 20240601
VOCAB_SIZE = 32000
EOS_ID, UNK_ID, PAD_ID = 0, 1, VOCAB_SIZE - 1
SPM_VOCAB = 1000

CONFIG = dict(
    vocab_size=VOCAB_SIZE,
    decoder_vocab_size=VOCAB_SIZE,
    d_model=512,
    encoder_layers=6,
    decoder_layers=6,
    encoder_attention_heads=8,
    decoder_attention_heads=8,
    encoder_ffn_dim=2048,
    decoder_ffn_dim=2048,
    activation_function="swish",
    max_position_embeddings=512,
    scale_embedding=True,
    share_encoder_decoder_embeddings=True,
    tie_word_embeddings=False,
    dropout=0.0,
    attention_dropout=0.0,
    activation_dropout=0.0,
    init_std=0.02,
    pad_token_id=PAD_ID,
    eos_token_id=EOS_ID,
    decoder_start_token_id=PAD_ID,
    forced_eos_token_id=EOS_ID,
    bos_token_id=None,
    num_beams=1,
    max_length=512,
)


def log(msg: str) -> None:
    print(f"[make_marian_base] {msg}", file=sys.stderr, flush=True)


def stamp(args) -> dict:
    return {"seed": args.seed, "embed_std": args.embed_std, "head_std": args.head_std,
            "eos_bias": args.eos_bias, "config": {k: CONFIG[k] for k in sorted(CONFIG) if CONFIG[k] is not None}}


STAMP_FILE = "bench_model.json"
REQUIRED = ("config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json",
            "tokenizer_config.json", STAMP_FILE)


def already_there(outdir: str, args) -> bool:
    if not all(os.path.isfile(os.path.join(outdir, f)) for f in REQUIRED):
        return False
    try:
        with open(os.path.join(outdir, STAMP_FILE)) as f:
            return json.load(f) == json.loads(json.dumps(stamp(args)))
    except (OSError, ValueError):
        return False


def synthetic_corpus(path: str, seed: int, lines: int = 4000) -> None:
    """Deterministic pseudo-text (no downloads): words drawn from a Zipf-like lexicon of
    made-up syllable words, enough for SentencePiece to learn a small vocabulary."""
    rng = random.Random(seed)
    onsets = ["", "b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t",
              "v", "w", "z", "br", "ch", "st", "tr", "sh", "pl"]
    vowels = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
    codas = ["", "", "n", "r", "s", "t", "l", "m", "nd", "st"]
    lexicon = set()
    while len(lexicon) < 3000:
        lexicon.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                            for _ in range(rng.randint(1, 3))))
    lexicon = sorted(lexicon)
    rng.shuffle(lexicon)
    weights = [1.0 / (r + 1) for r in range(len(lexicon))]
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(lines):
            words = rng.choices(lexicon, weights=weights, k=rng.randint(5, 20))
            words[0] = words[0].capitalize()
            f.write(" ".join(words) + rng.choice([".", ".", "?", "!"]) + "\n")


def train_spm(workdir: str, seed: int) -> str:
    import sentencepiece as spm

    corpus = os.path.join(workdir, "corpus.txt")
    synthetic_corpus(corpus, seed)
    prefix = os.path.join(workdir, "spm")
    # Marian's own layout: no BOS, </s> = 0, <unk> = 1 (the vocab.json decides the ids the
    # model sees; the .spm model only segments text).
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=prefix, vocab_size=SPM_VOCAB, model_type="unigram",
        character_coverage=1.0, bos_id=-1, eos_id=0, unk_id=1, pad_id=-1,
        num_threads=1, minloglevel=2, seed_sentencepiece_size=100000)
    return prefix + ".model"


def build_vocab(spm_path: str) -> dict[str, int]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    tokens = ["</s>", "<unk>"]
    seen = set(tokens)
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if piece not in seen:
            tokens.append(piece)
            seen.add(piece)
    i = 0
    while len(tokens) < VOCAB_SIZE - 1:
        filler = f"\u2581x{i}"
        i += 1
        if filler not in seen:
            tokens.append(filler)
            seen.add(filler)
    tokens.append("<pad>")
    assert len(tokens) == VOCAB_SIZE and tokens[EOS_ID] == "</s>" and tokens[UNK_ID] == "<unk>" and tokens[PAD_ID] == "<pad>"
    return {t: i for i, t in enumerate(tokens)}


def make_model(args):
    import torch
    from transformers import MarianConfig, MarianMTModel

    torch.manual_seed(args.seed)
    config = MarianConfig(**CONFIG)
    model = MarianMTModel(config).eval()
    # transformers 5 ties shared/encoder/decoder embeddings only when loading, so write the
    # same values into all three tables (save_pretrained stores one) and keep lm_head apart.
    with torch.no_grad():
        gen = torch.Generator().manual_seed(args.seed + 1)
        emb = torch.randn(VOCAB_SIZE, CONFIG["d_model"], generator=gen) * args.embed_std
        emb[PAD_ID] = 0.0            # the decoder start token: a zero embedding, as CTranslate2 assumes
        for table in (model.model.shared, model.model.encoder.embed_tokens, model.model.decoder.embed_tokens):
            table.weight.copy_(emb)
        head = torch.randn(VOCAB_SIZE, CONFIG["d_model"], generator=gen) * args.head_std
        head[PAD_ID] = 0.0
        model.lm_head.weight.copy_(head)
        model.final_logits_bias.zero_()
        model.final_logits_bias[0, EOS_ID] = args.eos_bias
        model.final_logits_bias[0, PAD_ID] = args.eos_bias
    return model


CONFIG_EOS_BIAS = [0.0]


def check(outdir: str, sources: int = 4, new_tokens: int = 64) -> None:
    import torch
    from transformers import AutoTokenizer, MarianMTModel

    model = MarianMTModel.from_pretrained(outdir, dtype=torch.float32).eval()
    m = model.model
    assert torch.equal(m.encoder.embed_tokens.weight, m.decoder.embed_tokens.weight), "embeddings not shared"
    assert not torch.equal(model.lm_head.weight, m.decoder.embed_tokens.weight), "output projection tied"
    assert float(m.decoder.embed_tokens.weight[PAD_ID].abs().max()) == 0.0, "<pad> embedding not zero"
    assert float(model.final_logits_bias[0, EOS_ID]) == CONFIG_EOS_BIAS[0]
    tok = AutoTokenizer.from_pretrained(outdir)
    vocab = tok.get_vocab()
    assert len(vocab) == VOCAB_SIZE and vocab["<pad>"] == PAD_ID and vocab["</s>"] == EOS_ID, "vocab.json mismatch"
    assert tok.pad_token_id == PAD_ID and tok.eos_token_id == EOS_ID
    enc = tok("Brai stou chen plam.")["input_ids"]
    assert enc[-1] == EOS_ID, enc
    # shared, encoder.embed_tokens and decoder.embed_tokens are three equal copies in
    # transformers 5 when tie_word_embeddings is false; count the table once.
    n_params = sum(p.numel() for n, p in model.named_parameters()
                   if "embed_tokens" not in n and "embed_positions" not in n)
    log(f"reloaded: {n_params / 1e6:.1f}M parameters; tokenizer ok ({enc})")
    rng = random.Random(7)
    with torch.inference_mode():
        for s in range(sources):
            ids = [rng.randrange(2, PAD_ID) for _ in range(24)] + [EOS_ID]
            x = torch.tensor([ids])
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False, num_beams=1,
                                 max_new_tokens=new_tokens, min_new_tokens=0,
                                 forced_bos_token_id=None, forced_eos_token_id=None,
                                 no_repeat_ngram_size=0, repetition_penalty=1.0, bad_words_ids=None,
                                 output_scores=True, return_dict_in_generate=True)
            gen = out.sequences[0, 1:].tolist()
            margins = []
            for sc in out.scores:
                top = torch.topk(sc[0], 2).values
                margins.append(float(top[0] - top[1]))
            log(f"source {s}: {len(gen)} tokens, {len(set(gen))} distinct, EOS {'yes' if EOS_ID in gen else 'no'}, "
                f"min top1-top2 logit margin {min(margins):.4f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--force", action="store_true", help="recreate even if OUTDIR holds the model")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--embed-std", type=float, default=0.05, help="std of the shared embeddings")
    ap.add_argument("--head-std", type=float, default=0.1, help="std of the (untied) output projection")
    ap.add_argument("--eos-bias", type=float, default=-100.0, help="final_logits_bias of EOS and <pad>")
    ap.add_argument("--no-check", action="store_true", help="skip the reload and greedy check")
    args = ap.parse_args(argv)

    outdir = os.path.abspath(args.outdir)
    if not args.force and already_there(outdir, args):
        log(f"{outdir} already holds the model; nothing to do (--force recreates it)")
        return 0

    from transformers import MarianTokenizer

    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spm_path = train_spm(tmp, args.seed)
        vocab = build_vocab(spm_path)
        vocab_path = os.path.join(tmp, "vocab.json")
        with open(vocab_path, "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False)
        tok = MarianTokenizer(source_spm=spm_path, target_spm=spm_path, vocab=vocab_path,
                              source_lang="src", target_lang="tgt", model_max_length=512)
        tok.save_pretrained(outdir)
    for f in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        if not os.path.isfile(os.path.join(outdir, f)):
            raise SystemExit(f"tokenizer save did not write {f}")

    model = make_model(args)
    model.save_pretrained(outdir, safe_serialization=True)
    with open(os.path.join(outdir, STAMP_FILE), "w") as f:
        json.dump(stamp(args), f, indent=1)
    log(f"wrote {outdir}")
    if not args.no_check:
        CONFIG_EOS_BIAS[0] = args.eos_bias
        check(outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
