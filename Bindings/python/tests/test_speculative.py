"""Speculative decoding (ABI 2): built-in drafters, Python drafters, the C drafter plugin
of examples/plugins, and a Python verifier driven by generate_with_verifier.

Greedy acceptance must reproduce plain greedy decoding exactly, whatever drafts. The
fixture models are tiny random models, so a repetitive prompt (the reference prompt
twice) is used to give prompt lookup something to find."""

from __future__ import annotations

import shutil
import subprocess

import pytest

import specdec
from specdec import _ffi

from conftest import REPO_ROOT, fixture_dir, get_decoder

N = 40
PLUGIN_DIR = REPO_ROOT / "examples" / "plugins"


def repetitive(decoder):
    return decoder.prompt + decoder.prompt


@pytest.fixture
def case(decoder):
    """(decoder, session, prompt, plain greedy ids, plain stats)."""
    prompt = repetitive(decoder)
    with specdec.Session(decoder.model, n_threads=1) as session:
        plain = session.generate(prompt, N, stop_at_eos=False)
        yield decoder, session, prompt, plain, session.stats


@pytest.fixture
def llama_case():
    decoder = get_decoder("llama_f32")
    prompt = repetitive(decoder)
    with specdec.Session(decoder.model, n_threads=1) as session:
        plain = session.generate(prompt, N, stop_at_eos=False)
        yield decoder, session, prompt, plain, session.stats


@pytest.fixture(scope="module")
def draft_model():
    with specdec.Model(fixture_dir("llama_f16")) as model:
        yield model


def check_speculative_stats(stats, draft_length=5, expect_drafts=True):
    assert stats.generated_tokens == N
    assert stats.stop_reason_name == "max_tokens"
    assert 1 <= stats.target_calls <= stats.generated_tokens
    assert 0 <= stats.accepted_tokens <= stats.drafted_tokens
    if expect_drafts:
        assert stats.drafted_tokens > 0
    assert stats.tokens_per_target_call == pytest.approx((stats.generated_tokens - 1) / stats.target_calls)
    # Every generated token after the first came from a target call or an accepted draft.
    assert stats.target_calls + stats.accepted_tokens == stats.generated_tokens - 1
    assert len(stats.acceptance_by_depth) <= draft_length
    assert all(0.0 <= r <= 1.0 for r in stats.acceptance_by_depth)
    assert stats.draft_seconds >= 0 and stats.verify_seconds >= 0 and stats.sample_seconds >= 0


# ---------------------------------------------------------------------------
# Python drafters used below
# ---------------------------------------------------------------------------


class PromptLookup(specdec.Drafter):
    """Prompt lookup in Python: propose what followed the most recent earlier occurrence
    of the last n tokens (n = max_ngram .. 1)."""

    def __init__(self, max_ngram=3):
        self.max_ngram = max_ngram
        self.calls = 0
        self.proposed = 0
        self.accepted_tokens = 0
        self.begun = 0

    def find(self, tokens, max_tokens, skip=0):
        found = 0
        for n in range(self.max_ngram, 0, -1):
            if len(tokens) <= n:
                continue
            tail = tokens[-n:]
            for start in range(len(tokens) - n - 1, -1, -1):
                if tokens[start : start + n] == tail:
                    if found == skip:
                        return tokens[start + n : start + n + max_tokens]
                    found += 1
        return []

    def propose(self, tokens, n_prompt, max_tokens):
        self.calls += 1
        assert 0 < n_prompt <= len(tokens)
        draft = self.find(tokens, max_tokens)
        self.proposed += len(draft)
        return draft

    def begin(self, tokens, n_prompt):
        self.begun += 1

    def accepted(self, path, next_token):
        assert path == list(range(len(path)))  # a chain: nodes 0, 1, ... in order
        self.accepted_tokens += len(path)


