#!/usr/bin/env bash
# Tests the C host: builds examples/c, compiles include/specdec.h on its own, checks
# the struct sizes, runs `generate` on the fixture models and compares the ids with
# reference.json (computed by Hugging Face transformers), checks that the jemalloc
# arena backend is used, and that bad input fails with a message. Then speculative
# decoding: builds the drafter plugin of examples/plugins, checks that `speculative`
# with the plugin and with the built-in drafters reproduces plain greedy output, that
# the plugin's drafts are accepted, and that broken plugins (missing entry point, failing
# create, another ABI version, a short vtable, bad proposals) fail with the right status
# and leave the session usable.
# Prints "N passed, M failed" and exits non-zero when anything failed.
#
#   bash examples/c/test.sh            (from anywhere)
#   SPECDEC_LIB_DIR=/path bash examples/c/test.sh

set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
LIBDIR="${SPECDEC_LIB_DIR:-$ROOT/dist/lib}"
FIXTURES="${SPECDEC_TEST_FIXTURES:-$ROOT/Tests/Fixtures/decoder}"
CC="${CC:-gcc}"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); echo "FAIL - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/       /'; }

json_ids() { # FILE KEY -> comma-separated ids
    python3 -c 'import json,sys; print(",".join(str(i) for i in json.load(open(sys.argv[1]))[sys.argv[2]]))' "$1" "$2"
}

