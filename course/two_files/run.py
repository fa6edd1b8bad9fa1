# run.py · 1/4 · read the weights file
"""run.py: run a GPT exported by the course (notebook 13) with NumPy alone.

    python run.py model.safetensors --prompt "ROMEO:" --tokens 200 --temperature 0.8 --seed 0

The weights file is safetensors: 8 bytes (a little-endian uint64 N), N bytes of JSON naming every
tensor's dtype, shape and byte range, then the tensors' raw bytes. The JSON's "__metadata__" holds
the model's config, its tokenizer and how each quantised tensor is stored.
"""

import argparse
import json
import time

import numpy as np

FORMAT, VERSION = "llm-course/two-files", "2"
DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "I8": np.int8, "U8": np.uint8}


def read_weights(path):
    """Every tensor as a NumPy array (quantised ones still packed), and the metadata."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    if len(raw) < 8 + n:
        raise ValueError(
            f"{path} is truncated: its header needs {8 + n} bytes, the file has "
            f"{len(raw)}; export the model again"
        )
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    if (meta.get("format"), meta.get("version")) == (FORMAT, "1"):
        raise ValueError(
            f"{path} is version 1, with the old tensor names (tok_emb, blocks.0.attn.q, ...); this "
            "run.py reads version 2's LLaMA names (embed_tokens, layers.0.self_attn.q_proj, ...): "
            "export the model again with course.export"
        )
    if (meta.get("format"), meta.get("version")) != (FORMAT, VERSION):
        raise ValueError(
            f"{path} is format {meta.get('format')!r} version {meta.get('version')!r}; "
            f"this run.py reads {FORMAT!r} version {VERSION!r}: export it again"
        )
    data, tensors = memoryview(raw)[8 + n :], {}
    for name, t in header.items():
        start, end = t["data_offsets"]
        if end > len(data):
            raise ValueError(
                f"{path} is truncated: {name} ends at byte {end} of the data, which "
                f"has {len(data)}; export the model again"
            )
        tensors[name] = np.frombuffer(data[start:end], DTYPES[t["dtype"]]).reshape(t["shape"])
    return tensors, {k: json.loads(v) for k, v in meta.items() if k not in ("format", "version")}


def dequantise(packed, scale, scheme):
    """Float32 weights from their stored form: bf16 bits, int8 rows or int4 groups, times scales."""
    if scheme["kind"] == "bf16":  # bf16 is the top half of a float32's bits
        return (packed.astype(np.uint32) << 16).view(np.float32)
    if scheme["kind"] == "int8":  # w[row, :] = q[row, :] * scale[row]
        return packed.astype(np.float32) * scale[:, None]
    low = (packed & 0x0F).astype(np.int8) - 8  # int4: two weights per byte, stored as q + 8
    high = (packed >> 4).astype(np.int8) - 8
    q = np.stack([low, high], axis=-1).reshape(packed.shape[0], -1, scheme["group"])
    return (q * scale[:, :, None].astype(np.float32)).reshape(packed.shape[0], -1)


# run.py · 2/4 · the building blocks
def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(-1, keepdims=True) + eps) * w + b


def rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * w


def gelu(x):  # 0.5 x (1 + erf(x / sqrt 2)); erf by Abramowitz & Stegun 7.1.26 (error < 1.5e-7)
    z = np.abs(x) * 0.7071067811865476  # (Python floats keep the arrays float32)
    t = 1.0 / (1.0 + 0.3275911 * z)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = np.sign(x) * (1.0 - poly * np.exp(-z * z))
    return 0.5 * x * (1.0 + erf)


def silu(x):
    return x / (1.0 + np.exp(-x))


def rope(x, positions, base):  # rotate pairs (x[2i], x[2i+1]) of x (heads, T, D) by pos * theta_i
    theta = base ** (-np.arange(0, x.shape[-1], 2, dtype=np.float64) / x.shape[-1])
    angle = np.outer(positions, theta)
    cos, sin = np.cos(angle).astype(np.float32), np.sin(angle).astype(np.float32)
    even, odd = x[..., 0::2], x[..., 1::2]
    return np.stack([even * cos - odd * sin, even * sin + odd * cos], axis=-1).reshape(x.shape)


# run.py · 3/4 · the model, with a key/value cache
class GPT:
    def __init__(self, path):
        self.tensors, meta = read_weights(path)
        self.config, self.quant, self.chars = meta["config"], meta["quant"], meta["tokenizer"]

    def w(self, name):  # float32 weights; quantised ones are dequantised here, at every use
        if name not in self.quant:
            return self.tensors.get(name)
        return dequantise(self.tensors[name], self.tensors.get(name + ".scale"), self.quant[name])

    def linear(self, x, name):  # x @ W^T + b, W stored (out, in) as in torch.nn.Linear
        y, b = x @ self.w(name + ".weight").T, self.w(name + ".bias")
        return y if b is None else y + b

    def norm(self, x, name):
        c = self.config
        if c["norm"] == "rmsnorm":
            return rms_norm(x, self.w(name + ".weight"), c["norm_eps"])
        bias = self.w(name + ".bias")  # a LayerNorm without bias adds nothing
        return layer_norm(x, self.w(name + ".weight"), 0.0 if bias is None else bias, c["norm_eps"])

    def new_cache(self):  # keys and values of every layer for up to block_size positions
        c = self.config
        shape = (c["n_layer"], 2, c["n_kv_head"], c["block_size"], c["n_embd"] // c["n_head"])
        return {"kv": np.zeros(shape, np.float32), "length": 0}

    def forward(self, tokens, cache):
        """Logits (T, vocab) for T new tokens; their keys and values join the cache."""
        c, start, T = self.config, cache["length"], len(tokens)
        if start + T > c["block_size"]:
            raise ValueError(
                f"{start + T} positions but the model's context is {c['block_size']}; "
                "crop the input to its last block_size tokens"
            )
        H, KV, D = c["n_head"], c["n_kv_head"], c["n_embd"] // c["n_head"]
        positions = np.arange(start, start + T)
        x = self.w("embed_tokens.weight")[tokens]  # (T, C)
        if c["position"] == "learned":
            x = x + self.w("embed_positions.weight")[positions]
        causal = positions[:, None] >= np.arange(start + T)[None, :]  # (T, start + T)
        for i in range(c["n_layer"]):
            p, kv = f"layers.{i}.", cache["kv"][i]
            h = self.norm(x, p + "input_layernorm")
            q, k, v = (
                self.linear(h, f"{p}self_attn.{n}_proj").reshape(T, -1, D).transpose(1, 0, 2)
                for n in "qkv"
            )  # (heads, T, D)
            if c["position"] == "rope":
                q, k = rope(q, positions, c["rope_base"]), rope(k, positions, c["rope_base"])
            kv[0, :, start : start + T], kv[1, :, start : start + T] = k, v
            keys = np.repeat(kv[0, :, : start + T], H // KV, axis=0)  # GQA: (H, start + T, D)
            values = np.repeat(kv[1, :, : start + T], H // KV, axis=0)
            scores = np.where(causal, q @ keys.transpose(0, 2, 1) / D**0.5, -np.inf)
            weights = np.exp(scores - scores.max(-1, keepdims=True))
            weights /= weights.sum(-1, keepdims=True)  # softmax: (H, T, start + T)
            attended = (weights @ values).transpose(1, 0, 2).reshape(T, H * D)
            x = x + self.linear(attended, p + "self_attn.o_proj")
            h = self.norm(x, p + "post_attention_layernorm")
            if c["mlp"] == "swiglu":
                h = silu(self.linear(h, p + "mlp.gate_proj")) * self.linear(h, p + "mlp.up_proj")
            else:
                h = gelu(self.linear(h, p + "mlp.up_proj"))
            x = x + self.linear(h, p + "mlp.down_proj")
        cache["length"] = start + T
        # weight tying: without an lm_head of its own, the embedding matrix reads out the logits
        head = "lm_head.weight" if "lm_head.weight" in self.tensors else "embed_tokens.weight"
        return self.norm(x, "norm") @ self.w(head).T  # (T, vocab)


# run.py · 4/4 · tokenizer, sampling, the command line
def encode(model, text):
    unknown = sorted(set(text) - set(model.chars))
    if unknown:
        raise ValueError(
            f"the characters {unknown} are not in the model's vocabulary; leave them out"
        )
    return [model.chars.index(ch) for ch in text]


def decode(model, ids):
    return "".join(model.chars[i] for i in ids)


def generate(model, ids, new_tokens, temperature=0.0, seed=0):
    """Extend ids by new_tokens tokens: greedy when temperature is 0, else sampled."""
    rng, block = np.random.default_rng(seed), model.config["block_size"]
    cache, fed, out = model.new_cache(), 0, list(ids)
    for _ in range(new_tokens):
        if len(out) <= block:  # feed only the tokens the cache has not seen
            logits, fed = model.forward(out[fed:], cache)[-1], len(out)
        else:  # past the context: positions are absolute, so re-read the last block tokens
            logits = model.forward(out[-block:], model.new_cache())[-1]
        if temperature == 0:
            out.append(int(np.argmax(logits)))
        else:
            probs = np.exp((logits - logits.max()) / temperature)
            out.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run an exported GPT with NumPy alone.")
    parser.add_argument("weights")
    parser.add_argument("--prompt", default="\n")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model = GPT(args.weights)
    began = time.perf_counter()
    out = generate(model, encode(model, args.prompt), args.tokens, args.temperature, args.seed)
    seconds = time.perf_counter() - began
    print(decode(model, out))
    print(f"[{args.tokens} tokens in {seconds:.2f} s: {args.tokens / seconds:.0f} tokens/s]")


if __name__ == "__main__":
    main()
