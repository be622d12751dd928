#!/usr/bin/env python3
"""Builds the normalizer reference fixtures under Tests/Fixtures/tokenizers/ from the
reference `tokenizers` package (tested with tokenizers 0.23.3):

  normalizers.json   a corpus covering every script of the Unicode Character Database
                     (Scripts.txt), every character with a decomposition mapping, Hangul
                     syllables and conjoining jamo, combining-mark sequences in every
                     order, emoji sequences, controls and exotic whitespace, and a sample of
                     the tokenizer corpus; each normalizer's output on every line (null
                     where the line comes back unchanged); and, per normalization form, every
                     code point outside the Hangul syllables that a form changes on its own.
  bert-uncased-wordpiece, albert-unigram, nmt-nfkc-unigram
                     tokenizers trained on the tokenizer corpus with the normalizers of
                     bert-base-uncased (BertNormalizer with accent stripping), ALBERT
                     (NFKD, StripAccents, Lowercase) and XLNet-style NMT clean-up + NFKC,
                     with added tokens, and their reference ids (the layout of
                     make_tokenizer_fixtures.py).

Usage:
    apt-get install unicode-data        # Scripts.txt and UnicodeData.txt under /usr/share/unicode
    pip install tokenizers==0.23.3 sentencepiece protobuf transformers
    python3 tools/tokenizers/make_normalizer_fixtures.py [--only normalizers,albert-unigram,...]
"""

import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_fixtures as base  # noqa: E402

UCD = "/usr/share/unicode"
RNG = random.Random(20261203)


def surrogate(cp):
    return 0xD800 <= cp < 0xE000


def read_scripts():
    scripts = {}
    for first, last, fields in ucd_ranges("Scripts.txt"):
        scripts.setdefault(fields[0], []).extend(range(first, last + 1))
    return scripts


