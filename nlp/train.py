"""Regenerate the sentiment heads in `kith/nlp/heads/` from the labelled CSV files.

Run `kith nlp train --data-dir DIR` (or `python -m kith.nlp.train DIR`). Needs scikit-learn
(training only; inference uses numpy). Each language's head is one logistic regression over
[e5 embedding * emb_scale, character n-gram TF-IDF] trained on all `*_train.csv` rows of that
language; the hyper-parameters below were chosen on the `*_dev.csv` files, which are then used
to report the scores and to calibrate the Chinese neutral band. Embeddings are cached by file
digest, so a re-run after changing only the head is quick.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kith.nlp.encoder import Encoder, model_root, prepare_models
from kith.nlp.evaluate import EvalResult, read_labelled_csv, scores
from kith.nlp.ngrams import NgramVectorizer
from kith.nlp.sentiment import FALLBACK_HEAD, HEADS_DIR, LABELS, Head


@dataclass(frozen=True)
class HeadConfig:
    """Hyper-parameters of one language's head (chosen on the dev files).

    The head is a weighted sum of two logistic regressions' logits, folded into one linear
    model: `ngram_weight` * (TF-IDF model) + (1 - `ngram_weight`) * (embedding model). The
    TF-IDF model sees every training row; the embedding model only the first `embed_rows` of
    each file, because embedding is the slow part (two CPU cores) and gains flatten out.
    """

    c_ngram: float
    c_emb: float
    ngram_weight: float
    max_features: int
    embed_rows: int
    class_weight: str | None = None
    nb_scale: bool = False  # binary only: scale n-grams by their log-count ratio (NB-LR)


CONFIGS: dict[str, HeadConfig] = {
    "en": HeadConfig(
        c_ngram=2.0, c_emb=4.0, ngram_weight=0.6, max_features=60000, embed_rows=2500,
        class_weight="balanced",
    ),
    "zh": HeadConfig(
        c_ngram=5.0, c_emb=1.0, ngram_weight=0.6, max_features=80000, embed_rows=1000,
    ),
}  # fmt: skip
# Band on P(positive) inside which a binary head answers "neutral": the widest symmetric band
# whose dev rows are classified no better than this (i.e. where the head is close to guessing).
BAND_MAX_ACCURACY = 0.7
BAND_MAX_HALF_WIDTH = 0.2


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(f"kith train: {msg}", file=sys.stderr, flush=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _embed_file(
    encoder: Encoder, path: Path, texts: list[str], rows: int, cache: Path, progress: bool
) -> np.ndarray:
    key = cache / f"{path.stem}-{_digest(path)}-{rows}-{encoder.max_length}.npy"
    if key.is_file():
        return np.load(key, allow_pickle=False)
    _say(f"embedding {path.name} ({len(texts)} rows)", progress)
    emb = encoder.embed(texts)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(key, emb)
    return emb


def _sparse(vec: NgramVectorizer, texts: list[str]) -> Any:
    import scipy.sparse as sp

    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for idx, val in vec.transform(texts):
        indices.append(idx)
        data.append(val)
        indptr.append(indptr[-1] + len(idx))
    return sp.csr_matrix(
        (
            np.concatenate(data) if data else np.zeros(0, np.float32),
            np.concatenate(indices) if indices else np.zeros(0, np.int64),
            np.asarray(indptr),
        ),
        shape=(len(texts), len(vec.terms)),
    )


def _nb_ratio(x: Any, y: list[str]) -> np.ndarray | None:
    """Naive-Bayes log-count ratio per feature (Wang & Manning 2012); None unless binary."""
    labels = sorted(set(y))
    if len(labels) != 2:
        return None
    pos = np.array([v == labels[1] for v in y])
    p = np.asarray(x[pos].sum(axis=0)).ravel() + 1.0
    q = np.asarray(x[~pos].sum(axis=0)).ravel() + 1.0
    return np.log((p / p.sum()) / (q / q.sum())).astype(np.float64)


def _calibrate_band(p_pos: np.ndarray, gold: list[str]) -> tuple[float, float]:
    """Widest symmetric band around 0.5 where dev accuracy stays <= BAND_MAX_ACCURACY."""
    truth = np.array([g == "positive" for g in gold])
    dist = np.abs(p_pos - 0.5)
    best = 0.0
    for half in np.arange(0.02, BAND_MAX_HALF_WIDTH + 1e-9, 0.01):
        inside = dist <= half
        if inside.sum() < 10:
            continue
        acc = float(((p_pos[inside] >= 0.5) == truth[inside]).mean())
        if acc <= BAND_MAX_ACCURACY:
            best = float(half)
    best = round(best, 2)
    return 0.5 - best, 0.5 + best


def _save_head(
    out: Path,
    classes: list[str],
    coef_emb: np.ndarray,
    coef_ngram: np.ndarray | None,
    intercept: np.ndarray,
    vec: NgramVectorizer | None,
    band: tuple[float, float] | None,
) -> None:
    """Write a head; coefficient matrices are (features, k) with k = 1 for binary heads."""
    arrays: dict[str, Any] = {
        "classes": np.array(classes),
        "coef_emb": coef_emb.astype(np.float32),
        "intercept": intercept.astype(np.float32),
        "emb_scale": np.float32(1.0),
    }
    if vec is not None and coef_ngram is not None:
        arrays["terms"] = np.array(vec.terms)
        arrays["idf"] = vec.idf.astype(np.float32)
        arrays["coef_ngram"] = coef_ngram.astype(np.float16)
        arrays["ngram_lang"] = np.array(vec.lang)
    if band is not None:
        arrays["neutral_band"] = np.array(band, dtype=np.float32)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)


def _files(data_dir: Path, lang: str, split: str) -> list[Path]:
    return sorted((data_dir / lang).glob(f"*_{split}.csv"))


def train_heads(
    data_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, EvalResult]:
    """Train and write the heads; return the dev scores per dev file."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("training needs scikit-learn: pip install scikit-learn") from exc

    data = Path(data_dir)
    out = Path(out_dir) if out_dir is not None else HEADS_DIR
    cache = Path(cache_dir) if cache_dir is not None else model_root() / "train-cache"
    encoder = Encoder(prepare_models(progress=progress))
    report: dict[str, EvalResult] = {}

    def load(
        paths: list[Path], embed_rows: int | None
    ) -> tuple[list[str], list[str], np.ndarray, list[int], list[int]]:
        """All texts and labels, plus embeddings of the first `embed_rows` rows of each file."""
        texts: list[str] = []
        labels: list[str] = []
        embs: list[np.ndarray] = []
        sizes: list[int] = []
        emb_rows: list[int] = []
        for p in paths:
            t, lab = read_labelled_csv(p)
            k = len(t) if embed_rows is None else min(embed_rows, len(t))
            emb_rows += range(len(texts), len(texts) + k)
            embs.append(_embed_file(encoder, p, t[:k], k, cache, progress))
            texts += t
            labels += lab
            sizes.append(len(t))
        return texts, labels, np.concatenate(embs), sizes, emb_rows

    for lang, cfg in CONFIGS.items():
        train_paths, dev_paths = _files(data, lang, "train"), _files(data, lang, "dev")
        if not train_paths:
            raise FileNotFoundError(f"no {lang}/*_train.csv under {data}")
        x_text, y, x_emb, _, emb_rows = load(train_paths, cfg.embed_rows)
        y_emb = [y[i] for i in emb_rows]
        _say(f"{lang}: n-gram model on {len(x_text)} rows", progress)
        vec = NgramVectorizer.fit(x_text, lang, max_features=cfg.max_features)
        x_ngram = _sparse(vec, x_text)
        ratio = _nb_ratio(x_ngram, y) if cfg.nb_scale else None
        if ratio is not None:
            x_ngram = x_ngram.multiply(ratio).tocsr()
        ngram_clf = LogisticRegression(
            C=cfg.c_ngram, max_iter=3000, class_weight=cfg.class_weight
        ).fit(x_ngram, y)
        _say(f"{lang}: embedding model on {len(y_emb)} rows", progress)
        emb_clf = LogisticRegression(C=cfg.c_emb, max_iter=3000, class_weight=cfg.class_weight)
        emb_clf.fit(x_emb, y_emb)
        classes = [str(c) for c in ngram_clf.classes_]
        if classes != [str(c) for c in emb_clf.classes_]:
            raise ValueError(f"{lang}: label sets differ between the two models")
        w = cfg.ngram_weight
        coef_ngram = w * ngram_clf.coef_.T
        if ratio is not None:  # fold the NB scaling into the weights: runtime stays plain
            coef_ngram = coef_ngram * ratio[:, None]
        coef_emb = (1 - w) * emb_clf.coef_.T
        intercept = w * ngram_clf.intercept_ + (1 - w) * emb_clf.intercept_
        path = out / f"sentiment_{lang}.npz"
        _save_head(path, classes, coef_emb, coef_ngram, intercept, vec, None)
        d_text, d_y, d_emb, d_sizes, _ = load(dev_paths, None)
        if len(classes) == 2 and d_text:
            p_pos = Head(path).probabilities(d_text, d_emb)[:, LABELS.index(classes[1])]
            band = _calibrate_band(p_pos, d_y)
            _say(f"{lang}: neutral band on P(positive) = {band}", progress)
            _save_head(path, classes, coef_emb, coef_ngram, intercept, vec, band)
        report.update(_score_dev(Head(path), d_text, d_y, d_emb, d_sizes, dev_paths))
        if lang == "en":
            # Other languages: the English embedding model alone, through e5's shared space.
            _say("multi: embedding-only fallback head (English data)", progress)
            _save_head(
                out / f"sentiment_{FALLBACK_HEAD}.npz",
                classes,
                emb_clf.coef_.T,
                None,
                emb_clf.intercept_,
                None,
                None,
            )
    return report


