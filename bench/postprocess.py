"""12. Post-processing speed on degenerate output: `remove_repeated_suffix` (paper.md, Decoding: keep one
copy of a loop at the end of a prediction) must stay linear in the prediction's length, since a
model that loops writes max_new_tokens of it and every unit length qualifies ("a a a ...").

Measured as time on 4x longer inputs against 4x the time on the short ones (linear extrapolation):
ratio = 4 * t(n) / t(4n), about 1 when linear, about 0.25 when quadratic. Inputs: a looping sentence,
one repeated word, a two-character loop and loop-free counting, as in tests/test_metrics_postprocess.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import entry, interleaved, median

SIZE, QUICK_SIZE = 6000, 300  # units of each input at the short length
ROUNDS, QUICK_ROUNDS = 5, 1


def inputs(n: int) -> list[str]:
    return ["Intro. " + "Fold the paper in half. " * (n // 10) + "Fold the", "a " * n, "x" + "ab" * n + "a",
            " ".join(map(str, range(n)))]


def run(quick: bool, out: Path) -> list[dict]:
    from xgen_cli.metrics.postprocess import remove_repeated_suffix

    n = QUICK_SIZE if quick else SIZE
    short, long = inputs(n), inputs(4 * n)

    def cut(texts: list[str]):
        for text in texts:
            remove_repeated_suffix(text)

    seconds = interleaved({"short": lambda: cut(short), "long": lambda: cut(long)}, QUICK_ROUNDS if quick else ROUNDS)
    s, x = median(seconds["short"]), median(seconds["long"])
    print(f"  postprocess: {n:,} units {s:.3f}s, {4 * n:,} units {x:.3f}s", file=sys.stderr, flush=True)
    return [entry(f"post-processing 4 degenerate predictions of {4 * n:,} units vs 4x those of {n:,}", x, 4 * s, "s",
                  ratio=4 * s / x, target=">= 0.5 (linear)", met=4 * s / x >= 0.5,
                  baseline_name="4 x the time at a quarter of the length (linear extrapolation)",
                  inputs={"units": [n, 4 * n], "chars_long": sum(map(len, long)), "rounds": len(seconds["long"])})]