def ucd_ranges(name):
    with open(os.path.join(UCD, name), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                fields = [x.strip() for x in line.split(";")]
                first, _, last = fields[0].partition("..")
                yield int(first, 16), int(last or first, 16), fields[1:]


def read_unicode_data():
    """code point -> (general category, combining class, has a decomposition)."""
    data = {}
    with open(os.path.join(UCD, "UnicodeData.txt"), encoding="utf-8") as f:
        for line in f:
            fields = line.split(";")
            data[int(fields[0], 16)] = (fields[2], int(fields[3]), bool(fields[5]))
    return data


def unicode_lines():
    data = read_unicode_data()
    lines = []
    # Every script: assigned characters of the script, with spaces and marks between.
    marks = sorted(c for c, (gc, _, _) in data.items() if gc in ("Mn", "Mc", "Me"))
    for name, points in sorted(read_scripts().items()):
        for _ in range(3):
            parts = []
            for _ in range(RNG.randrange(8, 28)):
                parts.append(chr(RNG.choice(points)))
                if RNG.random() < 0.2:
                    parts.append(chr(RNG.choice(marks)))
                if RNG.random() < 0.15:
                    parts.append(" ")
            lines.append("".join(parts))
    # Every character with a decomposition mapping, forty to a line.
    decomposable = sorted(c for c, (_, _, d) in data.items() if d)
    for i in range(0, len(decomposable), 40):
        lines.append(" ".join(chr(c) for c in decomposable[i:i + 40]))
    # Hangul: syllables (LV and LVT), conjoining jamo in valid and broken orders.
    for _ in range(120):
        lines.append("".join(chr(RNG.randrange(0xAC00, 0xD7A4)) for _ in range(RNG.randrange(4, 24))))
    leading, vowels, trailing = range(0x1100, 0x1113), range(0x1161, 0x1176), range(0x11A8, 0x11C3)
    for _ in range(80):
        parts = []
        for _ in range(RNG.randrange(3, 12)):
            shape = RNG.choice(["LV", "LVT", "T", "VT", "LT", "LL", "SYL+T", "SYL+V"])
            if shape.startswith("SYL"):
                syllable = 0xAC00 + 28 * RNG.randrange(19 * 21)
                parts.append(chr(syllable) + chr(RNG.choice(trailing if shape.endswith("T") else vowels)))
            else:
                pick = {"L": leading, "V": vowels, "T": trailing}
                parts.append("".join(chr(RNG.choice(pick[k])) for k in shape))
        lines.append("".join(parts))
    # Combining marks after bases (and after nothing), in every class order.
    combining = sorted(c for c, (_, ccc, _) in data.items() if ccc)
    bases = "aeiouAEIOUnNcCsSzZyYgGkKwWαεηιουωΑΕΗΙΟΥΩаеиоуАЕИОУ" + "ǖǕṩẫỆởὧ" + "अकখਗ" + " 1"
    for _ in range(400):
        parts = []
        for _ in range(RNG.randrange(1, 6)):
            parts.append(RNG.choice(bases))
            for _ in range(RNG.randrange(0, 6)):
                parts.append(chr(RNG.choice(combining if RNG.random() < 0.8 else marks)))
        text = "".join(parts)
        lines.append(text if RNG.random() < 0.9 else chr(RNG.choice(combining)) + text)
    # Emoji: ZWJ sequences, skin tones, flags, keycaps, variation selectors.
    emoji_points = [c for c in range(0x1F300, 0x1FAFF) if c in data]
    for _ in range(60):
        parts = []
        for _ in range(RNG.randrange(2, 10)):
            kind = RNG.random()
            if kind < 0.3:
                parts.append(RNG.choice(base.EMOJI))
            elif kind < 0.5:
                parts.append(chr(RNG.choice(emoji_points)) + chr(RNG.randrange(0x1F3FB, 0x1F400)))
            elif kind < 0.6:
                parts.append(chr(RNG.randrange(0x1F1E6, 0x1F200)) + chr(RNG.randrange(0x1F1E6, 0x1F200)))
            elif kind < 0.7:
                parts.append(RNG.choice("0123456789#*") + "\ufe0f\u20e3")
            elif kind < 0.8:
                parts.append(chr(RNG.choice(emoji_points)) + "\u200d" + chr(RNG.choice(emoji_points)))
            else:
                parts.append(chr(RNG.choice(emoji_points)) + RNG.choice(["\ufe0e", "\ufe0f", ""]))
        lines.append("".join(parts))
    # Controls and whitespace-like characters (the Nmt and Bert clean-up sets).
    specials = [chr(c) for c in list(range(0x00, 0x21)) + list(range(0x7F, 0xA1))] + \
               ["\u1680", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u2581", "\ufeff",
                "\ufffd", "\u3000", "\u00ad", "\u2060", "\U000e0001", "\ue000"]
    for _ in range(40):
        lines.append("".join(RNG.choice(specials) + RNG.choice(["a", "b", "é", "ß", "", " "])
                             for _ in range(RNG.randrange(2, 20))))
    return lines


def holder_config(kind, value):
    holder = Tokenizer(models.WordLevel({"a": 0}, unk_token="a"))
    setattr(holder, kind, value)
    return json.loads(holder.to_str())[kind]


def precompiled_charsmap():
    data = json.load(open(os.path.join(base.OUT, "precompiled-unigram", "tokenizer.json"), encoding="utf-8"))
    normalizer = data["normalizer"]
    if normalizer["type"] == "Sequence":
        normalizer = next(n for n in normalizer["normalizers"] if n["type"] == "Precompiled")
    return normalizer["precompiled_charsmap"]


def record_normalizers(corpus):
    lines = unicode_lines() + corpus[::20]
    forms = {"NFC": normalizers.NFC(), "NFD": normalizers.NFD(), "NFKC": normalizers.NFKC(), "NFKD": normalizers.NFKD()}
    chosen = list(forms.values()) + [
        normalizers.Nmt(), normalizers.StripAccents(), normalizers.Lowercase(),
        normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents()]),
        normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase()]),
        normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC()]),
        normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]),
        normalizers.Sequence([normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD(),
                              normalizers.StripAccents(), normalizers.Lowercase()]),
        normalizers.BertNormalizer(),
        normalizers.BertNormalizer(strip_accents=True, lowercase=False),
        normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=True),
        normalizers.Sequence([normalizers.NFC(), normalizers.Strip(), normalizers.Prepend("▁"),
                              normalizers.Replace(" ", "▁")]),
    ]
    configs = [holder_config("normalizer", n) for n in chosen]
    configs.append({"type": "Precompiled", "precompiled_charsmap": precompiled_charsmap()})
    configs.append({"type": "Sequence", "normalizers": [{"type": "NFKD"}, configs[-1]]})
    records = []
    for config in configs:
        n = Tokenizer.from_str(json.dumps({"version": "1.0", "normalizer": config,
                                           "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}})).normalizer
        results = [n.normalize_str(t) for t in lines]
        records.append({"config": config, "results": [None if r == t else r for r, t in zip(results, lines)]})
    single = {}
    for name, n in forms.items():
        changed = {}
        for cp in range(0x110000):
            if surrogate(cp) or 0xAC00 <= cp <= 0xD7A3:
                continue
            out = n.normalize_str(chr(cp))
            if out != chr(cp):
                changed[f"{cp:X}"] = out
        single[name] = changed
    with open(os.path.join(base.OUT, "normalizers.json"), "w", encoding="utf-8") as f:
        json.dump({"lines": lines, "normalizers": records, "single_code_points": single}, f, ensure_ascii=False)
    print(f"normalizers: {len(records)} normalizers on {len(lines)} lines; "
          + ", ".join(f"{k} changes {len(v)} code points" for k, v in single.items()))


def with_added_tokens(tok):
    # One added token normalized like the text (so "café" in the text matches it after
    # accent stripping or compatibility folding) and one matched on the raw text.
    tok.add_tokens([AddedToken("Café", normalized=True), AddedToken("ﬁle", normalized=True),
                    AddedToken("<Ünnormalized>", normalized=False)])
    return tok


def bert_uncased_wordpiece(corpus):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=3000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return with_added_tokens(tok)


def unigram_with(corpus, normalizer):
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=3000, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B:1 </s>:1",
                                                      special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return with_added_tokens(tok)


def main():
    only = set(sys.argv[sys.argv.index("--only") + 1].split(",")) if "--only" in sys.argv else None
    wanted = lambda name: only is None or name in only
    corpus = base.build_corpus()
    if wanted("normalizers"):
        record_normalizers(corpus)
    if wanted("bert-uncased-wordpiece"):
        base.record_hf("bert-uncased-wordpiece", bert_uncased_wordpiece(corpus), corpus, line_stride=3)
    if wanted("albert-unigram"):
        albert = normalizers.Sequence([normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD(),
                                       normalizers.StripAccents(), normalizers.Lowercase(),
                                       normalizers.Replace(Regex(" {2,}"), " ")])
        base.record_hf("albert-unigram", unigram_with(corpus, albert), corpus, line_stride=3)
    if wanted("nmt-nfkc-unigram"):
        nmt = normalizers.Sequence([normalizers.Nmt(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
        base.record_hf("nmt-nfkc-unigram", unigram_with(corpus, nmt), corpus, line_stride=3)


if __name__ == "__main__":
    main()
