"""Tokenizers and text generation (ABI 2): specdec.Tokenizer and Session.generate_text.

Tokenizers are checked against Tests/Fixtures/tokenizers: every <name>/ has a
tokenizer.json (or SentencePiece tokenizer.model), ids.txt with the ids the reference
package produced for corpus.jsonl (every line_stride-th line, see meta.json; HF with
add_special_tokens=True, SentencePiece without), decode.txt with the reference decodes
that differ from the corpus text, and random.jsonl with decodes of random ids.

Text generation runs on ../shared/models/stories260K when present (golden.json holds
transformers' greedy text), and on the llama_f32 fixture with a tokenizer written in
Python.
"""

from __future__ import annotations

import gc
import json
import weakref

import pytest

import specdec
from specdec import _ffi
from specdec import session as session_module
from specdec import tokenizer as tokenizer_module

from conftest import REPO_ROOT, get_decoder

TOKENIZERS = REPO_ROOT / "Tests" / "Fixtures" / "tokenizers"
STORIES = REPO_ROOT.parent / "shared" / "models" / "stories260K"
LINES = 200  # corpus lines checked per tokenizer

HF_NAMES = (
    "bytelevel-bpe",
    "llama3-bpe",
    "qwen2-bpe",
    "metaspace-bpe",
    "metaspace-first-bpe",
    "unigram",
    "wordpiece",
    "precompiled-unigram",
)
SP_NAMES = ("sp-bpe", "sp-unigram")


@pytest.fixture(scope="session", autouse=True)
def text_api(lib):
    if not _ffi.has_function("specdec_generate_text"):
        pytest.skip(f"{_ffi.library_path()} predates the tokenizer API")


# ---------------------------------------------------------------------------
# Fixture readers
# ---------------------------------------------------------------------------


_CORPUS = []


def corpus():
    if not _CORPUS:
        with open(TOKENIZERS / "corpus.jsonl", encoding="utf-8") as f:
            _CORPUS.extend(json.loads(line) for line in f if line.strip())
    return _CORPUS


class TokenizerFixture:
    def __init__(self, name: str):
        self.name = name
        self.dir = TOKENIZERS / name
        self.sentencepiece = name in SP_NAMES
        self.file = self.dir / ("tokenizer.model" if self.sentencepiece else "tokenizer.json")
        if not self.file.is_file():
            pytest.skip(f"tokenizer fixture {self.file} is missing")
        with open(self.dir / "meta.json", encoding="utf-8") as f:
            self.meta = json.load(f)
        self.stride = int(self.meta.get("line_stride", 1))

    def cases(self, limit=LINES):
        """[(ids line, text, reference ids)] for the first `limit` lines of ids.txt."""
        texts = corpus()
        out = []
        with open(self.dir / "ids.txt", encoding="utf-8") as f:
            for line, row in enumerate(f):
                if line >= limit:
                    break
                out.append((line, texts[line * self.stride], [int(x) for x in row.split()]))
        return out

    def decode_differences(self):
        """{(ids line, skip): reference decode} where it differs from the corpus text."""
        diffs = {}
        with open(self.dir / "decode.txt", encoding="utf-8") as f:
            for row in f:
                if not row.strip():
                    continue
                line, skip, text = row.rstrip("\n").split("\t", 2)
                diffs[(int(line), skip == "1")] = json.loads(text)
        return diffs

    def skip_decode_recorded(self, line: int) -> bool:
        """Whether decode.txt covers the skip_special_tokens=True decode of `line`
        (see decode_diffs in tools/tokenizers/make_tokenizer_fixtures.py)."""
        if self.sentencepiece:
            return line % 2 == 0
        return line % (4 if self.name == "unigram" else 1) == 0


@pytest.fixture(params=HF_NAMES + SP_NAMES)
def fixture(request):
    return TokenizerFixture(request.param)


@pytest.fixture
def bpe():
    with specdec.Tokenizer.load(TokenizerFixture("bytelevel-bpe").file) as tok:
        yield tok


