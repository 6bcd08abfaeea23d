"""Regenerate the sentiment heads in `kith/nlp/heads/` from the labelled CSV files.

Run `kith nlp train --data-dir DIR` (or `python -m kith.nlp.train DIR`). Needs scikit-learn
(training only; inference uses numpy). Each language's head is one logistic regression over
[e5 embedding * emb_scale, character n-gram TF-IDF] trained on all `*_train.csv` rows of that
language (for Chinese, minus the rows a cross-fitted check finds mislabelled); the
hyper-parameters below were chosen on the `*_dev.csv` files, which are then used to report the
scores and to calibrate the Chinese neutral band. The Chinese head also gets a neutral detector
trained on the English rows (the Chinese corpora have no neutral label). Embeddings are cached
by file digest in the cache folder, so a re-run after changing only the head is quick
(embedding every row takes tens of minutes on two busy cores).
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
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

    One logistic regression (inverse regularisation `c`) over the L2-normalised e5 embedding
    times `emb_scale` next to the L2-normalised n-gram TF-IDF row: the scale sets how strongly
    the embedding weights are regularised relative to the n-gram ones. Trained jointly, the two
    views beat a fixed blend of two separately trained models (docs/nlp.md). `gated` adds
    per-corpus experts ("frustratingly easy" domain adaptation: each row's features, and a
    constant, are copied into its corpus' block) mixed at run time by a corpus classifier
    (inverse regularisation `gate_c`) over the same features, see `Head`.
    """

    c: float
    emb_scale: float
    max_features: int
    class_weight: str | None = None
    gated: bool = False  # one expert per training file, mixed by a corpus classifier
    gate_c: float = 5.0
    # Training rows whose label a model that never saw them gives less than this probability
    # are dropped before the final fit (confident learning: most of them are mislabelled).
    clean_below: float | None = None


CONFIGS: dict[str, HeadConfig] = {
    "en": HeadConfig(c=1.0, emb_scale=1.0, max_features=60000, class_weight="balanced"),
    "zh": HeadConfig(
        c=5.0, emb_scale=0.5, max_features=80000, gated=True, gate_c=20.0, clean_below=0.05
    ),
}
# The fallback head (other scripts) is the embedding view alone, trained on the English data.
FALLBACK_C = 4.0
# Band on P(positive) inside which a binary head answers "neutral": the widest symmetric band
# whose dev rows are classified no better than this (i.e. where the head is close to guessing).
BAND_MAX_ACCURACY = 0.7
BAND_MAX_HALF_WIDTH = 0.2
# Binary heads get a neutral detector trained on the languages that have neutral rows: an
# embedding-only "neutral vs polar" logistic regression. Balanced class weights, like the
# English head: a support chat is mostly neutral questions, unlike the tweets' 34 %.
NEUTRAL_SOURCES = ("en",)
NEUTRAL_C = 1.0
CLEAN_FOLDS = 4


def _say(msg: str, progress: bool) -> None:
    if progress:
        print(f"kith train: {msg}", file=sys.stderr, flush=True)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _embed_file(
    encoder: Encoder, path: Path, texts: list[str], cache: Path, progress: bool
) -> np.ndarray:
    key = cache / f"{path.stem}-{_digest(path)}-{len(texts)}-{encoder.max_length}.npy"
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
    coef: np.ndarray,
    intercept: np.ndarray,
    emb_scale: float,
    vec: NgramVectorizer | None,
    gates: int = 0,
) -> None:
    """Write a head. `coef` is (features, columns): k columns (k = 1 for a binary head), or
    k + D + D * k for one gated over D corpora; the embedding's rows come first, then one row
    per n-gram of `vec` (if any)."""
    dim = coef.shape[0] - (len(vec.terms) if vec is not None else 0)
    arrays: dict[str, Any] = {
        "classes": np.array(classes),
        "coef_emb": coef[:dim].astype(np.float32),
        "intercept": intercept.astype(np.float32),
        "emb_scale": np.float32(emb_scale),
        "gates": np.int32(gates),
    }
    if vec is not None:
        arrays["terms"] = np.array(vec.terms)
        arrays["idf"] = vec.idf.astype(np.float32)
        arrays["coef_ngram"] = coef[dim:].astype(np.float16)
        arrays["ngram_lang"] = np.array(vec.lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)


def _files(data_dir: Path, lang: str, split: str) -> list[Path]:
    return sorted((data_dir / lang).glob(f"*_{split}.csv"))


