#!/usr/bin/env python3
"""Extract English->German sentence pairs from what Debian packages ship.

Sources, all from the packages named in ``training/data_packages.txt`` (missing ones are installed
with apt-get when run as root, see ``--install``):
  * gettext catalogs: every ``*.mo`` under a ``de/LC_MESSAGES`` directory owned by a listed package
    (coreutils, gcc-12-locales, LibreOffice's ``libreoffice-l10n-de`` resources, GIMP, KDE, ...),
    parsed with ``struct`` (no gettext library);
  * LibreOffice help: ``libreoffice-help-de`` and ``libreoffice-help-en-us`` ship the same HTML
    pages, whose paragraphs and headings carry the ``id`` of their source paragraph; pairs are
    aligned by (page, id) only, never by position.

Output:
    training/work/data/{train,valid,test}.{en,de}      one sentence per line, aligned
    training/work/data/stats.json                       counts per stage, per package, per catalog

Cleaning (applied identically to both sides):
  * gettext: the header entry (empty msgid) is skipped; ``msgctxt`` (``ctx\\x04msgid``) is dropped;
    plural entries keep the singular (first) form of msgid and msgstr;
  * gettext: keyboard accelerators are removed: GTK ``_`` , Qt/KDE ``&`` and LibreOffice ``~``
    directly in front of a letter or digit (``_Open`` -> ``Open``, ``Sa&ve`` -> ``Save``), plus a
    trailing CJK-style ``(_O)`` marker; ``&&`` becomes ``&``;
  * gettext: a context written into the msgid itself (glib's ``Month|May``, Wesnoth's
    ``female^Mage``, Freeciv's ``?plural:Evenks``) is removed where the translation lacks its marker;
  * help: only the text a reader sees: markup is removed, entities decoded, and of a
    system/application switch (``Command``/``Ctrl``) only the default case is kept; code paragraphs
    (class ``*code*``) and paragraphs whose id repeats with different text on a page are skipped;
  * newlines and tabs become spaces, whitespace is collapsed;
  * dropped: empty translations, strings with no letter once format specifiers (``%s``, ``%1$d``,
    ``{0}``, ``$(VAR)``) are removed, pairs with identical source and target of more than one word
    (untranslated), strings longer than MAX_WORDS words, pairs whose length ratio is implausible;
  * exact duplicate pairs are removed (a pair counts for the first listed package that has it).

Held-out test set: ``models/specdec-en-de-test/test.{en,de}`` is fixed and copied unchanged, so
results stay comparable across data versions. Every pair whose source has the normalised key (lower
case, letters and digits only) of a test source is dropped from training and validation.

Split: pairs are grouped by the normalised source key, so every source string -- and every
casing/punctuation variant of it -- lives in exactly one split. The validation set takes one pair per
group from the first VALID_PAIRS groups, in the order of a hash of the key (deterministic, independent
of file order), whose source has MIN_EVAL_WORDS..MAX_EVAL_WORDS words (real sentences, not one-word
menu labels); every other group goes to training.

Usage: python training/data.py [--install {auto,yes,no}] [--out training/work/data] [--table]
"""
import argparse
import hashlib
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PACKAGE_LIST = os.path.join(HERE, "data_packages.txt")
TEST_DIR = os.path.join(REPO, "models", "specdec-en-de-test")
DPKG_INFO = "/var/lib/dpkg/info"

MAX_WORDS = 48          # source or target words (SentencePiece length is filtered again later)
MIN_EVAL_WORDS = 5
MAX_EVAL_WORDS = 40
VALID_PAIRS = 1000

HELP_PACKAGE = "libreoffice-help-de"          # aligned with libreoffice-help-en-us's pages
HELP_DE = "/usr/share/libreoffice/help/de"
HELP_EN = "/usr/share/libreoffice/help/en-US"


# ---------------------------------------------------------------------------------------------
# packages

def read_package_list(path=PACKAGE_LIST):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name = line.split("#", 1)[0].strip()
            if name and name not in out:
                out.append(name)
    return out


def installed_packages(pkgs):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *pkgs],
                       capture_output=True, text=True)
    return {line.split()[0] for line in r.stdout.splitlines() if line.endswith(" installed")}


def install_packages(pkgs):
    """apt-get install the listed packages that are not installed; returns those still missing."""
    have = installed_packages(pkgs)
    missing = [p for p in pkgs if p not in have]
    if not missing:
        return []
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    if subprocess.run(cmd + missing, env=env).returncode != 0:
        # one vanished or conflicting package must not block the rest
        for p in missing:
            subprocess.run(cmd + [p], env=env)
    subprocess.run(["apt-get", "clean"], env=env)
    have = installed_packages(pkgs)
    return [p for p in pkgs if p not in have]


