"""LoRA adapters: the encoder's top layers, trained for one head, shipped as a small file.

A frozen encoder with linear heads stopped gaining on the Chinese hotel reviews (docs/nlp.md);
training the top layers does gain, but four layers are 7M numbers, too many to ship in the
repo. A LoRA adapter learns for each Linear of those layers a low-rank update `up @ down`
instead (rank 8: about 0.2M numbers), kept as an `.npz` next to the heads and merged into a
copy of those layers when the encoder loads, so inference costs no more than before. The
layers below stay frozen and shared: training computes their output once per row and keeps it
(float16), so each epoch only runs the top layers forward and back.
"""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from kith.nlp.encoder import mean_pool, run_layers

if TYPE_CHECKING:  # pragma: no cover
    from kith.nlp.encoder import Encoder

# The Linear layers of a transformer layer that get an update (attention and feed-forward).
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
# Embeddings are L2-normalised, so logits need a fixed temperature to reach confident values.
LOGIT_SCALE = 10.0
LORA_SCALE = 2.0  # alpha / rank with alpha = 2 * rank, the usual choice


@dataclass(frozen=True)
class AdapterConfig:
    """How an adapter is trained (chosen on the dev files, see docs/nlp.md)."""

    first_layer: int = 8
    rank: int = 8
    epochs: int = 2
    lr: float = 5e-4
    batch_size: int = 32
    seed: int = 0


@dataclass(frozen=True)
class Adapter:
    """Low-rank updates for layers `first_layer`… of the encoder: weight += scale · up @ down.

    `down[key]` is (rank, in) and `up[key]` is (out, rank), keyed `"{layer}.{target}"`.
    """

    first_layer: int
    scale: float
    down: dict[str, np.ndarray]
    up: dict[str, np.ndarray]

    @classmethod
    def load(cls, path: Path) -> Adapter:
        with np.load(path, allow_pickle=False) as z:
            keys = [str(k) for k in z["keys"]]
            return cls(
                first_layer=int(z["first_layer"]),
                scale=float(z["scale"]),
                down={k: z[f"down:{k}"].astype(np.float32) for k in keys},
                up={k: z[f"up:{k}"].astype(np.float32) for k in keys},
            )

    def save(self, path: Path) -> None:
        """Written in float16: half the size, and heads are trained on the saved copy."""
        arrays: dict[str, Any] = {
            "keys": np.array(sorted(self.down)),
            "first_layer": np.int32(self.first_layer),
            "scale": np.float32(self.scale),
        }
        for key in self.down:
            arrays[f"down:{key}"] = self.down[key].astype(np.float16)
            arrays[f"up:{key}"] = self.up[key].astype(np.float16)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)

    def merged(self, layers: Sequence[Any]) -> list[Any]:
        """`layers` with copies of the adapted ones, their weights updated; the rest shared."""
        out = list(layers)
        for index in range(self.first_layer, len(out)):
            layer = copy.deepcopy(out[index])
            for target in TARGETS:
                key = f"{index}.{target}"
                delta = torch.from_numpy(self.up[key] @ self.down[key]) * self.scale
                with torch.no_grad():
                    layer.get_submodule(target).weight += delta
            out[index] = layer
        return out


def train_adapter(
    encoder: Encoder,
    texts: list[str],
    labels: list[str],
    config: AdapterConfig,
    say: Callable[[str], None] = lambda _: None,
) -> Adapter:
    """Train an adapter (and a throw-away linear head) to classify `texts` as `labels`."""
    torch.manual_seed(config.seed)
    shuffle = random.Random(config.seed)  # noqa: S311 (batch order, not cryptography)
    classes = sorted(set(labels))
    target = torch.tensor([classes.index(label) for label in labels])
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, encoder.batch_threads))
    try:
        states = _lower_states(encoder, texts, config.first_layer, say)
        top, lora = _trainable_top(encoder, config)
        head = torch.nn.Linear(encoder.dim, len(classes))
        params = [p for m in lora for p in (m.down, m.up)]
        optimiser = torch.optim.AdamW(
            [{"params": params, "lr": config.lr}, {"params": head.parameters(), "lr": 1e-3}],
            weight_decay=0.01,
        )
        groups = _length_groups(states, config.batch_size)
        steps = config.epochs * len(groups)
        warm = min(100, steps // 10 + 1)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / steps)
        )
        for epoch in range(config.epochs):
            shuffle.shuffle(groups)
            started, total = time.monotonic(), 0.0
            for rows in groups:
                logits = head(_pooled(top, states, rows) * LOGIT_SCALE)
                loss = torch.nn.functional.cross_entropy(logits, target[rows])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                schedule.step()
                total += loss.item()
            mean = total / len(groups)
            say(
                f"adapter epoch {epoch + 1}/{config.epochs}: loss {mean:.3f}"
                f" ({time.monotonic() - started:.0f} s)"
            )
    finally:
        torch.set_num_threads(threads)
    return _adapter_from(lora, config)


