#!/usr/bin/env bash
# The main job: build everything, then generate with a model shipped in the repository
# (a small Llama from Tests/Fixtures, random weights recorded with transformers), and, when
# the trained stories260K pair sits beside the checkout, continue a story with it, plainly and
# speculatively.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh

model=Tests/Fixtures/decoder/llama_f32
echo "== greedy generation with $model (prompt ids from its reference.json)"
dist/bin/specdec generate --model "$model" --prompt-ids 239,179,14,112,17,149,78,203 --max-new-tokens 24 --json

stories=../shared/models/stories260K
if [ -d "$stories" ]; then
    echo "== stories260K: text in, text out"
    dist/bin/specdec generate --model "$stories" --prompt "Once upon a time" --max-new-tokens 64 --json
    echo "== the same, speculatively with its draft model (same output; see tokens_per_target_call)"
    dist/bin/specdec generate --model "$stories" --prompt "Once upon a time" --max-new-tokens 64 \
        --drafter model --draft "$stories-draft" --draft-len 4 --json
fi
