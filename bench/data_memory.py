"""10. Data-path memory: peak RSS of `xgen train` against corpus size (synthetic English corpora of
10K and 100K pairs, 50K on request, at WikiLingua-like lengths), token ids stored compactly (xgen_cli/data/token_pairs.py)
vs as Python lists of ints (xgen before issue 9), everything else the same run.

The lists baseline runs the same `xgen train` with `tokenize_pairs` swapped for a list of Pairs of
Python lists from the same batched tokenizer calls (`python -m bench.data_memory --as-lists <xgen
args>`), so only the storage differs. The baseline runs at the largest size only (a minute a run).
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from bench.common import CACHE, MICRO_MODEL, entry, micro_backbone, peak_rss_mb, xgen_env

# 10K and 100K by default: each 100K run tokenizes 57M pieces (a minute and a half on 2 cores), and
# `make bench` must end within 10 minutes. XGEN_BENCH_PAIRS=10000,50000,100000 adds 50K.
SIZES = tuple(int(n) for n in os.environ.get("XGEN_BENCH_PAIRS", "10000,100000").split(","))
QUICK_SIZES = (300,)
TARGET_MB = 2048
# WikiLingua's English articles run to a few hundred mT5 tokens (the longest past the 1,024-token
# clip), its summaries to a few dozen. The micro backbone's 1,000-piece vocabulary spends about 4.5
# pieces a word here, so these word counts give articles of about 110-1,024 pieces (mean near 550).
ARTICLE_WORDS = (25, 230)
SUMMARY_WORDS = (6, 24)


def synthetic_corpus(n: int, seed: int = 0) -> Path:
    """<CACHE>/corpora/synthetic-<n>/en/{train,validation}.jsonl, written once."""
    root = CACHE / "corpora" / f"synthetic-{n}-s{seed}"
    if (root / ".complete").is_file():
        return root
    from xgen_cli.data.demo import generate_unlabeled

    words = sorted({w for text in generate_unlabeled("en", 300, seed) for w in text.split()})
    rng = random.Random(seed)
    (root / "en").mkdir(parents=True, exist_ok=True)

    def text(bounds: tuple[int, int], per_line: int) -> str:
        tokens = rng.choices(words, k=rng.randint(*bounds))
        return "\n".join(" ".join(tokens[i:i + per_line]) for i in range(0, len(tokens), per_line))

    for split, count in (("train", n), ("validation", 8)):
        with open(root / "en" / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for i in range(count):
                row = {"id": f"{split}-{i}", "article": text(ARTICLE_WORDS, 40), "summary": text(SUMMARY_WORDS, 8)}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (root / ".complete").write_text("")
    return root


def train_args(corpus: Path, folder: Path) -> list[str]:
    return ["train", *MICRO_MODEL, "data=jsonl", f"data.corpus.path={corpus}", "data.eval_langs=[en]",
            "data.eval_examples=4", "steps=2", "eval_every=2", "batch_size=8", "max_new_tokens=8",
            "eval.num_beams=1", "logger=none", "trainer.precision=32-true", f"hydra.run.dir={folder}"]


def measure(n: int, lists: bool, out: Path) -> float:
    corpus = synthetic_corpus(n)
    folder = out / "runs" / f"data-memory-{n}-{'lists' if lists else 'xgen'}-{random.randrange(16**6):06x}"
    if lists:
        return peak_rss_mb("bench.data_memory", ["--as-lists", *train_args(corpus, folder)], env=xgen_env())
    return peak_rss_mb("xgen_cli.cli", train_args(corpus, folder), env=xgen_env())


def run(quick: bool, out: Path) -> list[dict]:
    micro_backbone()
    sizes = QUICK_SIZES if quick else SIZES
    rows = {}
    largest = max(sizes)
    for n in sizes:  # one run each: RSS is not noisy the way time is
        rows[n] = {"xgen": measure(n, False, out)}
        if n == largest:
            rows[n]["lists"] = measure(n, True, out)
        print(f"  data memory {n} pairs: " + ", ".join(f"{k} {v:.0f} MB" for k, v in rows[n].items()),
              file=sys.stderr, flush=True)
    x, b = rows[largest]["xgen"], rows[largest]["lists"]
    return [entry(f"data-path peak RSS, xgen train, {largest:,} pairs", x, b, "MB", ratio=b / x,
                  target=f"xgen < {TARGET_MB} MB at 100K pairs", met=x < TARGET_MB,
                  baseline_name="token ids as Python lists (xgen before)",
                  inputs={"pairs": list(sizes), "article_words": ARTICLE_WORDS, "summary_words": SUMMARY_WORDS,
                          "backbone": "micro (bench/common.py)", "steps": 2,
                          "peak_rss_mb": {str(n): {k: round(v) for k, v in r.items()} for n, r in rows.items()}},
                  notes="ratio = lists MB / xgen MB")]


def _as_lists() -> None:
    """`xgen <args>` with the training pairs kept as a list of Pairs of Python lists (the baseline)."""
    from xgen_cli.data import token_pairs
    from xgen_cli.data.tasks import summarize_all

    def as_lists(examples, tokenizer, max_input_tokens=1024, max_target_tokens=512):
        chunk = token_pairs.CHUNK
        return [pair for start in range(0, len(examples), chunk)
                for pair in summarize_all(list(examples[start:start + chunk]), tokenizer, max_input_tokens, max_target_tokens)]

    token_pairs.tokenize_pairs = as_lists
    from xgen_cli.cli import main

    main(sys.argv[2:])  # argv[1] is --as-lists


if __name__ == "__main__":
    if sys.argv[1:2] == ["--as-lists"]:
        _as_lists()
