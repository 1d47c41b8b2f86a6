#!/usr/bin/env python3
"""Writes a LLaMA GGUF of PldrGen's 110M shape (896 wide, 5 layers, 14 heads, n_ff 2389, vocab 32000) with seeded
random weights, for the side-by-side bench against llama.cpp. Python standard library only.

    python3 bench/make_llama_gguf.py OUT.gguf f32|f16|q8_0 [--seed 1234]

Speed does not depend on the values, only on their count and type, so weights are random bytes whose exponents are
clamped to |w| ~ 0.01-0.06 (no NaN, infinity or denormal). q8_0 is llama.cpp's block format (an f16 scale per 32
int8 weights); a matrix whose rows are not a multiple of 32 long (ffn_down: n_ff = 2389) is stored f16 there, as
llama-quantize does. Norm weights are f32 ones, as in every llama.cpp model.
"""
import random
import struct
import sys

EMBED, LAYERS, HEADS, FF, VOCAB, CONTEXT = 896, 5, 14, 2389, 32000, 1024
ALIGN = 32
F32, F16, Q8_0 = 0, 1, 8


def gguf_string(text):
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def metadata():
    """Key-value pairs as (key, type id, packed value)."""
    u32, f32, string, array = 4, 6, 8, 9
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"t{i}" for i in range(VOCAB - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259)  # unknown, control, byte, normal

    def arr(item_type, packed_items):
        return struct.pack("<IQ", item_type, len(packed_items)) + b"".join(packed_items)

    return [
        ("general.architecture", string, gguf_string("llama")),
        ("general.name", string, gguf_string("pldrgen-bench-llama-110m-shape")),
        ("general.alignment", u32, struct.pack("<I", ALIGN)),
        ("llama.context_length", u32, struct.pack("<I", CONTEXT)),
        ("llama.embedding_length", u32, struct.pack("<I", EMBED)),
        ("llama.block_count", u32, struct.pack("<I", LAYERS)),
        ("llama.feed_forward_length", u32, struct.pack("<I", FF)),
        ("llama.attention.head_count", u32, struct.pack("<I", HEADS)),
        ("llama.attention.head_count_kv", u32, struct.pack("<I", HEADS)),
        ("llama.rope.dimension_count", u32, struct.pack("<I", EMBED // HEADS)),
        ("llama.rope.freq_base", f32, struct.pack("<f", 10000.0)),
        ("llama.attention.layer_norm_rms_epsilon", f32, struct.pack("<f", 1e-6)),
        ("tokenizer.ggml.model", string, gguf_string("llama")),
        ("tokenizer.ggml.tokens", array, arr(string, [gguf_string(t) for t in tokens])),
        ("tokenizer.ggml.scores", array, arr(f32, [struct.pack("<f", -float(i)) for i in range(VOCAB)])),
        ("tokenizer.ggml.token_type", array, arr(5, [struct.pack("<i", t) for t in types])),
        ("tokenizer.ggml.bos_token_id", u32, struct.pack("<I", 1)),
        ("tokenizer.ggml.eos_token_id", u32, struct.pack("<I", 2)),
        ("tokenizer.ggml.unknown_token_id", u32, struct.pack("<I", 0)),
    ]


def tensors():
    """(name, GGUF dims innermost first, is a matrix)."""
    yield "token_embd.weight", (EMBED, VOCAB), True
    for layer in range(LAYERS):
        p = f"blk.{layer}."
        yield p + "attn_norm.weight", (EMBED,), False
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            yield p + name + ".weight", (EMBED, EMBED), True
        yield p + "ffn_norm.weight", (EMBED,), False
        yield p + "ffn_gate.weight", (EMBED, FF), True
        yield p + "ffn_up.weight", (EMBED, FF), True
        yield p + "ffn_down.weight", (FF, EMBED), True
    yield "output_norm.weight", (EMBED,), False
    yield "output.weight", (EMBED, VOCAB), True


def clamp_high_bytes(data, stride, table):
    """Rewrites every stride-th byte (the one holding sign and exponent) through table."""
    data[stride - 1::stride] = data[stride - 1::stride].translate(table)
    return data


# Sign kept, exponent forced into 2^-7..2^-4.
F32_HIGH = bytes((b & 0x80) | 0x3C | (b & 0x01) for b in range(256))   # exponent 120..123 with byte 2's top bit
F16_HIGH = bytes((b & 0x83) | ((8 + (b >> 2) % 4) << 2) for b in range(256))  # exponent 8..11


def tensor_data(rng, dims, matrix, kind):
    count = 1
    for d in dims:
        count *= d
    if not matrix:
        return F32, struct.pack("<f", 1.0) * count
    if kind == "q8_0" and dims[0] % 32 == 0:
        blocks = count // 32
        scale = struct.pack("<e", 0.0005)
        quants = rng.randbytes(blocks * 32)
        return Q8_0, b"".join(scale + quants[i * 32:(i + 1) * 32] for i in range(blocks))
    if kind == "f32":
        return F32, bytes(clamp_high_bytes(bytearray(rng.randbytes(4 * count)), 4, F32_HIGH))
    return F16, bytes(clamp_high_bytes(bytearray(rng.randbytes(2 * count)), 2, F16_HIGH))


def main():
    args = sys.argv[1:]
    seed = 1234
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2 or args[1] not in ("f32", "f16", "q8_0"):
        sys.exit("usage: make_llama_gguf.py OUT.gguf f32|f16|q8_0 [--seed N]")
    out, kind = args
    rng = random.Random(seed)
    infos, blobs, offset = [], [], 0
    for name, dims, matrix in tensors():
        ggml_type, data = tensor_data(rng, dims, matrix, kind)
        infos.append(gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
                     + struct.pack("<IQ", ggml_type, offset))
        padding = -len(data) % ALIGN
        blobs.append(data + b"\0" * padding)
        offset += len(data) + padding
    kv = metadata()
    header = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(kv))
    header += b"".join(gguf_string(key) + struct.pack("<I", t) + value for key, t, value in kv)
    header += b"".join(infos)
    header += b"\0" * (-len(header) % ALIGN)
    with open(out, "wb") as f:
        f.write(header)
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    main()