# ---------------------------------------------------------------------------
# Loaded tokenizers against the references
# ---------------------------------------------------------------------------


def test_encode_matches_reference_ids(fixture):
    with specdec.Tokenizer.load(fixture.file) as tok:
        assert tok.vocab_size == fixture.meta["vocab_size"] == len(tok)
        mismatches = []
        cases = fixture.cases()
        assert len(cases) == LINES
        for line, text, reference in cases:
            ids = tok.encode(text, add_special=not fixture.sentencepiece)
            if ids != reference:
                mismatches.append((line * fixture.stride, text, reference, ids))
        assert not mismatches, f"{len(mismatches)} lines differ, first: {mismatches[0]}"


def test_decode_round_trips(fixture):
    """decode(encode(text)) is the text, except where the reference decode differs
    (normalisation, unknown pieces), which decode.txt records."""
    differences = fixture.decode_differences()
    checked = 0
    with specdec.Tokenizer.load(fixture.file) as tok:
        for line, text, reference in fixture.cases():
            if not fixture.skip_decode_recorded(line):
                continue
            # SentencePiece has no skip option: the recorded decode is its plain one.
            skip = not fixture.sentencepiece
            expected = differences.get((line, True), text)
            assert tok.decode(reference, skip_special=skip) == expected, (line, text)
            assert tok.decode(tok.encode(text, add_special=not fixture.sentencepiece), skip_special=skip) == expected
            checked += 1
            if line % 16 == 0:  # the skip_special_tokens=False decode is recorded too
                assert tok.decode(reference, skip_special=False) == differences.get((line, False), text), line
    assert checked >= LINES // 4


def test_random_ids_decode_like_reference(fixture):
    with specdec.Tokenizer.load(fixture.file) as tok, open(fixture.dir / "random.jsonl", encoding="utf-8") as f:
        for row in f:
            case = json.loads(row)
            assert tok.decode(case["ids"], skip_special=False) == case["text"], case["ids"]
            if not fixture.sentencepiece:
                assert tok.decode(case["ids"], skip_special=True) == case["skip"], case["ids"]


def test_pieces_round_trip(fixture):
    with specdec.Tokenizer.load(fixture.file) as tok:
        for token in range(0, tok.vocab_size, 7):
            piece = tok.token_to_piece(token)
            assert isinstance(piece, str) and piece
            assert tok.piece_to_token(piece) == token
            assert piece in tok
        assert "surely-not-a-piece-\U0001F600" not in tok
        with pytest.raises(specdec.InvalidArgumentError, match="vocabulary"):
            tok.piece_to_token("surely-not-a-piece-\U0001F600")


def test_special_tokens():
    tok = specdec.Tokenizer.load(TokenizerFixture("sp-bpe").file)
    meta = TokenizerFixture("sp-bpe").meta
    assert (tok.bos_token, tok.eos_token, tok.unk_token, tok.pad_token) == (
        meta["bos"], meta["eos"], meta["unk"], meta["pad"])
    assert tok.special_token("BOS") == tok.special_token(_ffi.SPECDEC_TOKEN_BOS) == meta["bos"]
    with pytest.raises(specdec.InvalidArgumentError):
        tok.special_token("cls")
    tok.close()


