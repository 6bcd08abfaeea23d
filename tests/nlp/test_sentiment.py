"""Sentiment analyzer: accuracy floor on dev slices, odd input, async behaviour."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from kith.nlp.encoder import MODEL_NAME
from kith.nlp.evaluate import EvalResult, evaluate_file, scores
from kith.nlp.sentiment import HEADS_DIR, Head, SentimentAnalyzer, SentimentResult

DATA_DIR = Path(os.environ.get("KITH_SENTIMENT_DATA", "/work/shared/data/sentiment"))

# The first 200 rows score 0.89/0.85 (airline) and 0.92/0.90 (waimai) accuracy/macro-F1 with
# the committed heads (full dev files in docs/nlp.md); a broken encoder, head or language
# routing lands near the majority-class rate (0.63 / 0.67), far below these floors.
SLICES = [
    (DATA_DIR / "en" / "airline_tweets_dev.csv", 0.83, 0.78),
    (DATA_DIR / "zh" / "waimai_10k_dev.csv", 0.87, 0.85),
]


def test_heads_are_small_and_committed() -> None:
    files = sorted(HEADS_DIR.glob("sentiment_*.npz"))
    assert {f.name for f in files} >= {
        "sentiment_en.npz",
        "sentiment_zh.npz",
        "sentiment_multi.npz",
    }
    assert sum(f.stat().st_size for f in files) < 5 * 1024 * 1024


@pytest.mark.parametrize(
    ("path", "min_acc", "min_f1"), SLICES, ids=lambda p: getattr(p, "stem", "")
)
def test_accuracy_floor_on_dev_slice(
    analyzer: SentimentAnalyzer, path: Path, min_acc: float, min_f1: float
) -> None:
    if not path.is_file():
        pytest.skip(f"{path} not available")
    res = evaluate_file(path, analyzer, limit=200)
    assert res.n == 200
    assert res.accuracy >= min_acc, res
    assert res.macro_f1 >= min_f1, res


def test_obvious_examples(analyzer: SentimentAnalyzer) -> None:
    res = analyzer.analyze(
        [
            "I love this, thank you so much, amazing service!",
            "Worst airline ever. Lost my luggage and rude staff.",
            "太好吃了，送餐也很快，五星好评！",
            "太难吃了，等了两个小时，再也不点了。",
        ]
    )
    assert [r.label for r in res] == ["positive", "negative", "positive", "negative"]
    assert [r.language for r in res] == ["en", "en", "zh", "zh"]
    assert res[0].score > 0.5 and res[1].score < -0.5


def test_bad_input_never_raises(analyzer: SentimentAnalyzer) -> None:
    odd = [
        "",
        "   \n\t ",
        "😀😀😀",
        "🤬",
        "x" * 50_000,
        "好" * 50_000,
        "The food 很好吃 but delivery 太慢了 honestly",
        "\x00\x01\x02\xff\xfe garbage \udcff",
        b"\x89PNG\r\n\x1a\n\x00\x00",
        None,
        12345,
        "Это был ужасный день",
    ]
    res = analyzer.analyze(odd)  # type: ignore[arg-type]
    assert len(res) == len(odd)
    for r in res:
        assert isinstance(r, SentimentResult)
        assert r.label in ("negative", "neutral", "positive")
        assert -1.0 <= r.score <= 1.0
        assert isinstance(r.language, str)
    assert res[0] == SentimentResult("neutral", 0.0, "und")
    assert analyzer.analyze([]) == []


def test_batch_equals_single(analyzer: SentimentAnalyzer) -> None:
    texts = ["great job", "服务态度很差", "meh, it was okay I guess", "Das war super"]
    batch = analyzer.analyze(texts)
    single = [analyzer.analyze([t])[0] for t in texts]
    assert [r.label for r in batch] == [r.label for r in single]
    for a, b in zip(batch, single, strict=True):
        assert abs(a.score - b.score) < 1e-3


async def test_analyze_async_does_not_block_loop(analyzer: SentimentAnalyzer) -> None:
    texts = ["This is a fairly long message about a delayed flight and a lost bag. " * 4] * 48
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    start = time.perf_counter()
    res = await analyzer.analyze_async(texts)
    elapsed = time.perf_counter() - start
    done.set()
    await tick
    assert len(res) == 48
    assert len(gaps) >= 5
    # The work takes around a second; the loop must keep ticking at ~10 ms throughout.
    assert max(gaps) < max(0.2, elapsed / 4), (max(gaps), elapsed)


def test_scores_helper() -> None:
    assert scores(["a", "b"], ["a", "a"]) == EvalResult(0.5, round((2 / 3 + 0) / 2, 4), 2)
    assert scores([], []) == EvalResult(0.0, 0.0, 0)


def test_binary_file_maps_neutral_by_score(analyzer: SentimentAnalyzer, tmp_path: Path) -> None:
    f = tmp_path / "bin.csv"
    f.write_text(
        "text,label\n太好吃了，五星好评,positive\n太难吃了，差评,negative\n", encoding="utf-8"
    )
    res = evaluate_file(f, analyzer)
    assert res == EvalResult(1.0, 1.0, 2)


def test_gated_head_mixes_experts_by_gate(tmp_path: Path) -> None:
    # Columns: shared | gate (2 corpora) | expert 1 | expert 2 (binary head: k = 1).
    coef = np.array([[1.0, 10.0, -10.0, 2.0, -2.0], [0.0, -10.0, 10.0, 5.0, -3.0]], np.float32)
    path = tmp_path / "gated.npz"
    np.savez(
        path,
        classes=np.array(["negative", "positive"]),
        coef_emb=coef,
        intercept=np.zeros(5, np.float32),
        emb_scale=np.float32(1.0),
        gates=np.int32(2),
    )
    head = Head(path)
    z = head.logits(["a", "b"], np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    assert z.shape == (2, 1)
    assert z[0, 0] == pytest.approx(3.0, abs=1e-3)  # shared 1 + expert 1 (gate ~1) * 2
    assert z[1, 0] == pytest.approx(-3.0, abs=1e-3)  # shared 0 + expert 2 (gate ~1) * -3


def test_neutral_detector_takes_its_share_from_both_polar_classes(tmp_path: Path) -> None:
    # A binary head whose embedding column says "positive" for dimension 0, and a neutral
    # detector that fires on dimension 1.
    path = tmp_path / "binary.npz"
    np.savez(
        path,
        classes=np.array(["negative", "positive"]),
        coef_emb=np.array([[4.0], [0.0]], np.float32),
        intercept=np.zeros(1, np.float32),
        emb_scale=np.float32(1.0),
        neutral_band=np.array([0.4, 0.6], np.float32),
        neutral_coef=np.array([0.0, 8.0], np.float32),
        neutral_intercept=np.float32(-4.0),
    )
    head = Head(path)
    emb = np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, 0.0]], np.float32)
    probs = head.probabilities(["polar", "neutral", "negative"], emb)
    assert probs.sum(axis=1) == pytest.approx([1.0, 1.0, 1.0])
    labels = [head.decide(p) for p in probs]
    assert [label for label, _ in labels] == ["positive", "neutral", "negative"]
    # The score keeps the binary model's sign, so binary data sets are scored as before, but
    # shrinks with P(neutral).
    p_pos = 1 / (1 + np.exp(-4.0))
    assert labels[0][1] == pytest.approx((1 - 1 / (1 + np.exp(4.0))) * (2 * p_pos - 1), abs=1e-3)
    assert 0 < labels[1][1] < labels[0][1]


SUPPORT_CHAT = Path(__file__).parent / "data"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_support_chat_questions_are_neutral(analyzer: SentimentAnalyzer, lang: str) -> None:
    """Customers' questions ("how do I return this?") must not read as complaints: the review-
    trained Chinese head alone called 30 of 30 questions negative (macro-F1 0.63 on this file);
    with the neutral detector it scores 0.92. Hand-written set, see docs/nlp.md."""
    res = evaluate_file(SUPPORT_CHAT / f"support_chat_{lang}.csv", analyzer)
    assert res.macro_f1 >= 0.85, res
    questions = ["怎么退货？", "可以开发票吗？"] if lang == "zh" else ["How do I return an item?"]
    assert {r.label for r in analyzer.analyze(questions)} == {"neutral"}


def test_one_shared_analyzer_per_model_and_quantization(tmp_path: Path) -> None:
    """Cores built with the same model settings share one analyzer (one model in memory);
    another model directory or int8 quantization gets its own."""
    first = SimpleNamespace(nlp_model_dir=str(tmp_path / "a"), nlp_quantize=False)
    same = SimpleNamespace(nlp_model_dir=str(tmp_path / "a"), nlp_quantize=False)
    shared = SentimentAnalyzer.shared(first)
    assert SentimentAnalyzer.shared(same) is shared
    assert shared.model_dir == tmp_path / "a" / MODEL_NAME and not shared.quantize
    quantized = SentimentAnalyzer.shared(
        SimpleNamespace(nlp_model_dir=str(tmp_path / "a"), nlp_quantize=True)
    )
    elsewhere = SentimentAnalyzer.shared(
        SimpleNamespace(nlp_model_dir=str(tmp_path / "b"), nlp_quantize=False)
    )
    assert len({id(shared), id(quantized), id(elsewhere)}) == 3
    assert quantized.quantize and elsewhere.model_dir == tmp_path / "b" / MODEL_NAME
