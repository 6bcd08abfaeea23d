"""`kith nlp train` end to end on a tiny labelled data set, with the real encoder."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")

from kith.nlp.sentiment import Head, SentimentAnalyzer
from kith.nlp.train import CONFIGS, _label_likelihood, _load_split, train_heads

ZH_GOOD = ["味道很好", "送餐很快", "服务热情", "房间干净", "质量不错", "非常满意"]
ZH_BAD = ["味道很差", "送餐太慢", "服务恶劣", "房间很脏", "质量太差", "非常失望"]
EN_GOOD = ["love it", "great service", "thank you so much", "amazing crew", "best flight"]
EN_BAD = ["worst airline", "lost my bag", "rude staff", "delayed again", "terrible food"]
EN_NEUTRAL = ["what time is", "where do I find", "how do I change", "is there a", "can I book"]
MISLABELLED = "味道很好，送餐很快，非常满意"


def _pairs(words: list[str], glue: str) -> list[str]:
    return [glue.join(p) for p in itertools.permutations(words, 2)]


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sentiment")
    zh = [(t, "positive") for t in _pairs(ZH_GOOD, "，")] + [
        (t, "negative") for t in _pairs(ZH_BAD, "，")
    ]
    zh.append((MISLABELLED, "negative"))
    _write(root / "zh" / "reviews_train.csv", [*zh[::2], zh[-1]])
    _write(root / "zh" / "shop_train.csv", zh[1::2])
    _write(
        root / "zh" / "reviews_dev.csv",
        [("味道很好，服务热情", "positive")] * 10 + [("送餐太慢，非常失望", "negative")] * 10,
    )
    en = (
        [(f"{a}, {b}", "positive") for a, b in itertools.permutations(EN_GOOD, 2)]
        + [(f"{a}, {b}", "negative") for a, b in itertools.permutations(EN_BAD, 2)]
        + [(f"{a} the {b}?", "neutral") for a, b in itertools.product(EN_NEUTRAL, ["gate", "desk"])]
    )
    _write(root / "en" / "tweets_train.csv", en)
    _write(root / "en" / "tweets_dev.csv", en[::3])
    return root


def test_training_writes_heads_that_the_analyzer_uses(
    model_dir: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "heads"
    report = train_heads(data_dir, out, cache_dir=tmp_path / "cache", progress=False)
    assert {p.name for p in out.glob("*.npz")} == {
        "sentiment_en.npz",
        "sentiment_zh.npz",
        "sentiment_multi.npz",
    }
    assert report["reviews_dev.csv"].accuracy == 1.0
    zh = Head(out / "sentiment_zh.npz")
    assert zh.band is not None and zh.neutral_coef is not None  # binary: band and detector
    assert Head(out / "sentiment_en.npz").neutral_coef is None  # three classes of its own
    analyzer = SentimentAnalyzer(model_dir, heads_dir=out)
    try:
        good, bad = analyzer.analyze(["味道很好，质量不错", "服务恶劣，房间很脏"])
    finally:
        analyzer.close()
    assert (good.label, bad.label) == ("positive", "negative")


def test_the_label_check_finds_the_mislabelled_row(model_dir: Path, data_dir: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from kith.nlp.encoder import Encoder

    files = sorted((data_dir / "zh").glob("*_train.csv"))
    split = _load_split(Encoder(model_dir), files, data_dir / "cache", False)
    likelihood = _label_likelihood(LogisticRegression, CONFIGS["zh"], "zh", split)
    worst = int(np.argmin(likelihood))
    assert split.texts[worst] == MISLABELLED
    # Held out, the row's own label is the less likely one; the others' labels are believed.
    assert likelihood[worst] < 0.5 < np.median(likelihood)
