#!/usr/bin/env python3
"""Makes a draft model from a Llama checkpoint by keeping its first N decoder layers
(same embeddings, final norm and output projection): `make_layer_draft.py SRC DST N`."""
import json
import os
import sys

from safetensors.numpy import load_file, save_file

src, dst, layers = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst, exist_ok=True)
config = json.load(open(os.path.join(src, "config.json")))
config["num_hidden_layers"] = layers
json.dump(config, open(os.path.join(dst, "config.json"), "w"), indent=1)
tensors = load_file(os.path.join(src, "model.safetensors"))
keep = {k: v for k, v in tensors.items()
        if not k.startswith("model.layers.") or int(k.split(".")[2]) < layers}
save_file(keep, os.path.join(dst, "model.safetensors"))
print(f"{dst}: {sum(v.size for v in keep.values()) / 1e6:.1f}M parameters", file=sys.stderr)
