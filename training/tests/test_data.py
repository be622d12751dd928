"""Tests of training/data.py: the held-out exclusion, the gettext and LibreOffice-help sources and
their cleaning, per-package counts."""
import os
import struct
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import data  # noqa: E402


def write_mo(path, entries):
    """A little-endian .mo file with the given (msgid, msgstr) str pairs (sorted, as msgfmt does)."""
    entries = sorted((k.encode("utf-8"), v.encode("utf-8")) for k, v in entries)
    n = len(entries)
    orig_off = 28
    trans_off = orig_off + 8 * n
    pos = trans_off + 8 * n
    blob, otab, ttab = b"", b"", b""
    for k, _v in entries:
        otab += struct.pack("<2I", len(k), pos + len(blob))
        blob += k + b"\0"
    for _k, v in entries:
        ttab += struct.pack("<2I", len(v), pos + len(blob))
        blob += v + b"\0"
    with open(path, "wb") as f:
        f.write(struct.pack("<7I", 0x950412DE, 0, n, orig_off, trans_off, 0, 0) + otab + ttab + blob)


HEADER = ("", "Content-Type: text/plain; charset=UTF-8\n")


def fake_package(root, name, catalogs):
    """Install catalogs {file name: entries} under root and a dpkg file list naming them."""
    info = os.path.join(root, "info")
    os.makedirs(info, exist_ok=True)
    lc = os.path.join(root, "usr", "share", "locale", "de", "LC_MESSAGES")
    os.makedirs(lc, exist_ok=True)
    paths = []
    for fn, entries in catalogs.items():
        p = os.path.join(lc, fn)
        write_mo(p, entries)
        paths.append(p)
    with open(os.path.join(info, name + ":amd64.list"), "w") as f:
        f.write("\n".join([os.path.join(root, "usr", "share", "doc", name)] + paths) + "\n")
    return info


def test_heldout_exclusion_drops_every_variant_of_a_test_source():
    test = [("Open the selected file in a new window.", "Öffnet die gewählte Datei in einem neuen Fenster.")]
    pairs = [
        ("Open the selected file in a new window.", "Öffnet die ausgewählte Datei in einem neuen Fenster."),
        ("Open the selected file in a new window", "Die gewählte Datei in neuem Fenster öffnen"),
        ("OPEN the selected file, in a new window!", "Datei öffnen!"),
        ("Open the selected file in a new tab.", "Öffnet die gewählte Datei in einem neuen Tab."),
        ("Close", "Schließen"),
    ]
    stats = Counter()
    train, valid = data.split(pairs, test, stats)
    assert stats["test_overlap_dropped"] == 3
    kept = train + valid
    assert sorted(kept) == sorted(pairs[3:])
    assert data.norm_key(test[0][0]) not in {data.norm_key(s) for s, _ in kept}


def test_valid_takes_sentences_one_pair_per_source_and_never_trains_on_them():
    pairs = [(f"Sentence number {i} has several words", f"Satz Nummer {i} hat mehrere Wörter")
             for i in range(50)]
    pairs += [("Sentence number 7 has several words", "Satz 7 hat mehrere Wörter"), ("Save", "Speichern")]
    old = data.VALID_PAIRS
    data.VALID_PAIRS = 10
    try:
        train, valid = data.split(pairs, [("Something else entirely here", "Etwas anderes")], Counter())
    finally:
        data.VALID_PAIRS = old
    assert len(valid) == 10 and len({s for s, _ in valid}) == 10
    assert not ({data.norm_key(s) for s, _ in valid} & {data.norm_key(s) for s, _ in train})
    assert ("Save", "Speichern") in train
    # a validation source's other translations are used nowhere
    in_valid = any(s == "Sentence number 7 has several words" for s, _ in valid)
    assert len(train) + len(valid) == len(pairs) - (1 if in_valid else 0)


