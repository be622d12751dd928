#!/usr/bin/env python3
"""Builds the tokenizer reference fixtures under Tests/Fixtures/tokenizers/.

Requires `pip install tokenizers sentencepiece` (tested with tokenizers 0.23.3 and
sentencepiece 0.2.3). Everything is trained from text available offline on a Debian
machine (gettext catalogs, the Python standard library) plus synthetic lines, so the
fixtures can be rebuilt anywhere without a model hub.

Layout (all text files are UTF-8):
  corpus.jsonl                 one JSON string per line: the texts to encode
  <name>/tokenizer.json|.model the tokenizer under test
  <name>/ids.txt               reference ids, one line of space-separated ids per corpus line
                               (HF: encode(text, add_special_tokens=True); SP: encode(text))
  <name>/decode.txt            "line<TAB>skip<TAB>json" for every line where the reference
                               decode of ids.txt differs from the corpus text
  <name>/random.jsonl          {"ids": [...], "text": decode(ids), "skip": decode(ids, skip)}
  <name>/meta.json             vocabulary size and a few properties
  unicode-classes.txt          the GPT-2 regex's view of every code point, run-length encoded
  stories260K.*                expectations for ../shared/models/stories260K when present
"""
import gettext
import glob
import json
import os
import random
import sys

from tokenizers import Tokenizer, Regex, AddedToken, models, trainers, pre_tokenizers, normalizers, decoders, processors
import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "tokenizers")
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "models", "stories260K")
RNG = random.Random(20240229)

LANGUAGES = ["de", "fr", "ru", "ja", "zh_CN", "ar", "el", "ko", "he", "hi", "th", "uk", "es", "vi", "tr", "pl"]
PER_LANGUAGE = 620
PYTHON_LINES = 1700
MULTILINE_CHUNKS = 450
MAX_LINE = 300

GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


# ---------------------------------------------------------------- corpus

def catalog_lines(language):
    lines = []
    for path in sorted(glob.glob(f"/usr/share/locale/{language}/LC_MESSAGES/*.mo")):
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog
        except Exception:
            continue
        for key, value in catalog.items():
            if not isinstance(value, str) or not value or key == "":
                continue
            for line in value.split("\n"):
                if line.strip() and len(line) <= MAX_LINE:
                    lines.append(line)
    lines = sorted(set(lines))
    RNG.shuffle(lines)
    return lines[:PER_LANGUAGE]


def python_lines():
    lines = []
    chunks = []
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            content = f.read().split("\n")
        for line in content:
            if line.strip() and len(line) <= MAX_LINE:
                lines.append(line)
        if len(content) > 10:
            for _ in range(3):
                start = RNG.randrange(0, len(content) - 6)
                chunk = content[start:start + RNG.randrange(2, 7)]
                separator = "\r\n" if RNG.random() < 0.15 else "\n"
                text = separator.join(chunk)
                if RNG.random() < 0.3:
                    text += "\n"
                if len(text) <= 600:
                    chunks.append(text)
    lines = sorted(set(lines))
    RNG.shuffle(lines)
    RNG.shuffle(chunks)
    return lines[:PYTHON_LINES], chunks[:MULTILINE_CHUNKS]


