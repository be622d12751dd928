#!/usr/bin/env bash
# The whole SpecDec training pipeline, in order. Every step is resumable: rerun this script after
# an interruption and finished steps are skipped (or continue from their checkpoints).
#   bash training/run_all.sh            # everything (about 3 h on 2 shared CPU cores)
# Environment: VERIFIER_MINUTES, DRAFTER_MINUTES (training-time budgets), SPECDEC_THREADS (2).
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONUNBUFFERED=1
VERIFIER_MINUTES=${VERIFIER_MINUTES:-55}
DRAFTER_MINUTES=${DRAFTER_MINUTES:-70}
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
step "train verifier (${VERIFIER_MINUTES} min budget)"
python train_verifier.py --minutes "$VERIFIER_MINUTES" --test
step "export verifier"
python export_marian.py --out ../models/specdec-en-de-verifier
# 4. distillation with the exported verifier
step distill
python distill.py
# 5. drafter: train, export, parity fixture
step "train drafter (${DRAFTER_MINUTES} min budget)"
python train_drafter.py --minutes "$DRAFTER_MINUTES"
step "export drafter"
python export_drafter.py --out ../models/specdec-en-de-drafter
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
