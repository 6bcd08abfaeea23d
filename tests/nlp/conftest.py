"""Shared fixtures: the converted encoder and one analyzer for the whole session.

Building the model cache takes a few seconds and ~470 MB in `KITH_MODEL_DIR` (default
~/.cache/kith/models); it is reused across runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA_DIR = Path(os.environ.get("KITH_SENTIMENT_DATA", "/work/shared/data/sentiment"))


@pytest.fixture(scope="session")
def model_dir() -> Path:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from kith.nlp.encoder import prepare_models

    return prepare_models(progress=False)


@pytest.fixture(scope="session")
def analyzer(model_dir: Path) -> Iterator[object]:
    from kith.nlp.sentiment import SentimentAnalyzer

    a = SentimentAnalyzer(model_dir)
    a.warm_up()
    yield a
    a.close()