def package_files(pkg, info_dir=DPKG_INFO):
    """Files a package installed, from dpkg's own list (``pkg.list`` or ``pkg:arch.list``)."""
    out = []
    for fn in sorted(os.listdir(info_dir)):
        if fn == pkg + ".list" or (fn.startswith(pkg + ":") and fn.endswith(".list")):
            with open(os.path.join(info_dir, fn), encoding="utf-8", errors="replace") as f:
                out.extend(line.rstrip("\n") for line in f)
    return out


def package_catalogs(pkg, info_dir=DPKG_INFO):
    return sorted(p for p in package_files(pkg, info_dir)
                  if p.endswith(".mo") and os.sep + os.path.join("de", "LC_MESSAGES") + os.sep in p
                  and os.path.isfile(p))


# ---------------------------------------------------------------------------------------------
# gettext

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


def mo_strings(entries, charset, stats):
    """Decoded (msgid, msgstr) of a catalog's real entries: no header, no context, singular forms."""
    for mid, mstr in entries:
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
        stripped = strip_inline_context(src, tgt)
        if stripped != src:
            stats["inline_context_removed"] += 1
        yield stripped, tgt


# A context some programs write into the msgid itself, not into msgctxt: glib's Q_ ("Month|May"),
# Wesnoth's "female^Mage", Freeciv's "?plural:Evenks". The translation never carries it.
INLINE_CONTEXT_RES = (re.compile(r"^[^|\n]{1,40}\|(?=\S)"), re.compile(r"^[^\s^]{1,40}\^(?=\S)"),
                      re.compile(r"^\?[^\s:?][^:?\n]{0,39}:(?=\S)"))


def strip_inline_context(src, tgt):
    for rx in INLINE_CONTEXT_RES:
        m = rx.match(src)
        if m and m.group(0)[-1] not in tgt:
            return src[m.end():]
    return src


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


# ---------------------------------------------------------------------------------------------
# LibreOffice help

HELP_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
             "track", "wbr"}