EMOJI = ["😀", "😂", "🥲", "👍", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇩🇪", "🇯🇵", "❤️", "✨", "🔥", "1️⃣", "🤖", "🧑🏿‍💻",
         "☕", "🍕", "🚀", "🎉", "💯", "🙈", "🐍", "⌚", "©", "™", "🀄", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝟙𝟚𝟛", "🫠"]
WORDS = ["hello", "world", "tokenizer", "speculative", "decoding", "Straße", "naïve", "café", "résumé", "Ελλάδα",
         "Москва", "東京", "北京", "서울", "القاهرة", "ירושלים", "नमस्ते", "สวัสดี", "Việt", "İstanbul", "Łódź",
         "DON'T", "I'm", "you'RE", "they'll", "we'd", "it's", "O'Neil", "rock'n'roll", "'twas", "ſ", "K", "Å"]
SPACES = [" ", "  ", "   ", "\t", "\t\t", " \t ", "\u00a0", "\u3000", "\u2009", "\u200b", "\u2028", "\u202f", "\u205f",
          "\u1680", "\u0085", "\r", "\n", "\r\n", "\n\n", " \n ", "\x0b", "\x0c"]
NUMBERS = ["0", "7", "42", "123", "1234", "12345", "3.14159", "1,234,567", "-273.15", "1e-9", "0x1F", "٠١٢٣",
           "१२३४", "１２３", "²", "½", "Ⅻ", "2024-02-29", "+49 30 1234567", "99.9%", "$1,000", "€5", "10⁻³", "𝟘"]
SPECIAL_SNIPPETS = ["<|endoftext|>", "<s>", "</s>", "<unk>", "<pad>", "<0x41>", "<|user|>", "<|begin_of_text|>",
                    "[MASK]", "<sep>", "▁", "▁▁", "<s><s>", "</s>hello", "word<|user|>word", " <|user|> ",
                    "<custom>", "x<custom>y", " <custom> ", "mask[MASK]", "a <sep> b", "<|im_start|>"]


def synthetic_lines(count):
    lines = ["", " ", "  ", "\t", "\n", "a", "ab", "A", " a", "a ", "  leading", "trailing  ", "x" * 120,
             "a" * 257, "ab" * 90, "🙂" * 20, "\u00e9", "e\u0301", "A\u030a", "\u212b", "ﬁ", "ｶﾀｶﾅ", "①②③",
             "Ⅷ", "\x01\x02\x7f", "\x1b[31mred\x1b[0m", "tab\there", "multiple     spaces", "end.\n",
             "line1\nline2\r\nline3\n\n", "  \n  \n", "\r\n", "'s 't 're 've 'm 'll 'd", "'S 'T 'RE 'VE 'M 'LL 'D",
             "'ſ 'K", "don't DON'T Don'T", "I've you've we'LL", "1234567890", "12 345 6789 01234",
             "a1b2c3", "x=1+2*3/4-5", "snake_case_identifier = CamelCase()", "\ufeffBOM", "\ufffd", "\U0010fffd",
             "\ue000private", "\u0600\u0601 arabic signs", "Ａｂｃ　全角", "\u3000\u3000ideographic", "½ ¼ ¾",
             "‘quotes’ “double” «guillemets» „German“", "— – - ‒", "…", "•·∙", "→⇒⟹", "∑∫√∞≈≠", "ℕℤℚℝℂ"]
    pools = [EMOJI, WORDS, SPACES, NUMBERS, SPECIAL_SNIPPETS]
    while len(lines) < count:
        parts = []
        for _ in range(RNG.randrange(1, 12)):
            pool = RNG.choice(pools)
            parts.append(RNG.choice(pool))
            if RNG.random() < 0.6:
                parts.append(RNG.choice([" ", " ", " ", "", "  ", "\t", "\n"]))
        lines.append("".join(parts))
    return lines


def build_corpus():
    corpus = []
    for language in LANGUAGES:
        corpus.extend(catalog_lines(language))
    code, chunks = python_lines()
    corpus.extend(code)
    corpus.extend(chunks)
    corpus.extend(synthetic_lines(1400))
    return corpus


# ---------------------------------------------------------------- training

def byte_level_bpe(corpus):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=4000, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    # Added tokens with every flag, matched before the model.
    tok.add_special_tokens([AddedToken("<|user|>", lstrip=True, rstrip=True, normalized=False)])
    tok.add_tokens([AddedToken("<custom>", single_word=True, normalized=True),
                    AddedToken("[MASK]", lstrip=True, normalized=False),
                    AddedToken(" world", normalized=True)])
    return tok


def llama3_bpe(corpus, split, digits_nfc):
    tok = Tokenizer(models.BPE(ignore_merges=True))
    if digits_nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=4000, special_tokens=["<|begin_of_text|>", "<|end_of_text|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    if digits_nfc:
        tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
    else:
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B:1",
                                          special_tokens=[("<|begin_of_text|>", tok.token_to_id("<|begin_of_text|>"))])])
    return tok


