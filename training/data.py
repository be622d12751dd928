#!/usr/bin/env python3
"""Extract English->German sentence pairs from the gettext catalogs installed on this machine.

Reads every ``*.mo`` file under a ``de/LC_MESSAGES`` directory (Debian packages: coreutils, gcc-12,
git, postgres, LibreOffice's ``libreoffice-l10n-de`` resources, ...), parses the binary catalog
with ``struct`` (no gettext library), cleans the strings and writes

    training/work/data/{train,valid,test}.{en,de}      one sentence per line, aligned
    training/work/data/stats.json                       counts per stage and per catalog

Cleaning (applied identically to both sides):
  * the header entry (empty msgid) is skipped; ``msgctxt`` (``ctx\\x04msgid``) is dropped;
  * plural entries keep the singular (first) form of msgid and msgstr;
  * keyboard accelerators are removed: GTK ``_`` , Qt/KDE ``&`` and LibreOffice ``~`` directly in
    front of a letter or digit (``_Open`` -> ``Open``, ``Sa&ve`` -> ``Save``), plus a trailing
    CJK-style ``(_O)`` marker; ``&&`` becomes ``&``;
  * newlines and tabs become spaces, whitespace is collapsed;
  * dropped: empty translations, strings with no letter once format specifiers (``%s``, ``%1$d``,
    ``{0}``, ``$(VAR)``) are removed, pairs with identical source and target of more than one word
    (untranslated), strings longer than MAX_WORDS words, pairs whose length ratio is implausible;
  * exact duplicate pairs are removed.

Split: pairs are grouped by a normalised source key (lower case, letters and digits only), so every
source string -- and every casing/punctuation variant of it -- lives in exactly one split. The group
is assigned by a hash of the key (deterministic, independent of file order). The test and valid sets
are drawn only from groups whose source has MIN_EVAL_WORDS..MAX_EVAL_WORDS words (real sentences,
as in the paper's WMT table, not one-word menu labels); every other group goes to training.

Usage: python training/data.py [--out training/work/data]
"""
import argparse
import glob
import hashlib
import json
import os
import re
import struct
import sys
from collections import Counter, defaultdict

MAX_WORDS = 48          # source or target words (SentencePiece length is filtered again later)
MIN_EVAL_WORDS = 5
MAX_EVAL_WORDS = 40
TEST_PAIRS = 1500
VALID_PAIRS = 1000

SEARCH_ROOTS = ["/usr/share/locale", "/usr/lib/libreoffice", "/usr/share/vim", "/usr/share/locale-langpack",
                "/usr/lib/x86_64-linux-gnu", "/usr/share"]


def find_catalogs():
    seen_hash, out = set(), []
    for root in SEARCH_ROOTS:
        if not os.path.isdir(root):
            continue
        for dirpath, _dirnames, filenames in os.walk(root):
            if not dirpath.endswith(os.path.join("de", "LC_MESSAGES")):
                continue
            for fn in sorted(filenames):
                if not fn.endswith(".mo"):
                    continue
                path = os.path.join(dirpath, fn)
                with open(path, "rb") as f:
                    h = hashlib.sha1(f.read()).hexdigest()
                if h in seen_hash:
                    continue
                seen_hash.add(h)
                out.append(path)
    return sorted(out)