class HelpPageParser(html.parser.HTMLParser):
    """Visible text of every paragraph/heading that has an id: ``texts[id]`` is the list of texts
    found under that id (more than one where a page embeds a paragraph twice)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.texts = defaultdict(list)
        self.stack = []           # (tag, hides its text)
        self.cur = None           # (tag, id) of the paragraph being read
        self.buf = []

    def hidden(self):
        return any(h for _t, h in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in VOID_TAGS:
            if tag == "br" and self.cur:
                self.buf.append(" ")
            return
        # a switch renders one case for the reader's system/module; the default case stands for all
        hides = tag in ("script", "style") or \
            ("hidden" in a and not (a.get("id") or "").startswith("default"))
        self.stack.append((tag, hides))
        if tag in HELP_TAGS and self.cur is None:
            pid = a.get("id")
            cls = a.get("class") or ""
            self.cur = (tag, pid if pid and "code" not in cls else None)
            self.buf = []

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        if any(t == tag for t, _h in self.stack):
            while self.stack:
                if self.stack.pop()[0] == tag:
                    break
        if self.cur and tag == self.cur[0]:
            if self.cur[1]:
                self.texts[self.cur[1]].append("".join(self.buf))
            self.cur = None

    def handle_data(self, d):
        if self.cur and not self.hidden():
            self.buf.append(d)


def help_page_texts(path):
    p = HelpPageParser()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    p.close()
    out = {}
    for pid, texts in p.texts.items():
        texts = {clean_ws(t) for t in texts}
        if len(texts) == 1:       # an id that names two different texts cannot be aligned
            out[pid] = texts.pop()
    return out


def help_pages(en_root=HELP_EN, de_root=HELP_DE):
    out = []
    for dirpath, _dirs, files in os.walk(en_root):
        for fn in files:
            if fn.endswith(".html"):
                rel = os.path.relpath(os.path.join(dirpath, fn), en_root)
                if os.path.isfile(os.path.join(de_root, rel)):
                    out.append(rel)
    return sorted(out)


def help_strings(rel, stats, en_root=HELP_EN, de_root=HELP_DE):
    """(English, German) of every id present once on both language versions of a help page."""
    en = help_page_texts(os.path.join(en_root, rel))
    de = help_page_texts(os.path.join(de_root, rel))
    for pid in sorted(en):
        if pid in de:
            yield en[pid], de[pid]
        else:
            stats["help_unaligned"] += 1


# ---------------------------------------------------------------------------------------------
# cleaning, shared by all sources

def clean_ws(s):
    s = s.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return re.sub(r"\s+", " ", s).strip()


def norm_key(s):
    return "".join(ch for ch in s.lower() if ch.isalnum())


def has_content(s):
    return LETTER_RE.search(FORMAT_RE.sub(" ", s)) is not None


def clean_pair(src, tgt, stats, accelerators=True):
    """The cleaned pair, or None (counting the reason in stats)."""
    src, tgt = clean_ws(src), clean_ws(tgt)
    if accelerators:
        src, tgt = strip_accelerators(src, tgt)
    if not src or not tgt:
        stats["empty_after_clean"] += 1
        return None
    if not has_content(src) or not has_content(tgt):
        stats["format_only"] += 1
        return None
    ns, nt = len(src.split()), len(tgt.split())
    if ns > MAX_WORDS or nt > MAX_WORDS:
        stats["too_long"] += 1
        return None
    if src == tgt and ns > 1:
        stats["untranslated"] += 1
        return None
    if max(len(src), len(tgt)) > 12 and max(len(src), len(tgt)) > 3 * min(len(src), len(tgt)):
        stats["length_ratio"] += 1
        return None
    return src, tgt


def bucket(key):
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:12], 16) / float(16 ** 12)


# ---------------------------------------------------------------------------------------------
# collection and split

def package_sources(pkg, info_dir=DPKG_INFO, help_roots=(HELP_EN, HELP_DE)):
    """(kind, location) of everything a package contributes."""
    out = [("gettext", path) for path in package_catalogs(pkg, info_dir)]
    if pkg == HELP_PACKAGE and all(os.path.isdir(r) for r in help_roots):
        out.append(("help", help_roots))
    return out


def source_strings(kind, where, stats, seen_files):
    """Raw entry count and the (source, target, strip accelerators) strings of one source; None
    where the source is skipped (a catalog already read under another name, or damaged)."""
    if kind == "gettext":
        with open(where, "rb") as f:
            h = hashlib.sha1(f.read()).hexdigest()
        if h in seen_files:
            return None
        seen_files.add(h)
        try:
            entries, charset = parse_mo(where)
        except Exception as e:  # noqa: BLE001 -- report and skip damaged catalogs
            print(f"skip {where}: {e}", file=sys.stderr)
            return None
        return len(entries), ((s, t, True) for s, t in mo_strings(entries, charset, stats))
    en_root, de_root = where
    texts = []
    for rel in help_pages(en_root, de_root):
        texts.extend(help_strings(rel, stats, en_root, de_root))
    # raw entries: ids present on both language versions
    return len(texts), ((s, t, False) for s, t in texts)


def collect(packages, stats, info_dir=DPKG_INFO, help_roots=(HELP_EN, HELP_DE)):
    """Cleaned, deduplicated pairs from the packages, in list order, with per-package counts (raw
    entries, kept pairs, unique pairs contributed: kept and not already given by an earlier
    package) and the pairs each catalog contributed."""
    pairs, seen, seen_files = [], set(), set()
    per_package, per_catalog = {}, {}
    for pkg in packages:
        row = {"catalogs": 0, "raw": 0, "kept": 0, "unique": 0}
        kept_here = set()
        for kind, where in package_sources(pkg, info_dir, help_roots):
            got = source_strings(kind, where, stats, seen_files)
            if got is None:
                continue
            raw, strings = got
            n = 0
            for src, tgt, accelerators in strings:
                pair = clean_pair(src, tgt, stats, accelerators)
                if pair is None:
                    continue
                kept_here.add(pair)
                if pair in seen:
                    stats["duplicate"] += 1
                    continue
                seen.add(pair)
                pairs.append(pair)
                n += 1
            row["raw"] += raw
            row["unique"] += n
            if kind == "gettext":
                row["catalogs"] += 1
                per_catalog[os.path.relpath(where, "/")] = n
            else:
                row["help_pages"] = len(help_pages(*where))
                per_catalog[os.path.relpath(where[1], "/")] = n
        row["kept"] = len(kept_here)
        stats["raw"] += row["raw"]
        per_package[pkg] = row
    stats["kept"] = len(pairs)
    return pairs, per_package, per_catalog


def read_test(test_dir=TEST_DIR):
    def lines(name):
        with open(os.path.join(test_dir, name), encoding="utf-8") as f:
            return f.read().split("\n")[:-1]
    en, de = lines("test.en"), lines("test.de")
    assert len(en) == len(de) and en, "test.en and test.de must be aligned and non-empty"
    return list(zip(en, de))


def split(pairs, test, stats):
    """Drop every pair whose source matches a test source, then split into (train, valid)."""
    test_keys = {norm_key(s) for s, _ in test}
    groups = defaultdict(list)
    matched = set()
    for src, tgt in pairs:
        k = norm_key(src)
        if k in test_keys:
            stats["test_overlap_dropped"] += 1
            matched.add(k)
            continue
        groups[k].append((src, tgt))
    stats["test_sources_in_data"] = len(matched)
    eval_keys = sorted((k for k, g in groups.items()
                        if MIN_EVAL_WORDS <= len(g[0][0].split()) <= MAX_EVAL_WORDS and len(k) > 0),
                       key=bucket)
    valid_keys = set(eval_keys[:VALID_PAIRS])
    valid = [groups[k][0] for k in eval_keys[:VALID_PAIRS]]      # one pair per source string
    train = []
    for k in sorted(groups, key=bucket):
        if k not in valid_keys:
            train.extend(groups[k])
    # sanity: no test source (normalised) anywhere in training or valid
    assert not ({norm_key(s) for s, _ in train + valid} & test_keys)
    return train, valid


def markdown_table(per_package):
    rows = sorted(per_package.items(), key=lambda kv: -kv[1]["unique"])
    lines = ["| package | catalogs | raw entries | kept pairs | unique pairs contributed |",
             "|---|---:|---:|---:|---:|"]
    for p, r in rows:
        cat = f"{r['help_pages']:,} help pages" if "help_pages" in r else f"{r['catalogs']:,}"
        lines.append(f"| {p} | {cat} | {r['raw']:,} | {r['kept']:,} | {r['unique']:,} |")
    total = {k: sum(r[k] for _p, r in rows) for k in ("catalogs", "raw", "kept", "unique")}
    lines.append(f"| **total ({len(rows)} packages)** | {total['catalogs']:,} | {total['raw']:,} | "
                 f"{total['kept']:,} | {total['unique']:,} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "work", "data"))
    ap.add_argument("--packages", default=PACKAGE_LIST, help="package list, one name a line")
    ap.add_argument("--test-dir", default=TEST_DIR, help="the fixed held-out test set")
    ap.add_argument("--install", nargs="?", const="yes", default="auto", choices=["auto", "yes", "no"],
                    help="apt-get install the missing listed packages: yes, no, or auto (default: when root)")
    ap.add_argument("--table", action="store_true", help="print the per-package table (markdown)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    packages = read_package_list(args.packages)
    can_install = os.geteuid() == 0 and shutil.which("apt-get") is not None
    if args.install == "yes" and not can_install:
        sys.exit("--install needs root and apt-get")
    if args.install == "yes" or (args.install == "auto" and can_install):
        missing = install_packages(packages)
    else:
        have = installed_packages(packages)
        missing = [p for p in packages if p not in have]
    if missing:
        # the data then differs from the documented counts: say so, but still write it
        print(f"{len(missing)} listed packages are not installed (run as root with --install): "
              + " ".join(missing), file=sys.stderr)

    stats = Counter()
    pairs, per_package, per_catalog = collect([p for p in packages if p not in missing], stats)
    test = read_test(args.test_dir)
    train, valid = split(pairs, test, stats)

    for side in ("en", "de"):     # byte for byte: the test set is never rewritten
        shutil.copyfile(os.path.join(args.test_dir, f"test.{side}"), os.path.join(args.out, f"test.{side}"))
    for name, part in (("train", train), ("valid", valid)):
        with open(os.path.join(args.out, f"{name}.en"), "w", encoding="utf-8") as fe, \
                open(os.path.join(args.out, f"{name}.de"), "w", encoding="utf-8") as fd:
            for s, t in part:
                fe.write(s + "\n")
                fd.write(t + "\n")
    for name, part in (("train", train), ("valid", valid), ("test", test)):
        stats[f"{name}_pairs"] = len(part)
        stats[f"{name}_src_words"] = sum(len(s.split()) for s, _ in part)
        stats[f"{name}_tgt_words"] = sum(len(t.split()) for _, t in part)
    stats["catalogs"] = sum(r["catalogs"] for r in per_package.values())
    stats["packages"] = len(per_package)
    with open(os.path.join(args.out, "stats.json"), "w") as f:
        json.dump({"stats": dict(stats), "per_package": per_package, "per_catalog": per_catalog,
                   "missing_packages": missing}, f, indent=1, sort_keys=True)
    for k in sorted(stats):
        print(f"{k:24s} {stats[k]}")
    if args.table:
        print(markdown_table(per_package))


if __name__ == "__main__":
    main()