def test_gettext_cleaning_and_per_package_counts(tmp_path):
    entries_a = [HEADER,
                 ("_Open", "Ö_ffnen"),
                 ("Save &As…", "Speichern &unter…"),
                 ("menu\x04Quit", "Beenden"),
                 ("%d file\x00%d files", "%d Datei\x00%d Dateien"),
                 ("Month|May", "Mai"),
                 ("female^Elvish Sylph", "Sylphide"),
                 ("%s: %s", "%s: %s"),                                  # format only
                 ("Hello world again", "Hello world again"),            # untranslated
                 ("Help", "Hilfe und noch sehr viel mehr langer Text hier"),   # length ratio
                 ("Untranslated", "")]
    entries_b = [HEADER, ("_Open", "Ö_ffnen"), ("Print", "Drucken")]
    info = fake_package(str(tmp_path / "a"), "pkg-a", {"a.mo": entries_a})
    fake_package(str(tmp_path / "a"), "pkg-b", {"b.mo": entries_b})
    stats = Counter()
    pairs, per_package, per_catalog = data.collect(["pkg-a", "pkg-b", "pkg-absent"], stats, info_dir=info,
                                                   help_roots=("/nonexistent", "/nonexistent"))
    assert sorted(pairs) == sorted([("Open", "Öffnen"), ("Save As…", "Speichern unter…"), ("Quit", "Beenden"),
                                    ("%d file", "%d Datei"), ("May", "Mai"), ("Elvish Sylph", "Sylphide"),
                                    ("Print", "Drucken")])
    assert per_package["pkg-a"] == {"catalogs": 1, "raw": len(entries_a), "kept": 6, "unique": 6}
    # "Open" is kept by pkg-b too, but pkg-a gave it first
    assert per_package["pkg-b"] == {"catalogs": 1, "raw": 3, "kept": 2, "unique": 1}
    assert per_package["pkg-absent"] == {"catalogs": 0, "raw": 0, "kept": 0, "unique": 0}
    assert stats["format_only"] == 1 and stats["untranslated"] == 1 and stats["length_ratio"] == 1
    assert stats["header_or_empty"] == 3 and stats["duplicate"] == 1 and stats["kept"] == 7
    assert sum(per_catalog.values()) == 7


def test_same_catalog_in_two_packages_is_read_once(tmp_path):
    entries = [HEADER, ("Print", "Drucken")]
    info = fake_package(str(tmp_path / "r"), "one", {"x.mo": entries})
    fake_package(str(tmp_path / "s"), "two", {"x.mo": entries})
    os.replace(os.path.join(str(tmp_path / "s"), "info", "two:amd64.list"), os.path.join(info, "two:amd64.list"))
    stats = Counter()
    _pairs, per_package, _ = data.collect(["one", "two"], stats, info_dir=info, help_roots=("/x", "/x"))
    assert per_package["one"]["catalogs"] == 1 and per_package["two"]["catalogs"] == 0


def test_inline_context_is_removed_only_when_the_translation_lacks_it():
    assert data.strip_inline_context("Month|May", "Mai") == "May"
    assert data.strip_inline_context("?plural:Evenks", "Ewenken") == "Evenks"
    assert data.strip_inline_context("female^Mage", "Magierin") == "Mage"
    assert data.strip_inline_context("Yes|No", "Ja|Nein") == "Yes|No"
    assert data.strip_inline_context("Use ^ for powers", "Nutze ^") == "Use ^ for powers"


PAGE = """<!DOCTYPE html><html><head><title>{title}</title><script>var x = "{title}";</script></head><body>
<p dir="auto">{banner}</p>
<h1 id="hd_id1" dir="auto">{h1}</h1>
<p id="par_id2" class="paragraph" dir="auto">{p2a}<span class="menuitem">{menu}</span>{p2b}</p>
<p id="par_id3" class="paragraph" dir="auto">{p3a}<span class="switchinline"><span hidden="true" id="MACtextx_1" class="MAC">{mac}</span><span hidden="true" id="defaulttextx_1">{ctrl}</span></span>+N.</p>
<p id="par_id4" class="code" dir="auto">print("hi") # {code}</p>
<p id="par_id5" class="paragraph" dir="auto">{p5}</p>
<p id="par_id5" class="paragraph" dir="auto">{p5b}</p>
<p id="par_id6" class="paragraph" dir="auto">{p6}<br>&amp; {p6b}</p>
{extra}
</body></html>"""