def test_load_a_directory_and_errors(tmp_path):
    with specdec.Tokenizer.load(TOKENIZERS / "bytelevel-bpe") as tok:
        assert tok.encode("hello world", add_special=False)
    with pytest.raises(specdec.SpecDecIOError):
        specdec.Tokenizer.load(tmp_path / "missing" / "tokenizer.json")
    (tmp_path / "tokenizer.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(specdec.FormatError):
        specdec.Tokenizer.load(tmp_path / "tokenizer.json")
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Tokenizer.load("bad\0path")
    with pytest.raises(TypeError):
        specdec.Tokenizer()


def test_invalid_utf8_is_refused(bpe):
    with pytest.raises(specdec.InvalidUTF8Error, match="UTF-8") as info:
        bpe.encode(b"a\xffb")
    assert info.value.code == _ffi.SPECDEC_ERR_INVALID_UTF8
    assert isinstance(info.value, ValueError)
    with pytest.raises(specdec.InvalidUTF8Error):
        bpe.encode(b"\xe2\x82")  # a character cut short
    with pytest.raises(specdec.InvalidUTF8Error):
        bpe.encode("lone \ud800 surrogate")  # a str that has no UTF-8 form
    # Valid bytes and the same str encode alike; bytearray and memoryview work too.
    text = "naïve café €"
    ids = bpe.encode(text)
    assert bpe.encode(text.encode("utf-8")) == ids
    assert bpe.encode(bytearray(text.encode("utf-8"))) == ids
    assert bpe.encode(memoryview(text.encode("utf-8"))) == ids
    assert bpe.encode("") == bpe.encode(b"")
    assert bpe.decode_bytes(ids) == text.encode("utf-8")


def test_ids_out_of_range_are_refused(bpe):
    vocab = bpe.vocab_size
    with pytest.raises(specdec.TokenOutOfRangeError, match="vocabulary"):
        bpe.decode([1, vocab])
    with pytest.raises(specdec.TokenOutOfRangeError):
        bpe.decode([-1])
    with pytest.raises(specdec.TokenOutOfRangeError, match="int32"):
        bpe.decode([2**40])  # would wrap to a valid id in ctypes
    with pytest.raises(specdec.SpecDecError):
        bpe.token_to_piece(vocab)
    with pytest.raises(specdec.InvalidArgumentError):
        bpe.decode(["a"])
    assert bpe.decode([]) == ""


def test_long_text_grows_the_buffers(bpe):
    text = " ".join(corpus()[:400])
    ids = bpe.encode(text, add_special=False)
    assert len(ids) > 1000
    assert bpe.decode(ids) == text


def test_closed_tokenizer(bpe):
    tok = specdec.Tokenizer.load(TOKENIZERS / "bytelevel-bpe" / "tokenizer.json")
    tok.close()
    tok.close()  # idempotent
    assert tok.closed and "closed" in repr(tok)
    with pytest.raises(specdec.ClosedError):
        tok.encode("x")


# ---------------------------------------------------------------------------
# Host tokenizers
# ---------------------------------------------------------------------------


class WordTokenizer:
    """A whitespace tokenizer over the words "w0" .. "w{n-1}"; id 1 is BOS."""

    BOS = 1

    def __init__(self, vocab_size: int):
        self.words = [f"w{i}" for i in range(vocab_size)]
        self.index = {w: i for i, w in enumerate(self.words)}
        self.encodes = 0
        self.decodes = 0

    def encode(self, text, add_special):
        self.encodes += 1
        ids = [self.index[word] for word in text.split()]
        return ([self.BOS] if add_special else []) + ids

    def decode(self, ids, skip_special):
        self.decodes += 1
        return "".join(" " + self.words[i] for i in ids if not (skip_special and i == self.BOS))

    def text(self, ids):
        return " ".join(self.words[i] for i in ids)


def test_host_tokenizer_encode_decode():
    words = WordTokenizer(300)
    with specdec.Tokenizer.from_python(words, 300) as tok:
        assert tok.vocab_size == 300
        assert tok.encode("w5 w6  w7") == [1, 5, 6, 7]
        assert tok.encode("w5 w6", add_special=False) == [5, 6]
        assert tok.decode([5, 1, 6]) == " w5 w6"
        assert tok.decode([5, 1, 6], skip_special=False) == " w5 w1 w6"
        long = " ".join(f"w{i % 300}" for i in range(5000))  # retried with a larger buffer
        assert tok.encode(long, add_special=False) == [i % 300 for i in range(5000)]
        assert tok.decode([i % 300 for i in range(5000)], skip_special=False) == " " + long
        with pytest.raises(specdec.TokenOutOfRangeError):
            tok.decode([300])


def test_host_tokenizer_failures_become_callback_errors():
    class Failing(WordTokenizer):
        def encode(self, text, add_special):
            raise KeyError(text)

    with specdec.Tokenizer.from_python(Failing(10), 10) as tok:
        with pytest.raises(specdec.CallbackError) as info:
            tok.encode("w1 w2")
        assert isinstance(info.value.__cause__, KeyError)
        assert "KeyError" in str(info.value)
        assert tok.decode([2, 3]) == " w2 w3"  # still usable

    class OutOfRange(WordTokenizer):
        def encode(self, text, add_special):
            return [10**6]

    with specdec.Tokenizer.from_python(OutOfRange(10), 10) as tok:
        with pytest.raises(specdec.SpecDecError, match="1000000"):
            tok.encode("w1")

    class NotIds(WordTokenizer):
        def encode(self, text, add_special):
            return "w1"

        def decode(self, ids, skip_special):
            return 42

    with specdec.Tokenizer.from_python(NotIds(10), 10) as tok:
        with pytest.raises(specdec.CallbackError) as info:
            tok.encode("w1")
        assert isinstance(info.value.__cause__, TypeError)
        with pytest.raises(specdec.CallbackError) as info:
            tok.decode([1])
        assert isinstance(info.value.__cause__, TypeError)

    with pytest.raises(specdec.InvalidArgumentError, match="encode"):
        specdec.Tokenizer.from_python(object(), 10)
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.Tokenizer.from_python(WordTokenizer(10), 0)


def test_raw_host_decode_failure_status():
    """The C status itself (the bindings' CallbackError does not depend on it)."""
    import ctypes

    class Failing(WordTokenizer):
        def decode(self, ids, skip_special):
            raise RuntimeError("no")

    with specdec.Tokenizer.from_python(Failing(10), 10) as tok:
        ids = (ctypes.c_int32 * 2)(2, 3)
        buf = ctypes.create_string_buffer(64)
        n = ctypes.c_size_t(0)
        code = _ffi.lib().specdec_detokenize(tok._handle(), ids, 2, 1, buf, 64, ctypes.byref(n))
        tokenizer_module.clear_host_failure()
        assert code == _ffi.SPECDEC_ERR_CALLBACK


def test_host_tokenizer_is_released_with_its_last_reference():
    words = WordTokenizer(10)
    ref = weakref.ref(words)
    tok = specdec.Tokenizer.from_python(words, 10)
    del words
    gc.collect()
    assert ref() is not None  # kept alive by the C tokenizer
    tok.close()
    gc.collect()
    assert ref() is None
    assert not tokenizer_module._HOSTS


def test_generate_text_with_a_host_tokenizer():
    """generate_text with a Python tokenizer on the llama_f32 fixture equals generate on
    the ids the tokenizer produces, decoded by it; the streamed pieces concatenate to the
    result."""
    llama = get_decoder("llama_f32")
    vocab = llama.model.vocab_size
    words = WordTokenizer(vocab)
    prompt = words.text(llama.prompt)
    with specdec.Tokenizer.from_python(words, vocab) as tok, specdec.Session(llama.model, n_threads=1) as session:
        pieces = []
        text = session.generate_text(
            prompt, max_new_tokens=12, stop_at_eos=False, tokenizer=tok, add_special_tokens=False,
            on_text=pieces.append,
        )
        assert text == words.decode(llama.greedy[:12], True)
        assert "".join(pieces) == text and len(pieces) >= 2
        assert session.text == text
        assert session.stats.generated_tokens == 12
        assert session.tokens[: len(llama.prompt)] == llama.prompt
        # With the template (BOS first), speculatively: the ids are those of generate().
        ids = session.generate([WordTokenizer.BOS] + llama.prompt, max_new_tokens=10, stop_at_eos=False)
        text = session.generate_text(prompt, max_new_tokens=10, stop_at_eos=False, tokenizer=tok, drafter="suffix")
        assert text == words.decode(ids, True)
        # A Python drafter (proposing the ids generate() gave: all accepted).
        class Known(specdec.Drafter):
            def propose(self, tokens, n_prompt, max_tokens):
                done = len(tokens) - n_prompt
                return ids[done : done + max_tokens]

        with Known() as known:
            text = session.generate_text(prompt, max_new_tokens=10, stop_at_eos=False, tokenizer=tok, drafter=known)
        assert text == words.decode(ids, True)
        assert session.stats.accepted_tokens > 0
        # on_token streams the ids alongside the text.
        seen = []
        session.generate_text(prompt, max_new_tokens=5, stop_at_eos=False, tokenizer=tok,
                              on_token=lambda token, index: seen.append(token))
        assert seen == ids[:5]

        # A failing host tokenizer: CallbackError from its exception; the session stays usable.
        class Failing(WordTokenizer):
            def decode(self, ids, skip_special):
                if len(ids) > 2:
                    raise RuntimeError("decoder broke")
                return super().decode(ids, skip_special)

        with specdec.Tokenizer.from_python(Failing(vocab), vocab) as bad:
            with pytest.raises(specdec.CallbackError) as info:
                session.generate_text(prompt, max_new_tokens=8, stop_at_eos=False, tokenizer=bad)
            assert isinstance(info.value.__cause__, RuntimeError)
        assert session.generate_text(prompt, max_new_tokens=3, stop_at_eos=False, tokenizer=tok)


def test_generate_text_needs_a_tokenizer():
    llama = get_decoder("llama_f32")
    with specdec.Session(llama.model, n_threads=1) as session:
        with pytest.raises(specdec.UnsupportedError, match="tokenizer"):
            llama.model.tokenizer
        with pytest.raises(specdec.UnsupportedError, match="tokenizer"):
            session.generate_text("hello")
        with pytest.raises(specdec.InvalidArgumentError):
            session.generate_text("hello", tokenizer="not a tokenizer")


# ---------------------------------------------------------------------------
# stories260K (../shared/models/stories260K, when present)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stories():
    if not (STORIES / "config.json").is_file() or not (STORIES / "golden.json").is_file():
        pytest.skip(f"{STORIES} is absent: the stories260K text generation tests need it")
    with open(STORIES / "golden.json", encoding="utf-8") as f:
        golden = json.load(f)
    with specdec.Model(STORIES) as model:
        yield model, golden["cases"]


@pytest.fixture
def stories_session(stories):
    model, cases = stories
    with specdec.Session(model, n_threads=1) as session:
        yield session, cases


def test_stories_tokenizer_matches_reference(stories):
    model, cases = stories
    with model.tokenizer as tok:
        assert tok.vocab_size == model.vocab_size
        assert tok.bos_token == model.bos_token
        for case in cases:
            assert tok.encode(case["prompt"]) == case["prompt_ids"]
            assert tok.decode(case["greedy_ids"]) == case["greedy_text"]
    texts = corpus()
    for kind, path, add_special in (("hf", "tokenizer.json", True), ("sp", "tokenizer.model", False)):
        if not (STORIES / path).is_file():
            continue
        with specdec.Tokenizer.load(STORIES / path) as tok, open(
            TOKENIZERS / f"stories260K.{kind}.ids.txt", encoding="utf-8"
        ) as f:
            for line, row in enumerate(f):
                if line >= LINES:
                    break
                text = texts[line * 6]  # every sixth corpus line
                assert tok.encode(text, add_special=add_special) == [int(x) for x in row.split()], (kind, line)


def test_generate_text_matches_golden(stories_session):
    session, cases = stories_session
    for case in cases:
        pieces = []
        text = session.generate_text(case["prompt"], max_new_tokens=64, stop_at_eos=False, on_text=pieces.append)
        assert text == case["greedy_text"]
        assert "".join(pieces) == text
        assert len(pieces) > 10
        assert session.stats.generated_tokens == 64
        assert session.text == text
        cached = session.tokens
        assert cached[: len(case["prompt_ids"])] == case["prompt_ids"]
        assert cached[len(case["prompt_ids"]):] == case["greedy_ids"][: len(cached) - len(case["prompt_ids"])]


@pytest.mark.parametrize("drafter", ["suffix", "ngram"])
def test_generate_text_speculative_matches_golden(stories_session, drafter):
    session, cases = stories_session
    case = cases[0]
    pieces = []
    text = session.generate_text(
        case["prompt"], max_new_tokens=64, stop_at_eos=False, on_text=pieces.append, drafter=drafter
    )
    assert text == case["greedy_text"]
    assert "".join(pieces) == text
    stats = session.stats
    assert stats.generated_tokens == 64
    assert stats.target_calls + stats.accepted_tokens == 63


def test_generate_text_long_output_comes_from_session_text(stories_session, monkeypatch):
    """A text longer than the first buffer is fetched with specdec_session_text."""
    session, cases = stories_session
    monkeypatch.setattr(session_module, "_initial_text_cap", lambda max_new_tokens: 4)
    case = cases[0]
    assert session.generate_text(case["prompt"], max_new_tokens=64, stop_at_eos=False) == case["greedy_text"]
    assert session.generate_text(case["prompt"], max_new_tokens=64, stop_at_eos=False,
                                 drafter="suffix") == case["greedy_text"]


def test_generate_text_with_explicit_tokenizer(stories_session):
    session, cases = stories_session
    case = cases[0]
    with specdec.Tokenizer.load(STORIES / "tokenizer.json") as tok:
        assert session.generate_text(case["prompt"], max_new_tokens=64, stop_at_eos=False,
                                     tokenizer=tok) == case["greedy_text"]
    # The prompt as UTF-8 bytes.
    assert session.generate_text(case["prompt"].encode(), max_new_tokens=64,
                                 stop_at_eos=False) == case["greedy_text"]


def test_on_text_can_stop(stories_session):
    session, cases = stories_session
    pieces = []

    def on_text(piece):
        pieces.append(piece)
        return len(pieces) == 3

    text = session.generate_text(cases[0]["prompt"], max_new_tokens=64, stop_at_eos=False, on_text=on_text)
    assert len(pieces) == 3
    assert text == "".join(pieces)
    assert cases[0]["greedy_text"].startswith(text)
    assert session.stats.stop_reason_name == "callback"


def test_on_text_exception_is_chained_and_session_survives(stories_session):
    session, cases = stories_session
    seen = []

    def on_text(piece):
        seen.append(piece)
        if len(seen) == 4:
            raise ValueError("stop right there")

    with pytest.raises(specdec.CallbackError) as info:
        session.generate_text(cases[0]["prompt"], max_new_tokens=64, stop_at_eos=False, on_text=on_text)
    err = info.value
    assert err.code == _ffi.SPECDEC_ERR_CALLBACK
    assert isinstance(err.__cause__, ValueError)
    assert "stop right there" in str(err)
    assert err.text == "".join(seen)
    assert cases[0]["greedy_text"].startswith(err.text)
    # KeyboardInterrupt is not wrapped.
    def interrupt(piece):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        session.generate_text(cases[0]["prompt"], max_new_tokens=8, on_text=interrupt)
    # Still usable, and re-entrant calls from the callback are refused.
    assert session.generate_text(cases[0]["prompt"], max_new_tokens=64, stop_at_eos=False) == cases[0]["greedy_text"]

    def reenter(piece):
        session.generate_text("x", max_new_tokens=1)

    with pytest.raises(specdec.CallbackError) as info:
        session.generate_text(cases[0]["prompt"], max_new_tokens=4, on_text=reenter)
    assert isinstance(info.value.__cause__, specdec.InvalidArgumentError)


def test_bad_prompts(stories_session):
    session, cases = stories_session
    with pytest.raises(specdec.InvalidUTF8Error):
        session.generate_text(b"Once \xff upon", max_new_tokens=4)
    with pytest.raises(specdec.InvalidArgumentError, match="NUL"):
        session.generate_text("Once\0upon", max_new_tokens=4)
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate_text("Once", max_new_tokens=4, on_text=42)
    assert session.generate_text(cases[0]["prompt"], max_new_tokens=64, stop_at_eos=False) == cases[0]["greedy_text"]