@dataclass
class _Split:
    """Every row of one language's train or dev files, with embeddings."""

    texts: list[str]
    labels: list[str]
    emb: np.ndarray
    sizes: list[int]
    paths: list[Path]

    def subset(self, keep: np.ndarray) -> _Split:
        """The rows where `keep` is true, still grouped by file."""
        rows = np.flatnonzero(keep)
        corpus = np.repeat(np.arange(len(self.sizes)), self.sizes)[rows]
        return _Split(
            [self.texts[i] for i in rows],
            [self.labels[i] for i in rows],
            self.emb[rows],
            [int((corpus == j).sum()) for j in range(len(self.sizes))],
            self.paths,
        )


def _load_split(encoder: Encoder, paths: list[Path], cache: Path, progress: bool) -> _Split:
    texts: list[str] = []
    labels: list[str] = []
    embs: list[np.ndarray] = []
    sizes: list[int] = []
    for p in paths:
        t, lab = read_labelled_csv(p)
        embs.append(_embed_file(encoder, p, t, cache, progress))
        texts += t
        labels += lab
        sizes.append(len(t))
    emb = np.concatenate(embs) if embs else np.zeros((0, encoder.dim), np.float32)
    return _Split(texts, labels, emb, sizes, paths)


def _features(cfg: HeadConfig, vec: NgramVectorizer | None, split: _Split) -> Any:
    import scipy.sparse as sp

    x = sp.csr_matrix(split.emb * cfg.emb_scale)
    return x if vec is None else sp.hstack([x, _sparse(vec, split.texts)]).tocsr()


