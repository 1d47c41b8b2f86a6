#!/usr/bin/env python3
"""Writes a checkpoint folder (config.json + model.safetensors) of a learned-G spec's exact shape.

Usage: make_checkpoint.py SPEC.pldr.yaml OUT_DIR [SEED]

The weights are seeded uniform noise in [-0.05, 0.05) (LayerNorm weights 1, so activations stay in range): the
model is untrained and its text means nothing, but the folder is byte-for-byte the same for the same seed and
holds exactly the tensors a compiled spec's TensorManifest asks for (names as in the authors' state_dict()), so
`pldr generate --model OUT_DIR` loads and runs it. Standard library only, so CI needs nothing but python3.
"""
import json
import os
import random
import struct
import sys


def read_spec(path):
    """The flat `key: value` lines of a .pldr.yaml spec (comments and blank lines skipped)."""
    spec = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                key, _, value = line.partition(":")
                spec[key.strip()] = value.strip()
    return spec


def shape(spec):
    """The spec's numbers with the generator's defaults and derivations (hidden = heads * head_dim, F = D * 8 / 3)."""
    def num(key, default):
        return int(spec[key]) if key in spec else default

    def flag(key, default):
        return spec[key] == "true" if key in spec else default

    heads = num("num_attention_heads", 1)
    head_dim = num("head_dim", num("hidden_size", 0) // heads)
    hidden = num("hidden_size", heads * head_dim)
    c = {"vocab_size": num("vocab_size", None), "hidden_size": hidden,
         "intermediate_size": num("intermediate_size", hidden * 8 // 3),
         "num_hidden_layers": num("num_hidden_layers", None), "num_attention_heads": num("num_attention_heads", None),
         "head_dim": head_dim,
         "max_position_embeddings": num("max_position_embeddings", None),
         "layer_norm_eps": float(spec.get("layer_norm_eps", 1e-6)), "rope_theta": float(spec.get("rope_theta", 10000)),
         "reference_rope": flag("reference_rope", True), "num_reslayerA": num("num_reslayerA", 0),
         "num_denseA": num("num_denseA", 0), "A_dff": num("A_dff", 0), "custom_G_type": None,
         "cache_first_G": flag("cache_first_G", False), "attention_bias": flag("attention_bias", True),
         "glu_bias": flag("glu_bias", True), "final_bias": flag("final_bias", True),
         "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": num("eos_token_id", 3)}
    missing = [k for k in ("vocab_size", "num_hidden_layers", "num_attention_heads", "max_position_embeddings") if c[k] is None]
    if missing:
        sys.exit(f"the spec lacks {', '.join(missing)}")
    return c


def manifest(c):
    """Every tensor of the shape with its dimensions, in the order of the generated TensorManifest."""
    D, H, dk, F, Fa = c["hidden_size"], c["num_attention_heads"], c["head_dim"], c["intermediate_size"], c["A_dff"]
    V = c["vocab_size"]
    tensors = [
        ("decoder.embedding.weight", [V, D]),
        ("decoder.layernorm1.weight", [D]), ("decoder.layernorm1.bias", [D]),
        ("final_layer.weight", [V, D]),
    ]
    if c["final_bias"]:
        tensors.append(("final_layer.bias", [V]))

    def linear(prefix, out_dim, in_dim, bias):
        tensors.append((prefix + ".weight", [out_dim, in_dim]))
        if bias:
            tensors.append((prefix + ".bias", [out_dim]))

    def norm(prefix, dim):
        tensors.append((prefix + ".weight", [dim]))
        tensors.append((prefix + ".bias", [dim]))

    def glu(prefix, in_dim, hidden):
        linear(prefix + ".gluw1", hidden, in_dim, c["glu_bias"])
        linear(prefix + ".gluw2", hidden, in_dim, c["glu_bias"])
        linear(prefix + ".gluw3", in_dim, hidden, c["glu_bias"])

    for l in range(c["num_hidden_layers"]):
        p = f"decoder.dec_layers.{l}."
        for name in ("wq", "wk", "wv", "dense"):
            linear(p + "mha1." + name, D, D, c["attention_bias"])
        norm(p + "mha1.layernorm1", dk)
        for r in range(c["num_reslayerA"]):
            for n in range(c["num_denseA"]):
                glu(f"{p}mha1.reslayerAs.{r}.denseAs.{n}", dk, Fa)
            norm(f"{p}mha1.reslayerAs.{r}.layernormA", dk)
        for name in ("Wlst", "blst", "pwlst", "alst", "balst"):
            tensors.append((p + "mha1.plgatt_layer." + name, [H, dk, dk]))
        glu(p + "ffn", D, F)
        norm(p + "layernorm1", D)
        norm(p + "layernorm2", D)
    return tensors


def write_safetensors(path, tensors):
    """safetensors: u64 little-endian header length, JSON header padded with spaces to 8 bytes, raw F32 data."""
    header, offset = {}, 0
    for name, shape, data in tensors:
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, data in tensors:
            f.write(data)


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[2])
    spec, out_dir = read_spec(argv[1]), argv[2]
    rng = random.Random(int(argv[3]) if len(argv) == 4 else 1234)
    if spec.get("custom_G_type", "null") != "null":
        sys.exit(f"{argv[1]}: only learned-G specs (custom_G_type: null) are supported")
    c = shape(spec)
    tensors = []
    for name, dims in manifest(c):
        count = 1
        for d in dims:
            count *= d
        ones = ".layernorm" in name and name.endswith(".weight")
        values = [1.0] * count if ones else [rng.uniform(-0.05, 0.05) for _ in range(count)]
        tensors.append((name, dims, struct.pack(f"<{count}f", *values)))

    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    config = {"architectures": ["PldrllmForCausalLM"], "model_type": "pldrllm", "torch_dtype": "float32", **c}
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print(f"{out_dir}: {len(tensors)} tensors, {sum(len(t[2]) for t in tensors) // 4} parameters")


if __name__ == "__main__":
    main(sys.argv)