# 1. The header alone, strict C99 (and C++ when g++ is there).
if out=$("$CC" -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$ROOT/include/specdec.h" 2>&1); then
    pass "specdec.h compiles alone with -std=c99 -Wall -Wextra -Werror -pedantic"
else
    fail "specdec.h compiles alone with -std=c99 -pedantic" "$out"
fi
printf '#include "specdec.h"\n#include "specdec.h"\nint main(void) { return SPECDEC_OK; }\n' > "$BUILD/twice.c"
if out=$("$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I"$ROOT/include" "$BUILD/twice.c" -c -o "$BUILD/twice.o" 2>&1); then
    pass "specdec.h is include-guarded"
else
    fail "specdec.h is include-guarded" "$out"
fi
if command -v g++ >/dev/null 2>&1; then
    if out=$(g++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ "$ROOT/include/specdec.h" 2>&1); then
        pass "specdec.h compiles as C++11"
    else
        fail "specdec.h compiles as C++11" "$out"
    fi
fi
if out=$("$CC" -std=c99 -Wall -Wextra -Werror -pedantic -fsyntax-only -I"$ROOT/include" -x c "$ROOT/include/specdec_plugin.h" 2>&1); then
    pass "specdec_plugin.h compiles alone with -std=c99 -Wall -Wextra -Werror -pedantic"
else
    fail "specdec_plugin.h compiles alone" "$out"
fi

# 2. Build the examples.
if [ ! -f "$LIBDIR/libspecdec.so" ]; then
    fail "libspecdec.so exists in $LIBDIR (build it with scripts/build.sh)"
    echo "$passed passed, $failed failed"
    exit 1
fi
if out=$(make -s -C "$HERE" BUILD="$BUILD" LIBDIR="$LIBDIR" CC="$CC" 2>&1); then
    pass "examples build with -std=c99 -Wall -Wextra -Werror"
else
    fail "examples build" "$out"
    echo "$passed passed, $failed failed"
    exit 1
fi

# 3. Struct sizes as the C compiler lays them out (x86-64 values, also checked by the
#    Python and Rust bindings).
expected_sizes="specdec_model_params_t 16 4
specdec_model_info_t 88 8
specdec_session_params_t 24 4
specdec_generate_params_t 72 8
specdec_stats_t 104 8
specdec_speculative_params_t 56 8
specdec_draft_request_t 48 8
specdec_draft_output_t 32 8
specdec_drafter_vtable_t 48 8
specdec_verifier_vtable_t 40 8
specdec_host_api_t 24 8
specdec_text_params_t 40 8
specdec_tokenizer_vtable_t 32 8
specdec_beam_params_t 24 4
specdec_batch_params_t 24 8"
if out=$("$BUILD/struct_sizes") && [ "$out" = "$expected_sizes" ]; then
    pass "struct sizes and alignments"
else
    fail "struct sizes and alignments" "$out"
fi

if ldd "$BUILD/generate" | grep -q 'libjemalloc'; then
    pass "generate links jemalloc at start-up"
else
    fail "generate links jemalloc at start-up" "$(ldd "$BUILD/generate")"
fi

# 4. Greedy generation against the reference ids.
for name in llama_f32 gpt2_f32; do
    dir="$FIXTURES/$name"
    if [ ! -f "$dir/reference.json" ]; then
        fail "$name: fixture $dir is missing"
        continue
    fi
    prompt=$(json_ids "$dir/reference.json" prompt_ids)
    want=$(json_ids "$dir/reference.json" greedy_ids)
    if got=$("$BUILD/generate" "$dir" "$prompt" 24 2>"$BUILD/$name.err"); then
        if [ "$got" = "$want" ]; then
            pass "$name: greedy ids equal reference.json"
        else
            fail "$name: greedy ids equal reference.json" "got  $got
want $want"
        fi
        if grep -qx 'arena backend: jemalloc' "$BUILD/$name.err"; then
            pass "$name: arena backend is jemalloc"
        else
            fail "$name: arena backend is jemalloc" "$(cat "$BUILD/$name.err")"
        fi
        if grep -q 'generated 24, stop: max_tokens' "$BUILD/$name.err"; then
            pass "$name: stats on stderr"
        else
            fail "$name: stats on stderr" "$(cat "$BUILD/$name.err")"
        fi
    else
        fail "$name: generate exits 0" "$(cat "$BUILD/$name.err")"
    fi
done

# A shorter run is a prefix of the longer one.
dir="$FIXTURES/llama_f32"
if [ -f "$dir/reference.json" ]; then
    prompt=$(json_ids "$dir/reference.json" prompt_ids)
    want=$(json_ids "$dir/reference.json" greedy_ids | cut -d, -f1-5)
    got=$("$BUILD/generate" "$dir" "$prompt" 5 2>/dev/null)
    if [ "$got" = "$want" ]; then pass "max_new_tokens 5 gives the first 5 ids"; else fail "max_new_tokens 5" "got $got want $want"; fi

    # 5. Bad input: a status and a message, never a crash.
    missing="$BUILD/no-such-model"
    "$BUILD/generate" "$missing" 1,2,3 4 >/dev/null 2>"$BUILD/missing.err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q "$missing" "$BUILD/missing.err" && grep -q 'status 2' "$BUILD/missing.err"; then
        pass "missing model directory: SPECDEC_ERR_IO naming the path"
    else
        fail "missing model directory (rc $rc)" "$(cat "$BUILD/missing.err")"
    fi
    "$BUILD/generate" "$dir" 1,2,999999 4 >/dev/null 2>"$BUILD/range.err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'status 6' "$BUILD/range.err"; then
        pass "token id out of range: SPECDEC_ERR_TOKEN_OUT_OF_RANGE"
    else
        fail "token id out of range (rc $rc)" "$(cat "$BUILD/range.err")"
    fi
    "$BUILD/generate" "$dir" 1,x,3 4 >/dev/null 2>"$BUILD/usage.err"
    rc=$?
    if [ $rc -eq 2 ]; then pass "malformed id list is a usage error"; else fail "malformed id list (rc $rc)" "$(cat "$BUILD/usage.err")"; fi
fi

# 5b. The tokenizer API: corpus lines encode to the tokenizers package's ids (ids.txt).
TOKENIZERS="$ROOT/Tests/Fixtures/tokenizers"
for name in bert-uncased-wordpiece albert-unigram; do
    line=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline()))' "$TOKENIZERS/corpus.jsonl")
    want=$(head -n 1 "$TOKENIZERS/$name/ids.txt" | tr ' ' ',')
    got=$("$BUILD/tokenize" "$TOKENIZERS/$name/tokenizer.json" "$line" 2>&1 | head -n 1)
    if [ "$got" = "$want" ]; then pass "tokenize ($name): ids equal the reference"; else fail "tokenize ($name)" "got  $got
