"""LoRA adapters: what training learns is what inference runs, and the plain encoder is left
as it was (the knowledge base and the other heads keep using it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kith.nlp.encoder import Encoder

torch = pytest.importorskip("torch")

from kith.nlp.adapter import (  # noqa: E402 (needs torch)
    TARGETS,
    Adapter,
    AdapterConfig,
    _lower_states,
    _pooled,
    _trainable_top,
    train_adapter,
)

TEXTS = ["房间很干净，服务也好", "太差了，再也不来", "The food was cold.", "ok"]
CONFIG = AdapterConfig(first_layer=10, rank=2, epochs=3, lr=5e-3, batch_size=4)


def test_merged_layers_compute_what_the_trained_wrappers_computed(
    model_dir: Path, tmp_path: Path
) -> None:
    base = Encoder(model_dir)
    top, lora = _trainable_top(base, CONFIG)
    generator = torch.Generator().manual_seed(1)
    for m in lora:  # as if trained: up is no longer zero
        m.up.data = torch.randn(m.up.shape, generator=generator) * 0.05
    with torch.no_grad():
        states = _lower_states(base, TEXTS, CONFIG.first_layer, lambda _: None)
        wrapped = _pooled(top, states, list(range(len(TEXTS)))).numpy()
    trained = Adapter(
        first_layer=CONFIG.first_layer,
        scale=lora[0].scale,
        down={m.key: m.down.detach().numpy() for m in lora},
        up={m.key: m.up.detach().numpy() for m in lora},
    )
    trained.save(tmp_path / "adapter.npz")

    encoder = Encoder(model_dir, adapters={"zh": Adapter.load(tmp_path / "adapter.npz")})
    adapted = encoder.embed(TEXTS, adapter="zh")
    plain = encoder.embed(TEXTS)

    # float16 storage and float16 lower states move the fourth decimal, nothing more
    assert np.min(np.sum(adapted * wrapped, axis=1)) > 0.9999
    assert np.allclose(plain, base.embed(TEXTS), atol=1e-6)  # the shared layers are untouched
    assert np.max(np.sum(adapted * plain, axis=1)) < 0.999  # the adapter does change the output


def test_training_is_reproducible_and_moves_the_embeddings(model_dir: Path) -> None:
    encoder = Encoder(model_dir)
    happy = ["好极了，非常满意", "太好吃了，推荐", "真棒，下次还来", "服务周到，很开心"]
    cross = ["太差了，很失望", "难吃，再也不点", "服务态度恶劣", "又慢又冷，差评"]
    texts = happy + cross
    labels = ["positive"] * 4 + ["negative"] * 4
    first = train_adapter(encoder, texts, labels, CONFIG)
    again = train_adapter(encoder, texts, labels, CONFIG)

    assert sorted(first.down) == sorted(f"{i}.{t}" for i in (10, 11) for t in TARGETS)
    for key in first.down:
        assert np.array_equal(first.down[key], again.down[key])
        assert np.array_equal(first.up[key], again.up[key])
    assert any(np.abs(up).max() > 0 for up in first.up.values())
    assert encoder.stacks.keys() == {None}  # training worked on copies
