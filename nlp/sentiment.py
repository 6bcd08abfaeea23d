"""Message sentiment: negative / neutral / positive with a score in [-1, 1].

Each message is routed by `detect_language`: English (with the other Latin-script languages)
and Chinese have their own heads, a linear model over the e5 embedding and character n-gram
TF-IDF features (the two views make different mistakes, so together they beat either alone).
Other scripts go to an embedding-only head trained on English, which transfers through e5's
multilingual space. The Chinese training data is binary (reviews), so its neutral class comes
from a calibrated band on P(positive) and from a neutral detector learnt on the English rows.

The heads are small `.npz` files in `kith/nlp/heads/` (regenerate with `kith nlp train`); the
encoder itself is built into the cache by `prepare_models()` on first use.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kith.nlp.language import LATIN_LANGUAGES, UNDETERMINED, detect_language
from kith.nlp.ngrams import MAX_CHARS, NgramVectorizer

HEADS_DIR = Path(__file__).resolve().parent / "heads"
_SHARED: dict[tuple[Path | None, bool], SentimentAnalyzer] = {}  # see SentimentAnalyzer.shared
_SHARED_LOCK = threading.Lock()
HEAD_LANGUAGES = ("en", "zh")
FALLBACK_HEAD = "multi"
LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class SentimentResult:
    """One message's sentiment: label, score = P(positive) - P(negative), detected language."""

    label: str
    score: float
    language: str