def with_byte_vocab(tok, specials):
    """Rebuilds a trained BPE so that <unk>, <s>, </s> and <0x00>..<0xFF> come first in the
    model vocabulary, as in the Llama-2 tokenizer.json files converted from SentencePiece."""
    data = json.loads(tok.to_str())
    vocab = data["model"]["vocab"]
    ordered = list(specials) + [f"<0x{b:02X}>" for b in range(256)]
    for piece, _ in sorted(vocab.items(), key=lambda kv: kv[1]):
        if piece not in ordered:
            ordered.append(piece)
    data["model"]["vocab"] = {piece: i for i, piece in enumerate(ordered)}
    data["added_tokens"] = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                             "normalized": False, "special": True} for i, s in enumerate(specials)]
    return Tokenizer.from_str(json.dumps(data))


def metaspace_bpe(corpus):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=3000, special_tokens=["<unk>", "<s>", "</s>"],
                                  limit_alphabet=400, show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok = with_byte_vocab(tok, ["<unk>", "<s>", "</s>"])
    # Llama-2 layout: no pre-tokenizer, the normalizer does the metaspace work.
    tok.pre_tokenizer = None
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A $B:1", special_tokens=[("<s>", 1)])
    # Merges as pairs (the newer serialisation) are read too: keep this one as "a b" strings.
    return tok


