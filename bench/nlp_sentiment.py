"""Sentiment throughput: one message per call vs batches of 32, on this machine.

Usage: python bench/nlp_sentiment.py [--n 256] [--batch 32] [--rounds 3] [--quantize]
                                     [--batch-threads N]
Texts are real dev-set rows when /work/shared/data/sentiment is present (half English, half
Chinese), else built-in samples. Each round times every batch's texts one per call and as one
call, back to back, so both see the same machine load; the ratio reported is the median of the
rounds' ratios (shared machines are noisy: the ratio is steadier than either rate). The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from kith.nlp.sentiment import SentimentAnalyzer

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


def timed(analyzer: SentimentAnalyzer, texts: list[str], per_call: int) -> float:
    """Seconds to analyse `texts` in calls of `per_call` messages."""
    start = time.perf_counter()
    for i in range(0, len(texts), per_call):
        analyzer.analyze(texts[i : i + per_call])
    return time.perf_counter() - start


def paired_round(analyzer: SentimentAnalyzer, texts: list[str], batch: int) -> tuple[float, float]:
    """(single, batched) msg/s over `texts`, timing each batch's texts both ways back to back
    (alternating which goes first), so a change in machine load hits both sides alike."""
    single = batched = 0.0
    for k, i in enumerate(range(0, len(texts), batch)):
        chunk = texts[i : i + batch]
        if k % 2:
            batched += timed(analyzer, chunk, batch)
            single += timed(analyzer, chunk, 1)
        else:
            single += timed(analyzer, chunk, 1)
            batched += timed(analyzer, chunk, batch)
    return len(texts) / single, len(texts) / batched


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quantize", action="store_true")
    ap.add_argument("--batch-threads", type=int, help="cores for a big call (default: up to 2)")
    args = ap.parse_args()

    analyzer = SentimentAnalyzer.from_settings()
    analyzer.quantize = args.quantize or analyzer.quantize
    analyzer.batch_threads = args.batch_threads or analyzer.batch_threads
    analyzer.warm_up()
    texts = load_texts(args.n)
    rounds = []
    for r in range(args.rounds):
        single, batched = paired_round(analyzer, texts, args.batch)
        rounds.append((single, batched))
        print(f"round {r + 1}: single {single:6.1f}  batch {batched:6.1f}  x{batched / single:.2f}")
    analyzer.close()
    single = statistics.median(s for s, _ in rounds)
    batched = statistics.median(b for _, b in rounds)
    ratio = statistics.median(b / s for s, b in rounds)
    print(f"single  : {single:8.1f} msg/s (median)")
    print(f"batch {args.batch:<2d}: {batched:8.1f} msg/s (median)")
    print(f"ratio   : {ratio:8.2f}x (median of rounds)")
    print(
        json.dumps(
            {
                "n": len(texts),
                "batch": args.batch,
                "rounds": args.rounds,
                "quantize": analyzer.quantize,
                "batch_threads": analyzer.batch_threads,  # null: the default, up to 2
                "single_msgs_per_s": round(single, 1),
                "batch_msgs_per_s": round(batched, 1),
                "ratio": round(ratio, 2),
                "ratios": [round(b / s, 2) for s, b in rounds],
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