def _fit(
    lr: Any, cfg: HeadConfig, x: Any, labels: list[str], c: float
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Fit one logistic regression; returns classes, coef (features, k) and intercept."""
    clf = lr(C=c, max_iter=5000, class_weight=cfg.class_weight).fit(x, labels)
    return [str(k) for k in clf.classes_], clf.coef_.T, clf.intercept_


def _fit_gated(
    lr: Any, cfg: HeadConfig, x: Any, split: _Split
) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """Shared model + one expert per training file + the corpus gate, as one column block
    [shared k | gate D | expert 1 k | ... | expert D k] (see `Head`); returns D as well."""
    import scipy.sparse as sp

    corpus = np.repeat(np.arange(len(split.sizes)), split.sizes)
    d = len(split.sizes)
    onehot = np.eye(d)[corpus]
    blocks = [x] + [sp.diags(onehot[:, j]) @ x for j in range(d)] + [sp.csr_matrix(onehot)]
    classes, coef, intercept = _fit(lr, cfg, sp.hstack(blocks).tocsr(), split.labels, cfg.c)
    gate = lr(C=cfg.gate_c, max_iter=5000).fit(x, corpus)
    g_coef, g_int = gate.coef_.T, gate.intercept_
    if d == 2:  # scikit-learn gives one column for two classes: softmax([0, z]) = sigmoid(z)
        g_coef = np.hstack([np.zeros_like(g_coef), g_coef])
        g_int = np.array([0.0, g_int[0]])
    n = x.shape[1]
    experts = [coef[(j + 1) * n : (j + 2) * n] for j in range(d)]
    full = np.hstack([coef[:n], g_coef, *experts])
    expert_int = coef[(d + 1) * n :].reshape(-1)  # the one-hot columns: (d, k) row-major
    full_int = np.concatenate([intercept, g_int, expert_int])
    return classes, full, full_int, d


def _fit_neutral(lr: Any, splits: list[_Split]) -> tuple[np.ndarray, float]:
    """The neutral detector: neutral vs polar on the plain embedding of rows that have a
    neutral label; returns coef (dim,) and intercept."""
    emb = np.concatenate([s.emb for s in splits])
    neutral = np.array([label == "neutral" for s in splits for label in s.labels])
    clf = lr(C=NEUTRAL_C, max_iter=5000, class_weight="balanced").fit(emb, neutral)
    return clf.coef_[0], float(clf.intercept_[0])


def _fit_head(lr: Any, cfg: HeadConfig, lang: str, split: _Split, path: Path) -> Head:
    """Fit one language's head on `split` and write it to `path` (no band, no detector)."""
    vec = NgramVectorizer.fit(split.texts, lang, max_features=cfg.max_features)
    x = _features(cfg, vec, split)
    gates = 0
    if cfg.gated:
        classes, coef, intercept, gates = _fit_gated(lr, cfg, x, split)
    else:
        classes, coef, intercept = _fit(lr, cfg, x, split.labels, cfg.c)
    _save_head(path, classes, coef, intercept, cfg.emb_scale, vec, gates)
    return Head(path)


def _label_likelihood(lr: Any, cfg: HeadConfig, lang: str, split: _Split) -> np.ndarray:
    """P(its own label) for every row, from a head trained on the other folds."""
    fold = np.random.default_rng(0).integers(0, CLEAN_FOLDS, len(split.texts))
    likelihood = np.zeros(len(split.texts))
    with tempfile.TemporaryDirectory() as tmp:
        for f in range(CLEAN_FOLDS):
            head = _fit_head(lr, cfg, lang, split.subset(fold != f), Path(tmp) / "fold.npz")
            held = split.subset(fold == f)
            probs = head.probabilities(held.texts, held.emb)
            own = [LABELS.index(label) for label in held.labels]
            likelihood[fold == f] = probs[np.arange(len(own)), own]
    return likelihood


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
    loaded: dict[str, _Split] = {}

    def train_split(lang: str) -> _Split:
        """A language's train rows, read once (the neutral detector reuses the English ones)."""
        if lang not in loaded:
            paths = _files(data, lang, "train")
            if not paths:
                raise FileNotFoundError(f"no {lang}/*_train.csv under {data}")
            loaded[lang] = _load_split(encoder, paths, cache, progress)
        return loaded[lang]

    report: dict[str, EvalResult] = {}
    for lang, cfg in CONFIGS.items():
        full = train = train_split(lang)
        dev_paths = _files(data, lang, "dev")
        if cfg.clean_below is not None:
            _say(f"{lang}: {CLEAN_FOLDS}-fold check of the training labels", progress)
            keep = _label_likelihood(LogisticRegression, cfg, lang, full) >= cfg.clean_below
            train = full.subset(keep)
            _say(f"{lang}: dropped {int((~keep).sum())} rows that look mislabelled", progress)
        _say(f"{lang}: joint model on {len(train.texts)} rows", progress)
        path = out / f"sentiment_{lang}.npz"
        head = _fit_head(LogisticRegression, cfg, lang, train, path)
        dev = _load_split(encoder, dev_paths, cache, progress)
        if len(head.classes) == 2 and dev.texts:
            p_pos = head.probabilities(dev.texts, dev.emb)[:, LABELS.index(head.classes[1])]
            band = _calibrate_band(p_pos, dev.labels)
            _say(f"{lang}: neutral band on P(positive) = {band}; neutral detector", progress)
            sources = [train_split(src) for src in NEUTRAL_SOURCES]
            _add_to_head(path, band, _fit_neutral(LogisticRegression, sources))
        report.update(_score_dev(Head(path), dev))
        if lang == "en":
            # Other languages: the English embedding view alone, through e5's shared space.
            _say("multi: embedding-only fallback head (English data)", progress)
            x_emb = _features(cfg, None, full)
            fb = _fit(LogisticRegression, cfg, x_emb, full.labels, FALLBACK_C)
            _save_head(out / f"sentiment_{FALLBACK_HEAD}.npz", *fb, cfg.emb_scale, None)
    return report


def _add_to_head(path: Path, band: tuple[float, float], neutral: tuple[np.ndarray, float]) -> None:
    """Add a binary head's neutral band and neutral detector to its file."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {key: z[key] for key in z.files}
    arrays["neutral_band"] = np.array(band, dtype=np.float32)
    arrays["neutral_coef"] = neutral[0].astype(np.float32)
    arrays["neutral_intercept"] = np.float32(neutral[1])
    np.savez_compressed(path, **arrays)


def _score_dev(head: Head, dev: _Split) -> dict[str, EvalResult]:
    """Dev scores computed exactly as `evaluate_file` would, from cached embeddings."""
    gold = dev.labels
    probs = head.probabilities(dev.texts, dev.emb)
    pred: list[str] = []
    for p in probs:
        label, score = head.decide(p)
        if label == "neutral" and head.band is not None:
            label = "positive" if score >= 0 else "negative"
        pred.append(label)
    out: dict[str, EvalResult] = {}
    start = 0
    for path, size in zip(dev.paths, dev.sizes, strict=True):
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