def metaspace_first_bpe(metaspace):
    data = json.loads(metaspace.to_str())
    data["normalizer"] = None
    data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}
    data["decoder"] = {"type": "Sequence", "decoders": [
        {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
        {"type": "Fuse"}]}
    merges = data["model"]["merges"]
    data["model"]["merges"] = [m.split(" ") if isinstance(m, str) else m for m in merges]
    tok = Tokenizer.from_str(json.dumps(data))
    tok.add_special_tokens([AddedToken("<|user|>", lstrip=False, rstrip=False, normalized=False)])
    return tok


def unigram(corpus):
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Replace(Regex(" {2,}"), " "), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                 pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=4000, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>",
                                      show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B:1 </s>:1",
                                                      special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return tok


def precompiled_unigram():
    """A T5-style tokenizer.json converted from the SentencePiece unigram model by
    transformers' SpmConverter (needs `pip install protobuf transformers`): Precompiled
    charsmap normalizer, Metaspace, Unigram with byte fallback switched on."""
    from transformers.convert_slow_tokenizer import SpmConverter

    class Slow:
        vocab_file = os.path.join(OUT, "sp-unigram", "tokenizer.model")
        legacy = True
        add_prefix_space = True

    data = json.loads(SpmConverter(Slow()).converted().to_str())
    data["model"]["byte_fallback"] = True
    tok = Tokenizer.from_str(json.dumps(data))
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                      special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return tok


def wordpiece(corpus):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=40))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase(), normalizers.Strip()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.BertPreTokenizer(),
                                                 pre_tokenizers.Digits(individual_digits=False)])
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    trainer = trainers.WordPieceTrainer(vocab_size=3000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.BertProcessing(("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    return tok


def sentencepiece_model(corpus, name, **options):
    text_path = os.path.join(OUT, "_train.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        for line in corpus:
            line = line.replace("\r", " ").replace("\n", " ")
            if line.strip():
                f.write(line + "\n")
    prefix = os.path.join(OUT, name, "tokenizer")
    spm.SentencePieceTrainer.train(input=text_path, model_prefix=prefix, minloglevel=2,
                                   num_threads=2, **options)
    os.remove(text_path)
    os.remove(prefix + ".vocab")
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


# ---------------------------------------------------------------- references

def write_lines(path, lines):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")


def decode_diffs(corpus, ids, decode, stride):
    """Reference decodes that differ from the corpus text. skip_special_tokens=True is kept
    for every `stride`-th line, False (which shows BOS/EOS text on almost every line) for
    every 16th, to stay inside the fixture size budget."""
    diffs = []
    for i, (text, row) in enumerate(zip(corpus, ids)):
        for skip in (False, True):
            if i % (16 if not skip else stride) != 0:
                continue
            decoded = decode(row, skip)
            if decoded != text:
                diffs.append(f"{i}\t{int(skip)}\t{json.dumps(decoded, ensure_ascii=False)}")
    return diffs


def record_hf(name, tok, corpus, save=True, stride=1, line_stride=1):
    """line_stride > 1 records every line_stride-th corpus line only (smaller fixtures for
    the extra tokenizers); the tests read it from meta.json."""
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    if save:
        tok.save(os.path.join(folder, "tokenizer.json"), pretty=False)
        tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    corpus = corpus[::line_stride]
    ids = [tok.encode(text, add_special_tokens=True).ids for text in corpus]
    write_lines(os.path.join(folder, "ids.txt"), [" ".join(map(str, row)) for row in ids])
    diffs = decode_diffs(corpus, ids, lambda row, skip: tok.decode(row, skip_special_tokens=skip), stride)
    write_lines(os.path.join(folder, "decode.txt"), diffs)
    size = tok.get_vocab_size(with_added_tokens=True)
    random_cases = []
    for _ in range(300):
        row = [RNG.randrange(size) for _ in range(RNG.randrange(1, 14))]
        random_cases.append(json.dumps({"ids": row, "text": tok.decode(row, skip_special_tokens=False),
                                        "skip": tok.decode(row, skip_special_tokens=True)}, ensure_ascii=False))
    write_lines(os.path.join(folder, "random.jsonl"), random_cases)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"vocab_size": size, "line_stride": line_stride}, f)
    matched = sum(1 for text in corpus if tok.decode(tok.encode(text).ids, skip_special_tokens=True) == text)
    print(f"{name}: vocab {size}, {sum(map(len, ids))} ids, {matched}/{len(corpus)} lines round-trip")


def record_sp(name, sp, corpus):
    folder = os.path.join(OUT, name)
    ids = [sp.encode(text) for text in corpus]
    write_lines(os.path.join(folder, "ids.txt"), [" ".join(map(str, row)) for row in ids])
    diffs = decode_diffs(corpus, ids, lambda row, skip: sp.decode(row), 2)
    write_lines(os.path.join(folder, "decode.txt"), diffs)
    size = sp.get_piece_size()
    random_cases = []
    for _ in range(300):
        row = [RNG.randrange(size) for _ in range(RNG.randrange(1, 14))]
        text = sp.decode(row)
        random_cases.append(json.dumps({"ids": row, "text": text, "skip": text}, ensure_ascii=False))
    write_lines(os.path.join(folder, "random.jsonl"), random_cases)
    with open(os.path.join(folder, "meta.json"), "w") as f:
        json.dump({"vocab_size": size, "bos": sp.bos_id(), "eos": sp.eos_id(), "unk": sp.unk_id(),
                   "pad": sp.pad_id()}, f)
    print(f"{name}: vocab {size}, {sum(map(len, ids))} ids, {len(diffs)} lines decode differently")


def record_stories(corpus):
    if not os.path.isdir(SHARED):
        print("stories260K: not found, skipped")
        return
    lines = corpus[::6]
    tok = Tokenizer.from_file(os.path.join(SHARED, "tokenizer.json"))
    write_lines(os.path.join(OUT, "stories260K.hf.ids.txt"),
                [" ".join(map(str, tok.encode(t).ids)) for t in lines])
    sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "tokenizer.model"))
    write_lines(os.path.join(OUT, "stories260K.sp.ids.txt"), [" ".join(map(str, sp.encode(t))) for t in lines])
    diffs = [f"{int(line) * 6}\t{rest}" for line, rest in (d.split("\t", 1) for d in decode_diffs(
        lines, [tok.encode(t).ids for t in lines], lambda row, skip: tok.decode(row, skip_special_tokens=skip), 1))]
    write_lines(os.path.join(OUT, "stories260K.hf.decode.txt"), diffs)
    sp_diffs = []
    for i, t in enumerate(lines):
        row = sp.encode(t)
        if RNG.random() < 0.5:
            row = [sp.bos_id()] + row + [sp.eos_id()]
        decoded = sp.decode(row)
        if decoded != t:
            sp_diffs.append(json.dumps({"line": i * 6, "ids": row, "text": decoded}, ensure_ascii=False))
    write_lines(os.path.join(OUT, "stories260K.sp.decode.jsonl"), sp_diffs)
    print(f"stories260K: {len(lines)} lines recorded (every sixth corpus line)")