class Head:
    """A linear classifier over [e5 embedding * emb_scale, n-gram TF-IDF], loaded from `.npz`.

    A head with `gates` = D > 0 is a gated mixture over its D training corpora: its columns are
    [shared k | gate D | expert 1 k | ... | expert D k] and the logits are shared +
    sum_d P(corpus d | text) * expert d, P being the softmax of the gate columns.

    A binary head (trained on reviews, which are never neutral) may carry a neutral detector:
    a logistic "has no sentiment" model on the embedding alone, trained on the English rows
    and carried to other languages by e5's shared space. P(neutral) comes from it and the
    polar probabilities share the rest, so a question such as 怎么退货？ is neutral instead of
    the review head's near-certain negative.
    """

    def __init__(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as z:
            self.classes = [str(c) for c in z["classes"]]
            self.coef_emb = z["coef_emb"].astype(np.float32)  # (dim, k)
            self.intercept = z["intercept"].astype(np.float32)  # (k,)
            self.emb_scale = float(z["emb_scale"])
            self.band = tuple(float(x) for x in z["neutral_band"]) if "neutral_band" in z else None
            self.gates = int(z["gates"]) if "gates" in z else 0
            self.neutral_coef: np.ndarray | None = None
            self.neutral_intercept = 0.0
            if "neutral_coef" in z:
                self.neutral_coef = z["neutral_coef"].astype(np.float32)  # (dim,)
                self.neutral_intercept = float(z["neutral_intercept"])
            terms = z["terms"] if "terms" in z else np.array([], dtype=str)
            self.vectorizer: NgramVectorizer | None = None
            self.coef_ngram: np.ndarray | None = None
            if len(terms):
                self.vectorizer = NgramVectorizer(
                    [str(t) for t in terms], z["idf"], str(z["ngram_lang"])
                )
                self.coef_ngram = z["coef_ngram"].astype(np.float32)  # (vocab, k)

    def logits(self, texts: list[str], emb: np.ndarray) -> np.ndarray:
        """Raw scores: one column for a binary head (logit of positive), else one per class."""
        z = (emb * self.emb_scale) @ self.coef_emb + self.intercept
        if self.vectorizer is not None and self.coef_ngram is not None:
            for row, (idx, val) in enumerate(self.vectorizer.transform(texts)):
                if len(idx):
                    z[row] += val @ self.coef_ngram[idx]
        return self._mix(z) if self.gates else z

    def _mix(self, z: np.ndarray) -> np.ndarray:
        """Shared logits plus the experts' logits weighted by the gate's probabilities."""
        d = self.gates
        k = (z.shape[1] - d) // (d + 1)
        g = z[:, k : k + d] - z[:, k : k + d].max(axis=1, keepdims=True)
        g = np.exp(g)
        g /= g.sum(axis=1, keepdims=True)
        experts = z[:, k + d :].reshape(len(z), d, k)
        return z[:, :k] + (g[:, :, None] * experts).sum(axis=1)

    def probabilities(self, texts: list[str], emb: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities in LABELS order; a binary head gives neutral probability 0."""
        z = self.logits(texts, emb)
        out = np.zeros((len(texts), 3), dtype=np.float64)
        if z.shape[1] == 1:
            p = _sigmoid(z[:, 0])
            polar = np.ones(len(texts))
            if self.neutral_coef is not None:
                neutral = _sigmoid(emb @ self.neutral_coef + self.neutral_intercept)
                out[:, LABELS.index("neutral")] = neutral
                polar -= neutral
            out[:, LABELS.index(self.classes[-1])] = polar * p
            out[:, LABELS.index(self.classes[0])] = polar * (1.0 - p)
            return out
        z = z.astype(np.float64)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        e /= e.sum(axis=1, keepdims=True)
        for j, c in enumerate(self.classes):
            out[:, LABELS.index(c)] = e[:, j]
        return out

    def decide(self, probs: np.ndarray) -> tuple[str, float]:
        """Label and score for one row of `probabilities`."""
        neg, neu, pos = (float(x) for x in probs)
        score = max(-1.0, min(1.0, pos - neg))
        if self.band is not None:
            # The band is on the binary model's own P(positive), i.e. given that the text is
            # polar; the neutral detector (if any) wins where it is the likeliest of the three.
            lo, hi = self.band
            p = pos / (pos + neg) if pos + neg > 0 else 0.5
            if neu >= max(pos, neg) or lo <= p <= hi:
                return "neutral", score
            return ("positive" if p > hi else "negative"), score
        return LABELS[int(np.argmax(probs))], score


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z.astype(np.float64), -50, 50)))


def _head_for(lang: str) -> str:
    """English head for all Latin-script languages: its character n-grams still help with
    cognates, hashtags and emoticons, and short English tweets are sometimes detected as Dutch
    or Tagalog. Other scripts use the embedding-only head."""
    if lang in HEAD_LANGUAGES:
        return lang
    return "en" if lang in LATIN_LANGUAGES else FALLBACK_HEAD


def clean_text(text: Any) -> str:
    """Make any input safe for the tokenizer: text only, valid UTF-8, bounded length."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_CHARS]
    if not text.isascii():
        text = text.encode("utf-8", errors="replace").decode("utf-8", errors="replace")
    return text.replace("\x00", " ")


def _has_content(text: str) -> bool:
    """True if a model can say anything: letters, digits or symbols such as emoji."""
    return any(not ch.isspace() and ch.isprintable() for ch in text)


def _model_choice(settings: object | None) -> tuple[Path | None, bool]:
    """(model directory, quantize) from a settings object or the environment: what tells one
    loaded model from another."""
    root = getattr(settings, "nlp_model_dir", None)
    quant = getattr(settings, "nlp_quantize", None)
    if quant is None:
        quant = os.environ.get("KITH_NLP_QUANTIZE", "0").lower() in ("1", "true", "yes")
    if not root:
        return None, bool(quant)
    from kith.nlp.encoder import MODEL_NAME

    return Path(str(root)).expanduser() / MODEL_NAME, bool(quant)


class SentimentAnalyzer:
    """Batched sentiment analysis; models load lazily on first use and are shared by threads.

    `analyze_async` runs the CPU work on a single dedicated worker thread, so the event loop
    never blocks and concurrent callers are serialised instead of oversubscribing the CPU.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        heads_dir: str | Path | None = None,
        quantize: bool = False,
        threads: int = 1,
        batch_threads: int | None = None,
        batch_size: int = 64,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.heads_dir = Path(heads_dir) if heads_dir is not None else HEADS_DIR
        self.quantize = quantize
        self.threads = threads
        self.batch_threads = batch_threads
        self.batch_size = batch_size
        self._encoder: Any = None
        self._heads: dict[str, Head] = {}
        self._load_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kith-nlp")

    @classmethod
    def from_settings(cls, settings: object | None = None) -> SentimentAnalyzer:
        """Build from a settings object (`nlp_model_dir`, `nlp_quantize`) or the environment.

        `KITH_MODEL_DIR` is the cache root (see `prepare_models`); `KITH_NLP_QUANTIZE=1` turns
        on int8 Linear layers.
        """
        model_dir, quantize = _model_choice(settings)
        return cls(model_dir, quantize=quantize)

    @classmethod
    def shared(cls, settings: object | None = None) -> SentimentAnalyzer:
        """The process's analyzer for the settings' model: every Core a process builds (the
        demo's seed and server, each test's) shares one copy of the model and one worker
        thread, instead of loading its own (about a second and 1 GB each)."""
        key = _model_choice(settings)
        with _SHARED_LOCK:
            found = _SHARED.get(key)
            if found is None:
                found = _SHARED[key] = cls(key[0], quantize=key[1])
            return found

    # -- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        with self._load_lock:
            if self._encoder is not None:
                return
            from kith.nlp.encoder import Encoder, prepare_models

            path = self.model_dir
            if path is None or not (path / "config.json").is_file():
                path = prepare_models(progress=True)
            heads = {
                name: Head(self.heads_dir / f"sentiment_{name}.npz")
                for name in (*HEAD_LANGUAGES, FALLBACK_HEAD)
            }
            self._heads = heads
            self._encoder = Encoder(
                path,
                threads=self.threads,
                batch_threads=self.batch_threads,
                batch_size=self.batch_size,
                quantize=self.quantize,
            )

    def warm_up(self) -> None:
        """Load the models now instead of on the first message (the French text loads lingua,
        which plain English skips); once loaded, nothing to do (the demo prepares them before
        its server, whose start-up prepares again)."""
        if self._encoder is not None:
            return
        self._load()
        self.analyze(["hello", "你好", "Merci beaucoup pour votre aide"])

    # -- inference -----------------------------------------------------------------------

    def analyze(self, texts: Sequence[Any]) -> list[SentimentResult]:
        """Sentiment of each text, in order. Never raises on odd input (empty, binary, huge)."""
        if isinstance(texts, str | bytes):
            texts = [texts]
        cleaned = [clean_text(t) for t in texts]
        results: list[SentimentResult | None] = [None] * len(cleaned)
        todo: dict[str, list[int]] = {}
        langs: list[str] = []
        for i, text in enumerate(cleaned):
            lang = detect_language(text)
            langs.append(lang)
            if not _has_content(text):
                results[i] = SentimentResult("neutral", 0.0, lang)
                continue
            head_name = _head_for(lang)
            todo.setdefault(head_name, []).append(i)
        if todo:
            self._load()
            order = [i for rows in todo.values() for i in rows]
            emb = self._encoder.embed([cleaned[i] for i in order])
            pos = {i: k for k, i in enumerate(order)}
            for name, rows in todo.items():
                head = self._heads[name]
                sub = emb[[pos[i] for i in rows]]
                probs = head.probabilities([cleaned[i] for i in rows], sub)
                for i, p in zip(rows, probs, strict=True):
                    label, score = head.decide(p)
                    results[i] = SentimentResult(label, round(score, 4), langs[i])
        return [
            r if r is not None else SentimentResult("neutral", 0.0, UNDETERMINED) for r in results
        ]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Sentence embeddings from the same encoder, so the FAQ matcher needs no second copy
        of the model in memory."""
        self._load()
        return self._encoder.embed(texts)

    async def analyze_async(self, texts: Sequence[Any]) -> list[SentimentResult]:
        """`analyze` on the worker thread, so the event loop keeps serving other tasks."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.analyze, list(texts))

    def close(self) -> None:
        """Stop the worker thread (models stay loaded until the object is dropped)."""
        self._executor.shutdown(wait=False, cancel_futures=True)
