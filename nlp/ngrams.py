"""Character n-gram TF-IDF features, implemented with numpy only.

The sentiment heads combine e5 embeddings with these features. They are our own small
implementation (rather than scikit-learn's vectoriser) so that the trained vocabulary and
weights can live in a plain `.npz` file in the repo and be scored at run time without pickles
or scikit-learn.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

MAX_CHARS = 2000  # longer texts are truncated: sentiment is decided well before that

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lower-case and mask what carries no sentiment (URLs, user names, numbers)."""
    text = text[:MAX_CHARS].lower()
    text = _URL.sub(" http ", text)
    text = _MENTION.sub("@user", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def extract(text: str, lang: str) -> Counter[str]:
    """Count the n-grams of one text.

    English: character 2-5-grams inside space-padded words plus whole words (tagged "w:"),
    because English sentiment sits in words and their inflections. Chinese: character 1-3
    grams over the whole string, because there are no spaces between words.
    """
    t = normalize(text)
    grams: Counter[str] = Counter()
    if lang == "zh":
        s = t.replace(" ", "")
        for n in (1, 2, 3):
            grams.update(s[i : i + n] for i in range(len(s) - n + 1))
        return grams
    for word in t.split(" "):
        if not word:
            continue
        grams["w:" + word] += 1
        padded = f" {word} "
        for n in (2, 3, 4, 5):
            if len(padded) < n:
                break
            grams.update(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


class NgramVectorizer:
    """Sublinear TF-IDF over a fixed n-gram vocabulary, rows L2-normalised."""

    def __init__(self, vocab: Iterable[str], idf: np.ndarray, lang: str) -> None:
        self.terms = list(vocab)
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float32)
        self.lang = lang

    @classmethod
    def fit(
        cls, texts: list[str], lang: str, min_df: int = 2, max_features: int = 60000
    ) -> NgramVectorizer:
        """Keep the `max_features` most document-frequent n-grams seen in >= min_df texts."""
        df: Counter[str] = Counter()
        for t in texts:
            df.update(extract(t, lang).keys())
        kept = [(c, g) for g, c in df.items() if c >= min_df]
        kept.sort(key=lambda cg: (-cg[0], cg[1]))
        kept = kept[:max_features]
        n = len(texts)
        vocab = sorted(g for _, g in kept)
        idf = np.array([math.log((1 + n) / (1 + df[g])) + 1.0 for g in vocab], dtype=np.float32)
        return cls(vocab, idf, lang)

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Sparse row as (column indices, values)."""
        cols: list[int] = []
        vals: list[float] = []
        for g, c in extract(text, self.lang).items():
            j = self.index.get(g)
            if j is not None:
                cols.append(j)
                vals.append((1.0 + math.log(c)) * float(self.idf[j]))
        idx = np.asarray(cols, dtype=np.int64)
        v = np.asarray(vals, dtype=np.float32)
        norm = float(np.sqrt((v * v).sum()))
        if norm > 0:
            v /= norm
        return idx, v

    def transform(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Sparse rows for many texts."""
        return [self.transform_one(t) for t in texts]
