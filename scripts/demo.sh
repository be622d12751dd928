#!/usr/bin/env bash
# The main job: build everything, then translate English to German with the shipped SpecDec
# pair (models/specdec-en-de-verifier + models/specdec-en-de-drafter), each sentence plainly
# (greedy) and with SpecDec (Spec-Drafter + Spec-Verification), statistics side by side.
# BETA (1) and TAU (0) set Spec-Verification: beta 1 keeps the greedy output exactly.
# SPECDEC_DEMO_NO_BUILD=1 skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SPECDEC_DEMO_NO_BUILD:-}" ] || bash scripts/build.sh

verifier=models/specdec-en-de-verifier
drafter=models/specdec-en-de-drafter
k=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["block_size"])' "$drafter/config.json")
specdec_flags=(--drafter specdec --draft "$drafter" --draft-len "$k" --accept topk --beta "${BETA:-1}" --tau "${TAU:-0}")

sentences=(
    "The file could not be opened because it does not exist."
    "Do you want to save the changes to the document before closing?"
    "Select the printer that you want to use."
)
if [ $# -gt 0 ]; then sentences=("$@"); fi

summary='
import json, sys
plain, spec = (json.loads(line) for line in sys.stdin.read().splitlines()[-2:])
def row(name, r):
    s = r["stats"]
    # verifier passes: plain decoding makes one per token; SpecDec one per round plus the first
    calls = s["target_calls"] + 1 if s["target_calls"] else s["generated_tokens"]
    ms = 1000 * (s["prefill_seconds"] + s["decode_seconds"])
    per_call, text = s["generated_tokens"] / calls, r["text"]
    print(f"  {name:<8} {ms:6.2f} ms {calls:3d} verifier calls {per_call:4.2f} tokens/call  {text}")
row("greedy", plain)
row("SpecDec", spec)
'
echo "== English -> German with $verifier, SpecDec drafts from $drafter (k=$k, beta=${BETA:-1}, tau=${TAU:-0})"
for sentence in "${sentences[@]}"; do
    echo "$sentence"
    {
        dist/bin/specdec generate --model "$verifier" --source "$sentence" --json
        dist/bin/specdec generate --model "$verifier" --source "$sentence" "${specdec_flags[@]}" --json
    } | python3 -c "$summary"
done