class _LoRALinear(torch.nn.Module):
    """Training-time wrapper: a frozen Linear plus scale · up @ down (up starts at zero, so
    training starts from the encoder as it is)."""

    def __init__(self, base: torch.nn.Linear, rank: int, scale: float, key: str) -> None:
        super().__init__()
        self.base = base
        self.scale = scale
        self.key = key
        bound = 1 / math.sqrt(base.in_features)
        self.down = torch.nn.Parameter(torch.randn(rank, base.in_features) * bound)
        self.up = torch.nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.down.T @ self.up.T) * self.scale


def _trainable_top(encoder: Encoder, config: AdapterConfig) -> tuple[list[Any], list[_LoRALinear]]:
    """Copies of the top layers, frozen, with every target wrapped in a `_LoRALinear`."""
    layers = encoder.stacks[None]
    top: list[Any] = []
    lora: list[_LoRALinear] = []
    for index in range(config.first_layer, len(layers)):
        layer = copy.deepcopy(layers[index])
        layer.train()
        layer.requires_grad_(False)
        for target in TARGETS:
            parent_name, _, attr = target.rpartition(".")
            parent = layer.get_submodule(parent_name)
            wrapped = _LoRALinear(
                getattr(parent, attr), config.rank, LORA_SCALE, f"{index}.{target}"
            )
            setattr(parent, attr, wrapped)
            lora.append(wrapped)
        top.append(layer)
    return top, lora


def _lower_states(
    encoder: Encoder, texts: list[str], first_layer: int, say: Callable[[str], None]
) -> list[torch.Tensor]:
    """Each text's token states after the frozen layers, unpadded, in float16."""
    ids = encoder.tokenize(texts)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    lower = encoder.stacks[None][:first_layer]
    states: list[torch.Tensor] = [torch.empty(0)] * len(ids)
    started = time.monotonic()
    with torch.no_grad():
        for at in range(0, len(order), 64):
            rows = order[at : at + 64]
            hidden, _ = encoder.lower_states([ids[i] for i in rows], lower)
            for r, i in enumerate(rows):
                states[i] = hidden[r, : len(ids[i])].to(torch.float16)
    say(
        f"adapter: layers below {first_layer} run once over {len(ids)} rows"
        f" ({time.monotonic() - started:.0f} s)"
    )
    return states


def _length_groups(states: list[torch.Tensor], size: int) -> list[list[int]]:
    """Batches of rows of similar length (little padding), in length order."""
    order = sorted(range(len(states)), key=lambda i: states[i].shape[0])
    return [order[at : at + size] for at in range(0, len(order), size)]


def _pooled(top: list[Any], states: list[torch.Tensor], rows: list[int]) -> torch.Tensor:
    """Normalised sentence embeddings of `rows` through the (adapted) top layers."""
    width = max(states[i].shape[0] for i in rows)
    hidden = torch.zeros((len(rows), width, states[rows[0]].shape[1]))
    mask = torch.zeros((len(rows), width))
    for r, i in enumerate(rows):
        n = states[i].shape[0]
        hidden[r, :n] = states[i]
        mask[r, :n] = 1
    out = run_layers(hidden, mask, top)
    return torch.nn.functional.normalize(mean_pool(out, mask), p=2, dim=1)


def _adapter_from(lora: list[_LoRALinear], config: AdapterConfig) -> Adapter:
    return Adapter(
        first_layer=config.first_layer,
        scale=LORA_SCALE,
        down={m.key: m.down.detach().numpy().copy() for m in lora},
        up={m.key: m.up.detach().numpy().copy() for m in lora},
    )
