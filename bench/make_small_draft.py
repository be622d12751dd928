#!/usr/bin/env python3
"""Makes a random-initialised Llama of about a tenth of the decoder benchmark model's size
with the same vocabulary (hidden 256, 2 layers, 4 heads, SwiGLU 688, tied embeddings:
about 9.8M parameters): `make_small_draft.py OUTDIR`. Random weights: it shows what
drafting costs, not what a trained draft model would be accepted."""
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
if os.path.exists(os.path.join(out, "model.safetensors")):
    sys.exit(0)
torch.manual_seed(7)
config = LlamaConfig(vocab_size=32000, hidden_size=256, intermediate_size=688, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=2048,
                     rope_theta=10000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)
model = LlamaForCausalLM(config).eval()
model.save_pretrained(out, safe_serialization=True)
print(f"{out}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters", file=sys.stderr)