EN = dict(title="Help", banner="LibreOffice Help", h1="Printing Documents", p2a="Choose ", menu="File - Print",
          p2b=" to print.", p3a="Press ", mac="Command", ctrl="Ctrl", code="say hello", p5="One text",
          p5b="Another text", p6="Line one", p6b="line two of the paragraph",
          extra='<p id="par_id7" class="paragraph">Only in English.</p>')
DE = dict(title="Hilfe", banner="Hilfe für LibreOffice", h1="Dokumente drucken", p2a="Wählen Sie ",
          menu="Datei - Drucken", p2b=", um zu drucken.", p3a="Drücken Sie ", mac="Befehl", ctrl="Strg",
          code="sag hallo", p5="Ein Text", p5b="Ein anderer Text", p6="Zeile eins", p6b="Zeile zwei des Absatzes",
          extra="")


def write_help(root):
    en_root, de_root = os.path.join(root, "en-US"), os.path.join(root, "de")
    for r, values in ((en_root, EN), (de_root, DE)):
        os.makedirs(os.path.join(r, "text", "swriter"), exist_ok=True)
        with open(os.path.join(r, "text", "swriter", "print.html"), "w", encoding="utf-8") as f:
            f.write(PAGE.format(**values))
    # a page that exists in one language only is not read
    with open(os.path.join(en_root, "text", "swriter", "only_en.html"), "w", encoding="utf-8") as f:
        f.write(PAGE.format(**EN))
    return en_root, de_root


def test_help_pages_align_by_id_and_keep_only_visible_default_text(tmp_path):
    en_root, de_root = write_help(str(tmp_path))
    assert data.help_pages(en_root, de_root) == [os.path.join("text", "swriter", "print.html")]
    stats = Counter()
    got = list(data.help_strings(os.path.join("text", "swriter", "print.html"), stats, en_root, de_root))
    assert got == [
        ("Printing Documents", "Dokumente drucken"),
        ("Choose File - Print to print.", "Wählen Sie Datei - Drucken, um zu drucken."),
        ("Press Ctrl+N.", "Drücken Sie Strg+N."),
        ("Line one & line two of the paragraph", "Zeile eins & Zeile zwei des Absatzes"),
    ]
    assert stats["help_unaligned"] == 1          # par_id7


def test_help_package_counts_and_no_accelerator_stripping(tmp_path):
    en_root, de_root = write_help(str(tmp_path / "help"))
    with open(os.path.join(en_root, "text", "swriter", "print.html"), "a", encoding="utf-8") as f:
        f.write('<p id="par_id9">Use the file_name variable.</p>')
    with open(os.path.join(de_root, "text", "swriter", "print.html"), "a", encoding="utf-8") as f:
        f.write('<p id="par_id9">Verwenden Sie die Variable file_name.</p>')
    info = str(tmp_path / "info")
    os.makedirs(info)
    open(os.path.join(info, data.HELP_PACKAGE + ".list"), "w").close()
    stats = Counter()
    pairs, per_package, _ = data.collect([data.HELP_PACKAGE], stats, info_dir=info, help_roots=(en_root, de_root))
    assert ("Use the file_name variable.", "Verwenden Sie die Variable file_name.") in pairs
    row = per_package[data.HELP_PACKAGE]
    assert row["help_pages"] == 1 and row["raw"] == 5 and row["kept"] == 5 and row["unique"] == 5


def test_shipped_test_set_is_read_unchanged():
    test = data.read_test()
    with open(os.path.join(data.TEST_DIR, "test.en"), encoding="utf-8") as f:
        assert [s for s, _ in test] == f.read().split("\n")[:-1]
    assert len(test) == 1500 and len({data.norm_key(s) for s, _ in test}) == 1500


def test_package_list_names_the_help_pair_and_the_old_sources():
    pkgs = data.read_package_list()
    assert len(pkgs) == len(set(pkgs))
    for p in (data.HELP_PACKAGE, "libreoffice-help-en-us", "libreoffice-l10n-de", "gcc-12-locales", "coreutils"):
        assert p in pkgs