def _score_dev(
    head: Head,
    texts: list[str],
    gold: list[str],
    emb: np.ndarray,
    sizes: list[int],
    paths: list[Path],
) -> dict[str, EvalResult]:
    """Dev scores computed exactly as `evaluate_file` would, from cached embeddings."""
    probs = head.probabilities(texts, emb)
    pred: list[str] = []
    for p in probs:
        label, score = head.decide(p)
        if label == "neutral" and head.band is not None:
            label = "positive" if score >= 0 else "negative"
        pred.append(label)
    out: dict[str, EvalResult] = {}
    start = 0
    for path, size in zip(paths, sizes, strict=True):
        out[path.name] = scores(gold[start : start + size], pred[start : start + size])
        start += size
    return out


def main(argv: list[str] | None = None) -> None:
    """`python -m kith.nlp.train DATA_DIR [OUT_DIR]`."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m kith.nlp.train DATA_DIR [OUT_DIR]", file=sys.stderr)
        raise SystemExit(2)
    report = train_heads(args[0], args[1] if len(args) > 1 else None)
    for name, res in report.items():
        print(f"{name}: accuracy={res.accuracy:.4f} macro_f1={res.macro_f1:.4f} n={res.n}")


if __name__ == "__main__":
    main()


__all__ = ["CONFIGS", "LABELS", "HeadConfig", "main", "train_heads"]