SPLIT_PATTERNS = [r"\s+", r"\p{N}{1,3}", r"[\r\n]", r" ?\p{L}+", r"\d+(?:\.\d+)?", r"(?i:hello|world|the)",
                  r"[A-Z][a-z]+", r"\w+|[^\w\s]+", r".{1,3}", r"\b\w", r"x*", r"[^\s\p{L}]+", r"\s+(?!\S)|\s+",
                  r"\p{Lu}\p{Ll}*?", r"(?:ab|a)(?:bc|c)?", r"[\p{P}\p{S}]", r"^\s*", r"\s*$", r"\p{Han}|\p{L}"]
REPLACE_PATTERNS = [(r" {2,}", " "), (r"\s+", " "), (r"^\s+|\s+$", ""), (r"\d", "#"), (r"(?i)the", "THE")]


def record_split_patterns(corpus):
    """The reference Split pre-tokenizer and Replace normalizer on sample lines, for the
    general regex engine: one JSON object per (pattern, behavior, invert), with the byte
    lengths of the pieces for every sample line."""
    lines = [t for t in corpus[::331] if t][:40]
    records = []
    for pattern in SPLIT_PATTERNS:
        for behavior in ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]:
            for invert in (False, True):
                try:
                    pre = pre_tokenizers.Split(Regex(pattern), behavior=behavior, invert=invert)
                    pieces = [[len(p.encode()) for p, _ in pre.pre_tokenize_str(t)] for t in lines]
                except Exception as error:
                    pieces = None
                records.append({"pattern": pattern, "behavior": behavior, "invert": invert, "pieces": pieces})
    replacements = []
    for pattern, content in REPLACE_PATTERNS:
        n = normalizers.Replace(Regex(pattern), content)
        replacements.append({"pattern": pattern, "content": content, "results": [n.normalize_str(t) for t in lines]})
    pre = [pre_tokenizers.Whitespace(), pre_tokenizers.WhitespaceSplit(), pre_tokenizers.BertPreTokenizer(),
           pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.Digits(individual_digits=False),
           pre_tokenizers.CharDelimiterSplit(" "),
           pre_tokenizers.ByteLevel(add_prefix_space=True), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
           pre_tokenizers.Metaspace(prepend_scheme="never", split=True), pre_tokenizers.Metaspace(prepend_scheme="first", split=False),
           pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace()])]
    pre += [pre_tokenizers.Punctuation(behavior=b) for b in
            ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]]
    pretokenized = []
    for p in pre:
        holder = Tokenizer(models.WordLevel({"a": 0}, unk_token="a"))
        holder.pre_tokenizer = p
        config = json.loads(holder.to_str())["pre_tokenizer"]
        pretokenized.append({"config": config, "pieces": [[piece for piece, _ in p.pre_tokenize_str(t)] for t in lines]})
    norms = [normalizers.BertNormalizer(strip_accents=False, lowercase=True),
             normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False),
             normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False),
             normalizers.Lowercase(), normalizers.NFC(), normalizers.Strip(left=True, right=False),
             normalizers.Strip(left=False, right=True), normalizers.Prepend("▁"), normalizers.Replace("a", "<A>"),
             normalizers.Sequence([normalizers.Strip(), normalizers.Replace(" ", "▁"), normalizers.Prepend("▁")])]
    normalized = []
    extra = ["Straße ΣΑΣ İı \u0130 ǅ ᾼ", "\x00a\ufffdb\x0bc\x85d\u200be\U000e0001f\ue000g\u00adh",
             "中文字符 and 漢字 mixed テスト", "\t\n\r \u00a0\u3000\u2028end"]
    for n in norms:
        holder = Tokenizer(models.WordLevel({"a": 0}, unk_token="a"))
        holder.normalizer = n
        config = json.loads(holder.to_str())["normalizer"]
        normalized.append({"config": config, "results": [n.normalize_str(t) for t in lines + extra]})
    with open(os.path.join(OUT, "split-patterns.json"), "w", encoding="utf-8") as f:
        json.dump({"lines": lines, "splits": records, "replacements": replacements, "pretokenizers": pretokenized,
                   "normalizers": normalized, "normalizer_extra_lines": extra}, f, ensure_ascii=False)
    print(f"split patterns: {len(records)} splits, {len(replacements)} replacements on {len(lines)} lines")