want $want"; fi
done

# 5c. Batched translation: the shipped pair's reference sources through translate_batch
#     (batches of 5) give transformers' greedy translations (their ids, detokenized).
PAIR="$ROOT/Tests/Fixtures/specdec-pair/reference.json"
VERIFIER="$ROOT/models/specdec-en-de-verifier"
python3 -c 'import json,sys; [print(c["source"]) for c in json.load(open(sys.argv[1]))["cases"]]' "$PAIR" > "$BUILD/batch.in"
want=$(PYTHONPATH="$ROOT/Bindings/python" SPECDEC_LIBRARY="$LIBDIR/libspecdec.so" python3 -c '
import json, sys, specdec
tokenizer = specdec.Tokenizer.load(sys.argv[2])
for case in json.load(open(sys.argv[1]))["cases"]:
    print(tokenizer.decode(case["greedy_ids"], skip_special=True))' "$PAIR" "$VERIFIER" 2>&1)
got=$("$BUILD/translate_batch" "$VERIFIER" 5 < "$BUILD/batch.in" 2>&1)
if [ "$got" = "$want" ] && [ -n "$got" ]; then pass "translate_batch: 24 sentences in batches of 5 equal transformers' greedy translations"
else fail "translate_batch" "$(diff <(echo "$got") <(echo "$want") | head -n 10)"; fi

# 6. Speculative decoding: the drafter plugin and the built-in drafters.
PLUGINS="$BUILD/plugins"
if out=$(make -s -C "$ROOT/examples/plugins" BUILD="$PLUGINS" CC="$CC" 2>&1) && [ -f "$PLUGINS/lookup_drafter.so" ]; then
    pass "plugin builds with -std=c99 -Wall -Wextra -Werror -fPIC -shared"
else
    fail "plugin builds" "$out"
fi
PLUGIN="$PLUGINS/lookup_drafter.so"
if [ -f "$PLUGIN" ]; then
    needed=$(readelf -d "$PLUGIN" 2>&1 | grep NEEDED)
    if ! printf '%s' "$needed" | grep -q specdec && nm -D --defined-only "$PLUGIN" | grep -qw specdec_plugin_entry; then
        pass "plugin exports specdec_plugin_entry and does not link libspecdec"
    else
        fail "plugin exports specdec_plugin_entry and does not link libspecdec" "$needed"
    fi
fi

dir="$FIXTURES/llama_f32"
if [ -f "$dir/reference.json" ] && [ -f "$PLUGIN" ]; then
    one=$(json_ids "$dir/reference.json" prompt_ids)
    prompt="$one,$one" # repetitive: prompt lookup finds matches
    plain=$("$BUILD/generate" "$dir" "$prompt" 40 2>/dev/null)
    if [ -n "$plain" ] && [ "$("$BUILD/speculative" --plain "$dir" "$prompt" 40 2>/dev/null)" = "$plain" ]; then
        pass "speculative --plain equals generate"
    else
        fail "speculative --plain equals generate" "$plain"
    fi

    got=$("$BUILD/speculative" --plugin "$PLUGIN" --config "max_ngram=3,verbose=1" --acceptance greedy \
        "$dir" "$prompt" 40 2>"$BUILD/plugin.err")
    rc=$?
    if [ $rc -eq 0 ] && [ "$got" = "$plain" ]; then
        pass "plugin drafter (CUSTOM, greedy): output equals plain greedy"
    else
        fail "plugin drafter (CUSTOM, greedy): output equals plain greedy (rc $rc)" "got  $got
want $plain
$(cat "$BUILD/plugin.err")"
    fi
    accepted=$(sed -n 's/.*drafted \([0-9]*\), accepted \([0-9]*\),.*/\2/p' "$BUILD/plugin.err")
    own=$(sed -n 's/^lookup_drafter: .* \([0-9][0-9]*\) accepted.*/\1/p' "$BUILD/plugin.err")
    if [ "${accepted:-0}" -gt 0 ] && [ "${own:-0}" -eq "$accepted" ]; then
        pass "plugin drafts are accepted (stats accepted_tokens $accepted, plugin counted $own)"
    else
        fail "plugin drafts are accepted" "$(cat "$BUILD/plugin.err")"
    fi
    calls=$(sed -n 's/^target calls \([0-9]*\),.*/\1/p' "$BUILD/plugin.err")
    if [ -n "$calls" ] && [ "$calls" -lt 40 ]; then
        pass "plugin: $calls target calls for 40 tokens"
    else
        fail "plugin: fewer target calls than tokens" "$(cat "$BUILD/plugin.err")"
    fi

    # The plugin on every decoder fixture.
    for other in llama_f16 llama_bf16 llama_sharded mistral_f32 qwen2_f32 gpt2_f32 gpt2_f16; do
        odir="$FIXTURES/$other"
        [ -f "$odir/reference.json" ] || continue
        o=$(json_ids "$odir/reference.json" prompt_ids)
        oplain=$("$BUILD/generate" "$odir" "$o,$o" 40 2>/dev/null)
        ogot=$("$BUILD/speculative" --plugin "$PLUGIN" --config "max_ngram=3" --acceptance greedy "$odir" "$o,$o" 40 2>/dev/null)
        if [ -n "$oplain" ] && [ "$ogot" = "$oplain" ]; then
            pass "plugin drafter on $other: output equals plain greedy"
        else
            fail "plugin drafter on $other: output equals plain greedy" "got  $ogot
want $oplain"
        fi
    done

    for drafter in ngram suffix "model --draft-model $FIXTURES/llama_f16" "model --draft-model $dir"; do
        # shellcheck disable=SC2086 # the drafter options are split on purpose
        got=$("$BUILD/speculative" --drafter $drafter "$dir" "$prompt" 40 2>"$BUILD/builtin.err")
        rc=$?
        label="built-in drafter ${drafter/--draft-model $ROOT\//--draft-model }"
        label="${label/--draft-model $FIXTURES\//--draft-model }"
        if [ $rc -eq 0 ] && [ "$got" = "$plain" ] && grep -q '^target calls' "$BUILD/builtin.err"; then
            pass "$label: output equals plain greedy"
        else
            fail "$label: output equals plain greedy (rc $rc)" "got  $got
want $plain
$(cat "$BUILD/builtin.err")"
        fi
    done
    # The target drafting for itself accepts everything it drafts.
    "$BUILD/speculative" --drafter model --draft-model "$dir" "$dir" "$prompt" 40 >/dev/null 2>"$BUILD/self.err"
    if grep -Eq 'drafted ([1-9][0-9]*), accepted \1,' "$BUILD/self.err"; then
        pass "model drafter = target: every draft token accepted"
    else
        fail "model drafter = target: every draft token accepted" "$(cat "$BUILD/self.err")"
    fi
    got=$("$BUILD/speculative" --drafter ngram --acceptance topk --beta 1 "$dir" "$prompt" 40 2>/dev/null)
    if [ "$got" = "$plain" ]; then pass "topk acceptance with beta 1 equals greedy"; else fail "topk beta 1" "got $got"; fi

    # Broken plugins: a status and a message, never a crash.
    missing="$BUILD/no-such-plugin.so"
    "$BUILD/speculative" --plugin "$missing" "$dir" "$prompt" 4 >/dev/null 2>"$BUILD/missing-plugin.err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'status 2)' "$BUILD/missing-plugin.err" && grep -q "$missing" "$BUILD/missing-plugin.err"; then
        pass "missing plugin: SPECDEC_ERR_IO with a message naming the path"
    else
        fail "missing plugin: SPECDEC_ERR_IO (rc $rc)" "$(cat "$BUILD/missing-plugin.err")"
    fi
    printf 'int not_a_drafter(void);\nint not_a_drafter(void) { return 42; }\n' > "$BUILD/no_entry.c"
    if "$CC" -std=c99 -Wall -Wextra -Werror -fPIC -shared "$BUILD/no_entry.c" -o "$BUILD/no_entry.so" 2>"$BUILD/no_entry.log"; then
        "$BUILD/speculative" --plugin "$BUILD/no_entry.so" "$dir" "$prompt" 4 >/dev/null 2>"$BUILD/no-entry.err"
        rc=$?
        if [ $rc -eq 1 ] && grep -q 'status 3)' "$BUILD/no-entry.err" && grep -q 'specdec_plugin_entry' "$BUILD/no-entry.err"; then
            pass "shared object without specdec_plugin_entry: SPECDEC_ERR_FORMAT"
        else
            fail "shared object without specdec_plugin_entry: SPECDEC_ERR_FORMAT (rc $rc)" "$(cat "$BUILD/no-entry.err")"
        fi
    else
        fail "build a .so without the entry symbol" "$(cat "$BUILD/no_entry.log")"
    fi
    "$BUILD/speculative" --plugin "$PLUGIN" --config "no_such_option=1" "$dir" "$prompt" 4 >/dev/null 2>"$BUILD/bad-config.err"
    rc=$?
    if [ $rc -eq 1 ] && grep -q 'status 11)' "$BUILD/bad-config.err" && grep -q 'unknown option' "$BUILD/bad-config.err"; then
        pass "plugin create() refusing its config: SPECDEC_ERR_CALLBACK"
    else
        fail "plugin create() refusing its config: SPECDEC_ERR_CALLBACK (rc $rc)" "$(cat "$BUILD/bad-config.err")"
    fi

    # Plugins that break the contract (Tests/plugins/misbehaving_drafter.c, one fault per
    # build): the load or the request fails with its status and a message, and the
    # session stays usable (plain and n-gram generation give what they gave before).
    CHECKS="$ROOT/Tests/plugins"
    if out=$("$CC" -std=c99 -Wall -Wextra -Werror -I"$ROOT/include" "$CHECKS/plugin_check.c" -o "$BUILD/plugin_check" \
            -L"$LIBDIR" -lspecdec -Wl,-rpath,"$LIBDIR" 2>&1); then
        for fault in "1 ENTRY_NULL 4" "2 NEWER_ABI 4" "3 SMALL_STRUCT 1" "4 NO_PROPOSE 1" "5 OUT_OF_RANGE 11" \
                     "6 TOO_MANY 11" "7 NEGATIVE 11" "8 FAILING 11" "9 BAD_PARENT 11"; do
            read -r number name status <<< "$fault"
            so="$BUILD/misbehaving_$name.so"
            if ! out=$("$CC" -std=c99 -Wall -Wextra -Werror -fPIC -shared -DFAULT="$number" -I"$ROOT/include" \
                    "$CHECKS/misbehaving_drafter.c" -o "$so" 2>&1); then
                fail "build the $name plugin" "$out"
                continue
            fi
            if out=$("$BUILD/plugin_check" "$dir" "$so" "$status" 2>&1); then
                pass "plugin $name: status $status with a message, the session usable afterwards"
            else
                fail "plugin $name: status $status with a message, the session usable afterwards" "$out"
            fi
        done
    else
        fail "Tests/plugins/plugin_check.c builds" "$out"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
