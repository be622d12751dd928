#!/usr/bin/env bash
# SpecDec's table for the shipped English->German pair on its held-out test set (batch 1,
# 2 threads), measured through libspecdec.so: greedy, beam-5, SpecDec at beta 1 (identical to
# greedy), at the paper's beta 5 / tau 3 and at the best beta / tau of the grid; then the
# beta/tau grid and, when the fine-tuned drafters exist (training/run_all.sh step 5b), the k
# ablation, both on the first 500 sentences. Writes bench/results/specdec-*.md and .json.
#   bash bench/specdec/run.sh            # about 25 minutes on an idle 2-core machine
# BEST="beta=3,tau=1" picks the table's best setting; REPEATS (3) the passes per setting;
# WEIGHTS=bf16 (or int8, fp32) loads both models in that precision and writes
# bench/results/specdec-*-bf16.md; PARTS="table" runs only the table (default "grid table k").
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "${SKIP_BUILD:-0}" = 1 ] || bash scripts/build.sh >&2
python3 -c 'import sacrebleu' 2>/dev/null || python3 -m pip install -q sacrebleu
mkdir -p bench/results
best=${BEST:-beta=2,tau=1}
weights=${WEIGHTS:-auto}
suffix=""; [ "$weights" = auto ] || suffix="-$weights"
table="bench/specdec/table.py --weights $weights"
parts=" ${PARTS:-grid table k} "

if [[ "$parts" == *" grid "* ]]; then
echo "== beta / tau grid (k = 12, first 500 sentences, one pass)" >&2
grid=(--setting greedy:greedy --setting "b1:specdec:beta=1,tau=0")
for beta in 2 3 5; do
    for tau in 0.5 1 2 3; do grid+=(--setting "b${beta}-t${tau}:specdec:beta=${beta},tau=${tau}"); done
done
python3 $table --limit 500 --repeats 1 "${grid[@]}" --json bench/results/specdec-grid$suffix.json | tee bench/results/specdec-grid$suffix.md
fi

if [[ "$parts" == *" table "* ]]; then
echo "== the table (all test sentences, median of ${REPEATS:-3} passes)" >&2
python3 $table --repeats "${REPEATS:-3}" --setting greedy:greedy --setting beam-5:beam:beams=5 \
    --setting "specdec-b1:specdec:beta=1,tau=0" --setting "specdec-b5-t3:specdec:beta=5,tau=3" \
    --setting "specdec-best:specdec:$best" --json bench/results/specdec-table$suffix.json | tee bench/results/specdec-table$suffix.md
fi

if [[ "$parts" == *" k "* ]]; then
ablation=(--setting greedy:greedy)
for k in 4 8; do
    dir=training/work/drafter-k$k/export
    [ -s "$dir/model.safetensors" ] || continue
    ablation+=(--setting "k$k-b1:specdec:beta=1,tau=0,drafter=$dir" --setting "k$k-best:specdec:$best,drafter=$dir")
done
ablation+=(--setting "k12-b1:specdec:beta=1,tau=0" --setting "k12-best:specdec:$best")
echo "== k ablation (first 500 sentences, median of ${REPEATS:-3} passes)" >&2
python3 $table --limit 500 --repeats "${REPEATS:-3}" "${ablation[@]}" --json bench/results/specdec-k$suffix.json | tee bench/results/specdec-k$suffix.md
fi