class TreeLookup(PromptLookup):
    """Proposes a tree: the two most recent lookup continuations as two branches."""

    def __init__(self):
        super().__init__()
        self.trees = 0

    def propose(self, tokens, n_prompt, max_tokens):
        first = self.find(tokens, max_tokens)
        second = self.find(tokens, max_tokens, skip=1)
        if not first:
            return []
        half = max(1, max_tokens // 2)
        first = first[: max_tokens - min(len(second), half)] if second else first
        second = second[: max_tokens - len(first)]
        tokens_out = list(first)
        parents = list(range(-1, len(first) - 1))
        if second:
            self.trees += 1
            base = len(tokens_out)
            tokens_out += second
            parents += [-1] + list(range(base, base + len(second) - 1))
        return tokens_out, parents

    def accepted(self, path, next_token):
        self.accepted_tokens += len(path)


class Failing(specdec.Drafter):
    def __init__(self, mode):
        self.mode = mode

    def propose(self, tokens, n_prompt, max_tokens):
        if len(tokens) < n_prompt + 3:  # let a few tokens through first
            return []
        if self.mode == "raise":
            raise RuntimeError("drafter exploded")
        if self.mode == "vocab":
            return [256]
        if self.mode == "negative":
            return [-1]
        if self.mode == "int64":
            return [2**40]
        if self.mode == "too_many":
            return [1] * (max_tokens + 1)
        if self.mode == "parents":
            return [1, 2], [-1, 7]
        if self.mode == "type":
            return 3.5
        raise AssertionError(self.mode)


# ---------------------------------------------------------------------------
# Built-in drafters
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("drafter", ["ngram", "suffix"])
def test_builtin_drafter_reproduces_greedy(case, drafter):
    decoder, session, prompt, plain, plain_stats = case
    ids = session.generate(prompt, N, stop_at_eos=False, drafter=drafter)
    assert ids == plain, f"{decoder.name} {drafter}"
    stats = session.stats
    check_speculative_stats(stats)
    assert stats.accepted_tokens > 0, f"{decoder.name} {drafter}: the repetitive prompt gives matches"
    assert stats.target_calls < plain_stats.target_calls
    assert stats.acceptance_by_depth == session.acceptance_by_depth
    assert stats.acceptance_by_depth[0] > 0


def test_plain_stats_have_no_speculation(case):
    _, session, _, _, plain_stats = case
    assert plain_stats.target_calls == N - 1
    assert plain_stats.drafted_tokens == plain_stats.accepted_tokens == 0
    assert plain_stats.tokens_per_target_call == pytest.approx(1.0)
    assert plain_stats.acceptance_by_depth == ()
    assert plain_stats.acceptance_rate == 0.0


def test_model_drafter_reproduces_greedy(llama_case, draft_model):
    _, session, prompt, plain, _ = llama_case
    ids = session.generate(prompt, N, stop_at_eos=False, drafter="model", draft_model=draft_model)
    assert ids == plain
    check_speculative_stats(session.stats)
    # Shorthands: a Model as the drafter, or draft_model alone.
    assert session.generate(prompt, N, stop_at_eos=False, drafter=draft_model) == plain
    assert session.generate(prompt, N, stop_at_eos=False, draft_model=draft_model, draft_length=2) == plain
    check_speculative_stats(session.stats, draft_length=2)


def test_model_drafter_identical_to_target_accepts_everything(llama_case):
    decoder, session, prompt, plain, _ = llama_case
    ids = session.generate(prompt, N, stop_at_eos=False, drafter=decoder.model, draft_length=4)
    assert ids == plain
    stats = session.stats
    check_speculative_stats(stats, draft_length=4)
    assert stats.accepted_tokens == stats.drafted_tokens > 0
    assert stats.acceptance_rate == 1.0
    assert stats.target_calls <= N // 4
    assert all(r == 1.0 for r in stats.acceptance_by_depth)


def test_model_drafter_needs_a_draft_model(llama_case):
    _, session, prompt, plain, _ = llama_case
    with pytest.raises(specdec.InvalidArgumentError) as info:
        session.generate(prompt, N, drafter="model")
    assert info.value.code == _ffi.SPECDEC_ERR_INVALID_ARGUMENT and "draft_model" in info.value.message
    assert session.generate(prompt, N, stop_at_eos=False) == plain


def test_topk_with_beta_1_equals_greedy(case):
    _, session, prompt, plain, _ = case
    for drafter in ("ngram", PromptLookup()):
        assert session.generate(prompt, N, stop_at_eos=False, drafter=drafter, acceptance="topk", beta=1, tau=3.0) == plain


def test_draft_length_zero_and_drafter_none_equal_plain(case):
    _, session, prompt, plain, plain_stats = case
    assert session.generate(prompt, N, stop_at_eos=False, drafter="ngram", draft_length=0) == plain
    assert session.stats.drafted_tokens == 0 and session.stats.target_calls == plain_stats.target_calls
    assert session.generate(prompt, N, stop_at_eos=False, drafter="none") == plain
    assert session.stats.drafted_tokens == 0
    lookup = PromptLookup()
    assert session.generate(prompt, N, stop_at_eos=False, drafter=lookup, draft_length=0) == plain
    assert lookup.proposed == 0


def test_adaptive_and_ngram_options_keep_greedy_output(case):
    _, session, prompt, plain, _ = case
    assert session.generate(prompt, N, stop_at_eos=False, drafter="ngram", adaptive=True) == plain
    assert session.generate(prompt, N, stop_at_eos=False, drafter="ngram", ngram_min=2, ngram_max=4) == plain
    assert session.generate(prompt, N, stop_at_eos=False, drafter=specdec._ffi.SPECDEC_DRAFTER_SUFFIX) == plain


def test_speculative_sampling_is_seeded(llama_case):
    _, session, prompt, _, _ = llama_case
    kwargs = dict(temperature=0.8, top_k=40, seed=11, stop_at_eos=False, drafter="ngram", acceptance="sample")
    a = session.generate(prompt, N, **kwargs)
    b = session.generate(prompt, N, **kwargs)
    assert a == b and len(a) == N and all(0 <= t < 256 for t in a)
    assert session.stats.drafted_tokens > 0


def test_bad_option_values(llama_case):
    _, session, prompt, plain, _ = llama_case
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(prompt, N, drafter="medusa")
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(prompt, N, drafter="ngram", acceptance="typical")
    with pytest.raises(specdec.InvalidArgumentError):
        session.generate(prompt, N, drafter="custom")
    with pytest.raises(specdec.InvalidArgumentError) as info:
        session.generate(prompt, N, drafter="ngram", draft_length=-1)
    assert info.value.code == _ffi.SPECDEC_ERR_INVALID_ARGUMENT  # from the library
    assert session.generate(prompt, N, stop_at_eos=False) == plain


# ---------------------------------------------------------------------------
# Python drafters
# ---------------------------------------------------------------------------


def test_python_drafter_reproduces_greedy(case):
    decoder, session, prompt, plain, _ = case
    lookup = PromptLookup()
    ids = session.generate(prompt, N, stop_at_eos=False, drafter=lookup)
    assert ids == plain, decoder.name
    stats = session.stats
    check_speculative_stats(stats)
    assert lookup.calls > 0 and lookup.begun == 1
    assert stats.drafted_tokens == lookup.proposed
    assert stats.accepted_tokens == lookup.accepted_tokens > 0
    # The same drafter serves the next call too (and with the built-in's results).
    assert session.generate(prompt, N, stop_at_eos=False, drafter=lookup) == plain
    assert lookup.begun == 2
    with specdec.Session(decoder.model, n_threads=1) as other:
        other.generate(prompt, N, stop_at_eos=False, drafter="ngram")
        assert other.stats.accepted_tokens == stats.accepted_tokens  # same algorithm
    lookup.close()
    assert lookup.closed
    with pytest.raises(specdec.ClosedError):
        session.generate(prompt, N, drafter=lookup)


def test_python_tree_drafter_reproduces_greedy(case):
    _, session, prompt, plain, _ = case
    tree = TreeLookup()
    assert session.generate(prompt, N, stop_at_eos=False, drafter=tree) == plain
    assert tree.trees > 0, "some proposals were trees"
    check_speculative_stats(session.stats)
    assert session.stats.accepted_tokens == tree.accepted_tokens


def test_python_drafter_with_probabilities_for_sampling(llama_case):
    """A drafter may hand over the distributions it sampled from (one row per node)."""
    _, session, prompt, _, _ = llama_case

    class WithProbabilities(PromptLookup):
        wanted = 0

        def propose(self, tokens, n_prompt, max_tokens):
            draft = super().propose(tokens, n_prompt, max_tokens)
            rows = []
            for token in draft:
                row = [0.0] * 256
                row[token] = 1.0
                rows.append(row)
            self.wanted += 1
            return draft, list(range(-1, len(draft) - 1)), rows

    drafter = WithProbabilities()
    ids = session.generate(prompt, N, temperature=0.7, seed=5, stop_at_eos=False, drafter=drafter, acceptance="sample")
    assert len(ids) == N and drafter.wanted > 0
    assert session.stats.drafted_tokens == drafter.proposed


@pytest.mark.parametrize("mode", ["raise", "vocab", "negative", "int64", "too_many", "parents", "type"])
def test_failing_python_drafter_is_a_callback_error(case, mode):
    _, session, prompt, plain, _ = case
    with pytest.raises(specdec.SpecDecError) as info:
        session.generate(prompt, N, stop_at_eos=False, drafter=Failing(mode))
    err = info.value
    assert isinstance(err, specdec.CallbackError)
    assert err.code == _ffi.SPECDEC_ERR_CALLBACK
    assert err.message
    assert 1 <= len(err.tokens) < N and err.tokens == plain[: len(err.tokens)]
    if mode == "raise":
        assert isinstance(err.__cause__, RuntimeError) and "drafter exploded" in str(err)
    elif mode in ("too_many", "int64", "type"):
        # Caught by the bindings before anything reaches the C buffers.
        assert isinstance(err.__cause__, (ValueError, TypeError))
    else:
        # Range and tree checks are the library's.
        assert err.__cause__ is None
    # The session is fine afterwards, with and without speculation.
    assert session.generate(prompt, N, stop_at_eos=False) == plain
    assert session.generate(prompt, N, stop_at_eos=False, drafter=PromptLookup()) == plain


def test_exception_in_accepted_is_reported(llama_case):
    _, session, prompt, plain, _ = llama_case

    class BadAccepted(PromptLookup):
        def accepted(self, path, next_token):
            raise KeyError("accepted failed")

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(prompt, N, stop_at_eos=False, drafter=BadAccepted())
    assert isinstance(info.value.__cause__, KeyError)
    assert session.generate(prompt, N, stop_at_eos=False, drafter=PromptLookup()) == plain


def test_base_exception_in_drafter_is_reraised_as_is(llama_case):
    _, session, prompt, plain, _ = llama_case

    class Stop(BaseException):
        pass

    class Interrupting(specdec.Drafter):
        def propose(self, tokens, n_prompt, max_tokens):
            raise Stop()

    with pytest.raises(Stop):
        session.generate(prompt, N, stop_at_eos=False, drafter=Interrupting())
    assert session.generate(prompt, N, stop_at_eos=False) == plain


def test_drafter_without_propose_and_busy_drafter(llama_case):
    decoder, session, prompt, plain, _ = llama_case

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(prompt, N, stop_at_eos=False, drafter=specdec.Drafter())
    assert isinstance(info.value.__cause__, NotImplementedError)

    # A drafter serves one call at a time: using it from inside its own call is refused.
    class Nested(PromptLookup):
        def propose(self, tokens, n_prompt, max_tokens):
            with specdec.Session(decoder.model, n_threads=1) as inner:
                inner.generate(tokens[:n_prompt], 2, drafter=self)
            return []

    with pytest.raises(specdec.CallbackError) as info:
        session.generate(prompt, N, stop_at_eos=False, drafter=Nested())
    assert isinstance(info.value.__cause__, specdec.InvalidArgumentError)
    assert "already used" in str(info.value.__cause__)
    assert session.generate(prompt, N, stop_at_eos=False) == plain


def test_on_token_and_drafter_together(llama_case):
    _, session, prompt, plain, _ = llama_case
    seen = []
    ids = session.generate(
        prompt, N, stop_at_eos=False, drafter=PromptLookup(), on_token=lambda t, i: seen.append((i, t))
    )
    assert ids == plain and seen == list(enumerate(plain))
    # Stopping from the callback works with speculation too.
    ids = session.generate(prompt, N, stop_at_eos=False, drafter="ngram", on_token=lambda t, i: i == 9)
    assert ids == plain[:10] and session.stats.stop_reason_name == "callback"


# ---------------------------------------------------------------------------
# The C plugin of examples/plugins
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_build(tmp_path_factory):
    if shutil.which("make") is None or (shutil.which("gcc") is None and shutil.which("cc") is None):
        pytest.skip("make and a C compiler are needed to build examples/plugins")
    build = tmp_path_factory.mktemp("plugins")
    proc = subprocess.run(["make", "-s", "-C", str(PLUGIN_DIR), f"BUILD={build}"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    plugin = build / "lookup_drafter.so"
    assert plugin.is_file()
    # A shared object that is not a plugin (no specdec_plugin_entry).
    src = build / "no_entry.c"
    src.write_text("int not_a_drafter(void);\nint not_a_drafter(void) { return 42; }\n")
    cc = shutil.which("gcc") or shutil.which("cc")
    subprocess.run([cc, "-fPIC", "-shared", str(src), "-o", str(build / "no_entry.so")], check=True)
    return build


def test_c_plugin_reproduces_greedy(case, plugin_build):
    decoder, session, prompt, plain, _ = case
    with specdec.load_drafter_plugin(plugin_build / "lookup_drafter.so", "max_ngram=3") as plugin:
        assert isinstance(plugin, specdec.PluginDrafter)
        ids = session.generate(prompt, N, stop_at_eos=False, drafter=plugin, acceptance="greedy")
        assert ids == plain, decoder.name
        stats = session.stats
        check_speculative_stats(stats)
        assert stats.accepted_tokens > 0
        # Same algorithm as the ngram built-in and the Python PromptLookup.
        lookup = PromptLookup()
        session.generate(prompt, N, stop_at_eos=False, drafter=lookup)
        assert (stats.drafted_tokens, stats.accepted_tokens) == (lookup.proposed, lookup.accepted_tokens)
        # Reusable, and configurable.
        assert session.generate(prompt, N, stop_at_eos=False, drafter=plugin, draft_length=2) == plain
    assert plugin.closed
    with specdec.load_drafter_plugin(str(plugin_build / "lookup_drafter.so"), "max_ngram=1 max_draft=1") as plugin:
        assert session.generate(prompt, N, stop_at_eos=False, drafter=plugin) == plain
        assert session.stats.drafted_tokens <= session.stats.target_calls


def test_plugin_load_errors(plugin_build, tmp_path):
    missing = tmp_path / "no-such-plugin.so"
    with pytest.raises(specdec.SpecDecIOError) as info:
        specdec.load_drafter_plugin(missing)
    assert info.value.code == _ffi.SPECDEC_ERR_IO and str(missing) in info.value.message
    with pytest.raises(specdec.FormatError) as info:
        specdec.load_drafter_plugin(plugin_build / "no_entry.so")
    assert info.value.code == _ffi.SPECDEC_ERR_FORMAT and "specdec_plugin_entry" in info.value.message
    with pytest.raises(specdec.CallbackError) as info:
        specdec.load_drafter_plugin(plugin_build / "lookup_drafter.so", "max_ngram=banana")
    assert info.value.code == _ffi.SPECDEC_ERR_CALLBACK
    with pytest.raises(specdec.InvalidArgumentError):
        specdec.load_drafter_plugin(plugin_build / "lookup_drafter.so", "max\0ngram=1")


# ---------------------------------------------------------------------------
# A Python verifier: another libspecdec session as the target
# ---------------------------------------------------------------------------


class SessionVerifier:
    """A verifier implemented with Session.eval/truncate. Chains are scored in one
    eval; trees path by path (eval's attention is causal over the batch, so each
    root-to-leaf path is evaluated on its own and rolled back)."""

    def __init__(self, session, trees=True):
        self.session = session
        self.trees = trees
        self.base = 0
        self.last = []
        self.prefills = self.scores = self.tree_scores = self.commits = 0

    def prefill(self, tokens):
        self.prefills += 1
        self.session.reset()
        step = 64
        rows = []
        for i in range(0, len(tokens), step):
            rows = self.session.eval(tokens[i : i + step])
        return rows[-1]

    def score(self, tokens, parents):
        self.scores += 1
        assert parents[0] == -1 and len(parents) == len(tokens)
        self.base = self.session.length
        self.last = list(tokens)
        if all(p == i - 1 for i, p in enumerate(parents)):
            return self.session.eval(tokens)
        if not self.trees:
            raise NotImplementedError("tree drafts are not supported by this verifier")
        self.tree_scores += 1
        rows = [None] * len(tokens)
        inner = set(parents)
        for leaf in range(len(tokens)):
            if leaf in inner:
                continue
            path = []
            node = leaf
            while node != -1:
                path.append(node)
                node = parents[node]
            path.reverse()
            self.session.truncate(self.base)
            for node, row in zip(path, self.session.eval([tokens[i] for i in path])):
                rows[node] = row
        self.session.truncate(self.base)
        return rows

    def commit(self, path):
        self.commits += 1
        assert list(path) == sorted(path) and all(0 < i < len(self.last) for i in path)
        self.session.truncate(self.base)
        self.session.eval([self.last[0]] + [self.last[i] for i in path], logits=False)

    def remaining_capacity(self):
        return self.session.capacity - self.session.length


@pytest.mark.parametrize("drafter", ["ngram", "suffix", "python"])
def test_verifier_wrapping_a_session_reproduces_greedy(case, drafter):
    decoder, _, prompt, plain, _ = case
    with specdec.Session(decoder.model, n_threads=1) as target:
        verifier = SessionVerifier(target)
        used = PromptLookup() if drafter == "python" else drafter
        ids, stats = specdec.generate_with_verifier(verifier, decoder.model.vocab_size, prompt, N, drafter=used)
        assert ids == plain, f"{decoder.name} {drafter}"
        assert verifier.prefills == 1 and verifier.scores == stats.target_calls
        check_speculative_stats(stats, expect_drafts=True)
        assert stats.prompt_tokens == len(prompt)
        if drafter == "suffix":
            assert verifier.tree_scores > 0, "the suffix drafter proposes trees"
        # The target session holds exactly prompt + output (minus the newest token).
        assert target.tokens == (prompt + plain)[: target.length]


def test_verifier_failures_are_callback_errors(llama_case):
    decoder, _, prompt, plain, _ = llama_case
    with specdec.Session(decoder.model, n_threads=1) as target:
        chains_only = SessionVerifier(target, trees=False)
        with pytest.raises(specdec.CallbackError) as info:
            specdec.generate_with_verifier(chains_only, 256, prompt, N, drafter="suffix")
        assert isinstance(info.value.__cause__, NotImplementedError)
        assert "verifier raised NotImplementedError" in info.value.message
        assert info.value.tokens == plain[: len(info.value.tokens)]

        class ShortRows(SessionVerifier):
            def prefill(self, tokens):
                return super().prefill(tokens)[:10]

        with pytest.raises(specdec.CallbackError) as info:
            specdec.generate_with_verifier(ShortRows(target), 256, prompt, N)
        assert isinstance(info.value.__cause__, ValueError)

        # The "model" drafter needs a session-side target: refused by the library.
        with pytest.raises(specdec.InvalidArgumentError):
            specdec.generate_with_verifier(SessionVerifier(target), 256, prompt, N, drafter="model")
        with pytest.raises(specdec.InvalidArgumentError):
            specdec.generate_with_verifier(object(), 256, prompt, N)

        # The same target session is fine afterwards.
        ids, _ = specdec.generate_with_verifier(SessionVerifier(target), 256, prompt, N, drafter="ngram")
        assert ids == plain


def test_verifier_with_plugin_and_flat_logits(llama_case, plugin_build):
    decoder, _, prompt, plain, _ = llama_case

    class Flat(SessionVerifier):
        def score(self, tokens, parents):
            rows = super().score(tokens, parents)
            flat = []
            for row in rows:
                flat.extend(row)
            return flat  # one flat list of n * vocab floats

    with specdec.Session(decoder.model, n_threads=1) as target, specdec.load_drafter_plugin(
        plugin_build / "lookup_drafter.so"
    ) as plugin:
        ids, stats = specdec.generate_with_verifier(Flat(target), 256, prompt, N, drafter=plugin)
        assert ids == plain
        assert stats.accepted_tokens > 0
