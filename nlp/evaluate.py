"""Accuracy and macro-F1 of the sentiment analyzer on a labelled CSV (`text,label`).

A file whose labels are only negative/positive (the Chinese corpora) is scored on the binary
decision: a predicted "neutral" counts as positive when score >= 0, i.e. when P(positive) is at
least P(negative) -- for a binary head exactly P(positive) >= 0.5.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kith.nlp.sentiment import LABELS, SentimentAnalyzer, SentimentResult

BINARY_LABELS = frozenset({"negative", "positive"})


@dataclass(frozen=True)
class EvalResult:
    """Scores on one file; macro_f1 averages per-class F1 over the labels present."""

    accuracy: float
    macro_f1: float
    n: int


def read_labelled_csv(path: str | Path, limit: int | None = None) -> tuple[list[str], list[str]]:
    """Texts and labels from a `text,label` CSV (UTF-8, header required)."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    texts: list[str] = []
    labels: list[str] = []
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected a header with columns text,label")
        for row in reader:
            label = (row["label"] or "").strip().lower()
            if label not in LABELS:
                # A comma in an unquoted text shifts the columns: say where, do not score it.
                raise ValueError(
                    f"{path}: line {reader.line_num}: label {label!r} is not one of "
                    f"{', '.join(LABELS)} (quote texts that contain commas)"
                )
            texts.append(row["text"] or "")
            labels.append(label)
            if limit is not None and len(texts) >= limit:
                break
    return texts, labels


def scores(gold: Sequence[str], pred: Sequence[str]) -> EvalResult:
    """Accuracy and macro-F1 (labels = union of gold and predicted, as scikit-learn does)."""
    n = len(gold)
    if n == 0:
        return EvalResult(0.0, 0.0, 0)
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / n
    f1s = []
    for label in sorted(set(gold) | set(pred)):
        tp = sum(g == label and p == label for g, p in zip(gold, pred, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, pred, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, pred, strict=True))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return EvalResult(round(acc, 4), round(sum(f1s) / len(f1s), 4), n)


def binary_label(result: SentimentResult) -> str:
    """Negative/positive decision for binary data sets."""
    if result.label in BINARY_LABELS:
        return result.label
    return "positive" if result.score >= 0 else "negative"


def evaluate_texts(texts: list[str], gold: list[str], analyzer: SentimentAnalyzer) -> EvalResult:
    """Score the analyzer on given texts and gold labels."""
    results = analyzer.analyze(texts)
    if set(gold) <= BINARY_LABELS:
        pred = [binary_label(r) for r in results]
    else:
        pred = [r.label for r in results]
    return scores(gold, pred)


def evaluate_file(
    path: str | Path, analyzer: SentimentAnalyzer | None = None, limit: int | None = None
) -> EvalResult:
    """Evaluate on a `text,label` CSV; `limit` takes only the first rows (for quick checks)."""
    texts, gold = read_labelled_csv(path, limit)
    return evaluate_texts(texts, gold, analyzer or SentimentAnalyzer.shared())
