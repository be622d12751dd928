#!/usr/bin/env python3
"""Train the joint English/German SentencePiece model and write the Marian-style vocabulary.

Special ids (the contract shared by the verifier, the drafter and the engine's MarianTokenizer):

    id 0            </s>   eos: appended to every source sentence; ends every target
    id 1            <unk>  unknown piece; never produced by this tokenizer (byte fallback), so the
                           Spec-Drafter uses it as its mask slot (the authors' BlockNAT convention)
    ids 2..257      <0x00>..<0xFF> byte-fallback pieces
    ids 258..V-2    ordinary pieces (SentencePiece ids, unchanged)
    id  V-1         <pad>  padding AND decoder_start_token_id of the verifier (Marian convention:
                           <pad> is the last vocabulary entry, which is also what CTranslate2 expects)

SentencePiece's own ids equal the vocab.json ids for every piece it knows (it has no <pad>, no
<s>); vocab.json adds <pad> = V-1, so the models' embedding matrices have V rows.

Usage: python training/tokenizer.py [--vocab 6000]
Writes training/work/spm/{spm.model, spm.vocab, vocab.json, special_ids.json}
"""
import argparse
import json
import os

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "work", "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "work", "spm"))
    ap.add_argument("--vocab", type=int, default=6000, help="total vocabulary incl. <pad>")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    prefix = os.path.join(args.out, "spm")
    spm.SentencePieceTrainer.train(
        input=[os.path.join(args.data, "train.en"), os.path.join(args.data, "train.de")],
        model_prefix=prefix,
        model_type="unigram",
        vocab_size=args.vocab - 1,
        character_coverage=0.9995,
        byte_fallback=True,
        normalization_rule_name="nmt_nfkc",
        eos_id=0, unk_id=1, bos_id=-1, pad_id=-1,
        eos_piece="</s>", unk_piece="<unk>",
        input_sentence_size=2_000_000, shuffle_input_sentence=True, seed_sentencepiece_size=200_000,
        num_threads=2, minloglevel=1,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    assert len(vocab) == sp.get_piece_size(), "duplicate pieces"
    pad_id = sp.get_piece_size()
    vocab["<pad>"] = pad_id
    with open(os.path.join(args.out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)
    special = {"eos_token_id": 0, "unk_token_id": 1, "pad_token_id": pad_id,
               "decoder_start_token_id": pad_id, "vocab_size": pad_id + 1, "mask_token_id": 1}
    assert sp.piece_to_id("</s>") == 0 and sp.piece_to_id("<unk>") == 1
    with open(os.path.join(args.out, "special_ids.json"), "w") as f:
        json.dump(special, f, indent=1)
    # length statistics on training data
    lens = []
    with open(os.path.join(args.data, "train.de"), encoding="utf-8") as f:
        for line in f:
            lens.append(len(sp.encode(line.rstrip("\n"))))
    lens.sort()
    print("special ids:", special)
    print("train.de pieces/sentence: mean %.1f median %d p95 %d max %d" % (
        sum(lens) / len(lens), lens[len(lens) // 2], lens[int(len(lens) * 0.95)], lens[-1]))


if __name__ == "__main__":
    main()
