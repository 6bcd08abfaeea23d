"""Sentiment throughput: one message per call vs batches of 32, on this machine.

Usage: python bench/nlp_sentiment.py [--n 256] [--batch 32] [--quantize]
Texts are real dev-set rows when /work/shared/data/sentiment is present (half English, half
Chinese), else built-in samples. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DATA = Path(os.environ.get("KITH_SENTIMENT_DATA", "/work/shared/data/sentiment"))
SAMPLES = [
    "@united my flight was delayed three hours and nobody told us anything",
    "Thanks for the quick help, really appreciate it!",
    "送餐很快，味道也不错，下次还会再点",
    "等了一个多小时，饭都凉了，太失望了",
]


def load_texts(n: int, seed: int = 7) -> list[str]:
    pools: list[list[str]] = []
    for name in ("en/airline_tweets_dev.csv", "zh/waimai_10k_dev.csv"):
        path = DATA / name
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                pools.append([row["text"] for row in csv.DictReader(fh)])
    if not pools:
        pools = [SAMPLES]
    rng = random.Random(seed)
    return [rng.choice(pools[i % len(pools)]) for i in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--quantize", action="store_true")
    args = ap.parse_args()

    from kith.nlp.sentiment import SentimentAnalyzer

    analyzer = SentimentAnalyzer.from_settings()
    analyzer.quantize = args.quantize or analyzer.quantize
    analyzer.warm_up()
    texts = load_texts(args.n)

    start = time.perf_counter()
    for t in texts:
        analyzer.analyze([t])
    single = len(texts) / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(0, len(texts), args.batch):
        analyzer.analyze(texts[i : i + args.batch])
    batched = len(texts) / (time.perf_counter() - start)
    analyzer.close()

    print(f"single  : {single:8.1f} msg/s")
    print(f"batch {args.batch:<2d}: {batched:8.1f} msg/s")
    print(f"ratio   : {batched / single:8.2f}x")
    print(
        json.dumps(
            {
                "n": len(texts),
                "batch": args.batch,
                "quantize": analyzer.quantize,
                "single_msgs_per_s": round(single, 1),
                "batch_msgs_per_s": round(batched, 1),
                "ratio": round(batched / single, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