def record_marian(corpus):
    """A Marian (Opus-MT) layout: source.spm = sp-unigram, target.spm = sp-bpe, one
    vocab.json numbering the pieces of both. Only vocab.json and the config are stored;
    the tests put the .spm files next to them. References from transformers'
    MarianTokenizer (without sacremoses, so no Moses punctuation normalization)."""
    import shutil
    import tempfile
    from transformers import MarianTokenizer
    folder = os.path.join(OUT, "marian")
    os.makedirs(folder, exist_ok=True)
    vocab = {}
    for name in ("sp-unigram", "sp-bpe"):
        sp = spm.SentencePieceProcessor(model_file=os.path.join(OUT, name, "tokenizer.model"))
        for i in range(sp.get_piece_size()):
            piece = sp.id_to_piece(i)
            if piece not in vocab and piece != "<s>":
                vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    config = {"source_lang": "de", "target_lang": "en", "unk_token": "<unk>", "eos_token": "</s>",
              "pad_token": "<pad>", "separate_vocabs": False}
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(config, f)
    with tempfile.TemporaryDirectory() as work:
        shutil.copy(os.path.join(folder, "vocab.json"), work)
        shutil.copy(os.path.join(folder, "tokenizer_config.json"), work)
        shutil.copy(os.path.join(OUT, "sp-unigram", "tokenizer.model"), os.path.join(work, "source.spm"))
        shutil.copy(os.path.join(OUT, "sp-bpe", "tokenizer.model"), os.path.join(work, "target.spm"))
        tok = MarianTokenizer.from_pretrained(work)
        rows = []
        for text in corpus[::25] + [">>de<< Hallo", ">>xx<<Welt"]:
            source = tok(text).input_ids
            target = tok(text_target=text).input_ids
            rows.append(json.dumps({"text": text, "source": source, "target": target,
                                    "decoded": tok.decode(source), "skipped": tok.decode(source, skip_special_tokens=True)},
                                   ensure_ascii=False))
    write_lines(os.path.join(folder, "cases.jsonl"), rows)
    print(f"marian: {len(rows)} cases, vocab {len(vocab)}")


