#!/usr/bin/env bash
# The whole SpecDec training pipeline, in order. Every step is resumable: rerun this script after
# an interruption and finished steps are skipped (or continue from their checkpoints).
#   bash training/run_all.sh            # everything (about 2 h on an idle 2-core CPU)
# Environment: VERIFIER_EPOCHS (2), DRAFTER_EPOCHS (3) as for the shipped pair; VERIFIER_MINUTES,
# DRAFTER_MINUTES (training-time budgets that stop earlier); SPECDEC_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
VERIFIER_EPOCHS=${VERIFIER_EPOCHS:-2}
DRAFTER_EPOCHS=${DRAFTER_EPOCHS:-3}
VERIFIER_MINUTES=${VERIFIER_MINUTES:-240}
DRAFTER_MINUTES=${DRAFTER_MINUTES:-240}
mkdir -p work/logs
python -c "import torch, sentencepiece, sacrebleu, safetensors, transformers" 2>/dev/null \
  || pip install sacrebleu sentencepiece safetensors transformers

step() { echo "=== $(date +%H:%M:%S) $*"; }

# 0. more German catalogs (optional; needs root and the Debian mirror)
if [ ! -d /usr/lib/libreoffice/program/resource/de ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  step "apt-get install libreoffice-l10n-de gcc-12-locales"
  (apt-get update && apt-get install -y libreoffice-l10n-de gcc-12-locales) >work/logs/apt.log 2>&1 || true
fi

# 1. data
[ -s work/data/test.de ] || { step data; python data.py; }
# 2. tokenizer
[ -s work/spm/vocab.json ] || { step tokenizer; python tokenizer.py; }
# 3. verifier: train, export to Marian, check against transformers
step "train verifier (${VERIFIER_EPOCHS} epochs, ${VERIFIER_MINUTES} min budget)"
python train_verifier.py --epochs "$VERIFIER_EPOCHS" --minutes "$VERIFIER_MINUTES" --test
step "export verifier"
python export_marian.py --out ../models/specdec-en-de-verifier
# 4. distillation with the exported verifier
step distill
python distill.py
# 5. drafter: train, export, parity fixture
step "train drafter (${DRAFTER_EPOCHS} epochs, ${DRAFTER_MINUTES} min budget)"
python train_drafter.py --epochs "$DRAFTER_EPOCHS" --minutes "$DRAFTER_MINUTES"
step "export drafter"
python export_drafter.py --out ../models/specdec-en-de-drafter
# 5b. drafters for other k (the ablation in docs/specdec.md): fine-tuned from the k = 12 drafter
for k in 4 8; do
  [ -s work/drafter-k$k/export/model.safetensors ] && continue
  step "fine-tune drafter for k = $k"
  python train_drafter.py --k $k --dir work/drafter-k$k --init-from work/drafter/best.pt --minutes 7 --epochs 1 \
      --lr 4e-4 --warmup 100 --start-p 0.42 --minus-p 0
  python export_drafter.py --ckpt work/drafter-k$k/best.pt --out work/drafter-k$k/export
done
python export_drafter.py --fixture
mkdir -p ../models/specdec-en-de-test
cp work/data/test.en work/data/test.de ../models/specdec-en-de-test/
# 6. reference SpecDec decoding: the table's PyTorch reference
step "specdec reference decoding"
python specdec_decode.py --grid
# 7. converter tests
step "converter tests"
python -m pytest tests -q
step done