def parse_mo(path):
    """Return a list of (msgid bytes, msgstr bytes) and the charset named in the header."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 28:
        raise ValueError("truncated .mo")
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0x950412DE:
        end = "<"
    elif magic == 0xDE120495:
        end = ">"
    else:
        raise ValueError("not a .mo file")
    _rev, n, orig_off, trans_off = struct.unpack(end + "4I", data[4:20])
    entries = []
    for i in range(n):
        olen, ooff = struct.unpack(end + "2I", data[orig_off + 8 * i: orig_off + 8 * i + 8])
        tlen, toff = struct.unpack(end + "2I", data[trans_off + 8 * i: trans_off + 8 * i + 8])
        entries.append((data[ooff: ooff + olen], data[toff: toff + tlen]))
    charset = "utf-8"
    for mid, mstr in entries:
        if mid == b"":
            m = re.search(rb"charset=([A-Za-z0-9_\-]+)", mstr)
            if m:
                charset = m.group(1).decode("ascii").lower()
            break
    return entries, charset


FORMAT_RE = re.compile(
    r"%(\d+\$)?[-+ #0']*(\d+|\*)?(\.(\d+|\*))?(hh|h|ll|l|L|q|j|z|t|I64|I32)?[diouxXeEfFgGaAcspnm%]"
    r"|%\([A-Za-z_]+\)[sd]|%[A-Za-z_]+%|\{[^{}]*\}|\$\{?\(?[A-Za-z0-9_]+\)?\}?|<[^<>]+>|&[a-z]+;")
LETTER_RE = re.compile(r"[^\W\d_]")


ACCEL_CAND_RE = re.compile(r"(?<![_&~])[_&~](?=[^\W_])")


def accel_candidates(s):
    """Positions of possible accelerator markers: one of _ & ~ before a letter/digit, not doubled,
    not an XML entity (&amp;)."""
    out = []
    for m in ACCEL_CAND_RE.finditer(s):
        i = m.start()
        if s[i] == "&" and re.match(r"&([A-Za-z]+|#\d+);", s[i:]):
            continue
        out.append(i)
    return out


def strip_accelerators(src, tgt):
    """Remove the keyboard accelerator of a UI string consistently on both sides. A marker is removed
    only where its side has exactly one candidate and the other side at most one: identifiers such
    as __VA_ARGS__ or _tsan_funcentry() carry several underscores and are left alone."""
    def cjk(s):
        return re.sub(r"\s*\((_|&|~)[A-Za-z0-9]\)", "", s)          # "Open (_O)" style
    src, tgt = cjk(src), cjk(tgt)
    cs, ct = accel_candidates(src), accel_candidates(tgt)
    if len(cs) <= 1 and len(ct) <= 1:
        # all underscores / tildes of the side must be that candidate (no second, non-candidate one)
        def drop(s, c):
            if not c:
                return s
            ch = s[c[0]]
            if s.count(ch) != 1:
                return s
            return s[:c[0]] + s[c[0] + 1:]
        src, tgt = drop(src, cs), drop(tgt, ct)
    return src.replace("&&", "&"), tgt.replace("&&", "&")


def clean_ws(s):
    s = s.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return re.sub(r"\s+", " ", s).strip()


def norm_key(s):
    return "".join(ch for ch in s.lower() if ch.isalnum())


def has_content(s):
    return LETTER_RE.search(FORMAT_RE.sub(" ", s)) is not None


def bucket(key):
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:12], 16) / float(16 ** 12)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work", "data"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    stats = Counter()
    per_catalog = {}
    pairs = []
    seen = set()
    for path in find_catalogs():
        try:
            entries, charset = parse_mo(path)
        except Exception as e:  # noqa: BLE001 -- report and skip damaged catalogs
            print(f"skip {path}: {e}", file=sys.stderr)
            continue
        kept = 0
        for mid, mstr in entries:
            stats["raw"] += 1
            if mid == b"" or mstr == b"":
                stats["header_or_empty"] += 1
                continue
            try:
                src = mid.decode(charset)
                tgt = mstr.decode(charset)
            except (UnicodeDecodeError, LookupError):
                stats["bad_encoding"] += 1
                continue
            if "\x04" in src:
                src = src.split("\x04", 1)[1]
            if "\x00" in src:
                stats["plural_singular_taken"] += 1
                src = src.split("\x00", 1)[0]
                tgt = tgt.split("\x00", 1)[0]
            src, tgt = strip_accelerators(clean_ws(src), clean_ws(tgt))
            if not src or not tgt:
                stats["empty_after_clean"] += 1
                continue
            if not has_content(src) or not has_content(tgt):
                stats["format_only"] += 1
                continue
            ns, nt = len(src.split()), len(tgt.split())
            if ns > MAX_WORDS or nt > MAX_WORDS:
                stats["too_long"] += 1
                continue
            if src == tgt and ns > 1:
                stats["untranslated"] += 1
                continue
            if max(len(src), len(tgt)) > 12 and max(len(src), len(tgt)) > 3 * min(len(src), len(tgt)):
                stats["length_ratio"] += 1
                continue
            if (src, tgt) in seen:
                stats["duplicate"] += 1
                continue
            seen.add((src, tgt))
            pairs.append((src, tgt))
            kept += 1
        per_catalog[os.path.relpath(path, "/")] = kept
    stats["kept"] = len(pairs)

    groups = defaultdict(list)
    for src, tgt in pairs:
        groups[norm_key(src)].append((src, tgt))
    eval_keys = sorted((k for k, g in groups.items()
                        if MIN_EVAL_WORDS <= len(g[0][0].split()) <= MAX_EVAL_WORDS and len(k) > 0),
                       key=bucket)
    test, valid, train = [], [], []
    test_keys, valid_keys = set(), set()
    for k in eval_keys:
        if len(test) < TEST_PAIRS:
            test.append(groups[k][0])         # one pair per source string: distinct test sources
            test_keys.add(k)
        elif len(valid) < VALID_PAIRS:
            valid.append(groups[k][0])
            valid_keys.add(k)
        else:
            break
    for k in sorted(groups, key=bucket):
        if k in test_keys or k in valid_keys:
            continue
        train.extend(groups[k])
    # sanity: no test source (normalised) anywhere in training or valid
    train_keys = {norm_key(s) for s, _ in train}
    assert not (train_keys & test_keys) and not (valid_keys & test_keys)

    for name, split in (("train", train), ("valid", valid), ("test", test)):
        with open(os.path.join(args.out, f"{name}.en"), "w", encoding="utf-8") as fe, \
                open(os.path.join(args.out, f"{name}.de"), "w", encoding="utf-8") as fd:
            for s, t in split:
                fe.write(s + "\n")
                fd.write(t + "\n")
        stats[f"{name}_pairs"] = len(split)
        stats[f"{name}_src_words"] = sum(len(s.split()) for s, _ in split)
        stats[f"{name}_tgt_words"] = sum(len(t.split()) for _, t in split)
    stats["catalogs"] = len(per_catalog)
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump({"stats": dict(stats), "per_catalog": per_catalog}, f, indent=1, sort_keys=True)
    for k in sorted(stats):
        print(f"{k:24s} {stats[k]}")


if __name__ == "__main__":
    main()