def record_legacy_unicode_tables():
    """The `unicode_categories` crate that tokenizers uses for Punctuation, BertPreTokenizer
    and BertNormalizer has old Unicode tables (punctuation and Cc/Cf/Co as of Unicode 8/9,
    no Cn), and so does the mark table of its unicode-normalization dependency (StripAccents).
    Measure them through the reference and write them both as a fixture and as the
    Swift table Sources/SpecDecTokenizers/Unicode/LegacyCategoryTables.swift."""
    punct = pre_tokenizers.Punctuation(behavior="removed")
    bert = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    bert_accents = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                              lowercase=False)
    strip_accents = normalizers.StripAccents()
    nfd = normalizers.NFD()
    punctuation, removed, spaced, nonspacing, combining = [], [], [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        c = chr(cp)
        if not punct.pre_tokenize_str(c):
            punctuation.append(cp)
        result = bert.normalize_str(c)
        if result == "":
            removed.append(cp)
        elif result == " " and c != " ":
            spaced.append(cp)
        # BertNormalizer strips accents after NFD: only characters NFD leaves alone matter.
        if nfd.normalize_str(c) == c and bert_accents.normalize_str(c) == "":
            nonspacing.append(cp)
        if strip_accents.normalize_str(c) == "":
            combining.append(cp)

    def runs(values):
        out = []
        for v in values:
            if out and out[-1][1] == v - 1:
                out[-1][1] = v
            else:
                out.append([v, v])
        return out

    tables = {"punctuation": runs(punctuation), "bert_removed": runs(removed), "bert_space": runs(spaced),
              "nonspacing_mark": runs(nonspacing), "combining_mark": runs(combining)}
    with open(os.path.join(OUT, "unicode-legacy.json"), "w") as f:
        json.dump(tables, f)
    other = [r for r in tables["bert_removed"] if not (r[0] <= 0xFFFD <= r[1]) and r != [0, 0]]

    def swift_array(name, ranges, doc):
        body = ",\n".join("        " + ", ".join(f"0x{a:X}, 0x{b:X}" for a, b in ranges[i:i + 4])
                          for i in range(0, len(ranges), 4))
        return f"    /// {doc}\n    static let {name}: [UInt32] = [\n{body},\n    ]\n"

    swift = ("// Generated by tools/tokenizers/make_tokenizer_fixtures.py (record_legacy_unicode_tables):\n"
             "// measured through the reference `tokenizers` package. Do not edit.\n\n"
             "/// Character categories as tokenizers' `unicode_categories` dependency sees them. Its\n"
             "/// tables are from an old Unicode version, so Punctuation, BertPreTokenizer and\n"
             "/// BertNormalizer must use them, not the standard library's, to match the reference.\n"
             "enum LegacyCategoryTables {\n"
             + swift_array("punctuation", tables["punctuation"], "Inclusive ranges (start, end) of `is_punctuation()` (P*).")
             + swift_array("other", other, "Inclusive ranges (start, end) of `is_other()` (Cc, Cf, Co; NUL included).")
             + swift_array("nonspacingMark", tables["nonspacing_mark"],
                           "Inclusive ranges (start, end) of `is_mark_nonspacing()` (Mn): BertNormalizer's accents.")
             + swift_array("combiningMark", tables["combining_mark"],
                           "Inclusive ranges (start, end) of unicode-normalization's `is_combining_mark()` (M*): StripAccents.")
             + "}\n")
    with open(os.path.join(ROOT, "Sources", "SpecDecTokenizers", "Unicode", "LegacyCategoryTables.swift"), "w") as f:
        f.write(swift)
    print(f"legacy unicode tables: {len(tables['punctuation'])} punctuation runs, {len(other)} other runs, "
          f"{len(tables['nonspacing_mark'])} nonspacing-mark runs, {len(tables['combining_mark'])} combining-mark runs")


def record_unigram_scores():
    """Unigram scores as the reference holds them after reading tokenizer.json (serde_json
    without float_roundtrip, which may miss the nearest double by one unit): score texts of
    every shape and the values the reference writes back (shortest round-trip digits)."""
    texts = ["-0.5", "-1e-5", "-1E+2", "-7.4861436837186375", "-6.675776316770719", "-8.012329389461675",
             "-12345678901234567890.5", "-0.000000000000000000001234567890123456789", "-2.5e-310", "-1.7976931348623157e308"]
    for _ in range(3000):
        digits = RNG.choice([6, 12, 15, 16, 17, 17, 17, 18, 19, 20, 24])
        value = -RNG.random() * 10 ** RNG.randrange(-3, 3)
        text = f"{value:.{digits}g}"
        if RNG.random() < 0.2:
            mantissa, _, exponent = f"{value:.{digits}e}".partition("e")
            text = f"{mantissa}e{int(exponent)}"
        texts.append(text)
    vocab = ",".join(f'["p{i}", {t}]' for i, t in enumerate(texts))
    tok = Tokenizer.from_str('{"version": "1.0", "model": {"type": "Unigram", "unk_id": null, "vocab": [' + vocab + "]}}")
    held = [score for _, score in json.loads(tok.to_str())["model"]["vocab"]]
    with open(os.path.join(OUT, "unigram-scores.json"), "w") as f:
        json.dump({"texts": texts, "reference": held}, f)
    differing = sum(1 for t, v in zip(texts, held) if float(t) != v)
    print(f"unigram scores: {len(texts)} texts, {differing} read differently from the nearest double")


def record_unicode_classes():
    """Classifies every code point the way the GPT-2 split regex does (letter, number,
    whitespace, other), so the Swift scanner's tables can be checked exhaustively."""
    pre = pre_tokenizers.Split(Regex(GPT2_SPLIT), behavior="isolated")
    runs = []
    previous = None
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            cls = "O"
        else:
            c = chr(cp)
            if len(pre.pre_tokenize_str("a" + c)) == 1:
                cls = "L"
            elif len(pre.pre_tokenize_str("1" + c)) == 1:
                cls = "N"
            elif len(pre.pre_tokenize_str("!" + c)) == 1:
                cls = "O"
            else:
                cls = "S"
        if cls != previous:
            runs.append(f"{cp:X} {cls}")
            previous = cls
    write_lines(os.path.join(OUT, "unicode-classes.txt"), runs)
    print(f"unicode classes: {len(runs)} runs")


def main():
    """`--only a,b` rebuilds just those fixtures (training is not deterministic, so this
    keeps the others as they are); the corpus is rebuilt identically every time."""
    only = None
    if "--only" in sys.argv:
        only = set(sys.argv[sys.argv.index("--only") + 1].split(","))
    wanted = lambda name: only is None or name in only
    os.makedirs(OUT, exist_ok=True)
    corpus = build_corpus()
    write_lines(os.path.join(OUT, "corpus.jsonl"), [json.dumps(t, ensure_ascii=False) for t in corpus])
    print(f"corpus: {len(corpus)} lines, {sum(len(t.encode()) for t in corpus)} bytes")

    if wanted("bytelevel-bpe"):
        record_hf("bytelevel-bpe", byte_level_bpe(corpus), corpus)
    if wanted("llama3-bpe"):
        record_hf("llama3-bpe", llama3_bpe(corpus, LLAMA3_SPLIT, False), corpus)
    if wanted("qwen2-bpe"):
        record_hf("qwen2-bpe", llama3_bpe(corpus, QWEN2_SPLIT, True), corpus)
    if wanted("metaspace-bpe") or wanted("metaspace-first-bpe"):
        metaspace = metaspace_bpe(corpus)
        record_hf("metaspace-bpe", metaspace, corpus)
        record_hf("metaspace-first-bpe", metaspace_first_bpe(metaspace), corpus, line_stride=2)
    if wanted("unigram"):
        record_hf("unigram", unigram(corpus), corpus, stride=4)
    if wanted("wordpiece"):
        record_hf("wordpiece", wordpiece(corpus), corpus, line_stride=3)

    if wanted("sp-unigram"):
        os.makedirs(os.path.join(OUT, "sp-unigram"), exist_ok=True)
        record_sp("sp-unigram", sentencepiece_model(corpus, "sp-unigram", model_type="unigram", vocab_size=4000,
                                                    byte_fallback=True, user_defined_symbols=["<sep>", "[MASK]"]), corpus)
    if wanted("sp-bpe"):
        os.makedirs(os.path.join(OUT, "sp-bpe"), exist_ok=True)
        record_sp("sp-bpe", sentencepiece_model(corpus, "sp-bpe", model_type="bpe", vocab_size=4000,
                                                character_coverage=0.995), corpus)
    if wanted("precompiled-unigram"):
        record_hf("precompiled-unigram", precompiled_unigram(), corpus, line_stride=3)
    if wanted("stories260K"):
        record_stories(corpus)
    if wanted("unicode"):
        record_unicode_classes()
    if wanted("unigram-scores"):
        record_unigram_scores()
    if wanted("unicode-legacy"):
        record_legacy_unicode_tables()
    if wanted("marian"):
        record_marian(corpus)
    if wanted("split-patterns"):
        record_split_patterns(corpus)


if __name__ == "__main__":
    main()
