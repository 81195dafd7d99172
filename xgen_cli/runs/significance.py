"""Is a difference between two table cells real? (beyond the paper, which reports means and stds)

Two tests, both at 95%, and a cell is marked only when every test that applies agrees:
- a paired bootstrap over the evaluation examples: per-example SP-ROUGE from the runs'
  predictions files (each method averaged over its seeds, example by example), 1,000 resamples of
  the examples with a fixed seed; two-sided p = twice the smaller share of resampled mean
  differences on either side of zero (Koehn 2004; Berg-Kirkpatrick et al. 2012). Identical
  prediction sets give a difference of exactly 0 in every resample, hence p = 1.
- Welch's t-test over the seeds' corpus SP-ROUGE, when both cells have two seeds or more: the
  bootstrap alone sees the examples' noise, not the seed's.
Per-example scores come from `metrics.SpRouge`; nothing here imports torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xgen_cli.metrics.sp_rouge import SpRouge
from xgen_cli.runs.files import read_jsonl
from xgen_cli.runs.run_dir import RunDir

RESAMPLES = 1000
LEVEL = 0.95
TOLERANCE = 0.01  # SP-ROUGE x100: re-scoring reproduces a run's logged value to float precision


def paired_bootstrap(a: np.ndarray, b: np.ndarray, resamples: int = RESAMPLES, seed: int = 0) -> float:
    """Two-sided p-value of mean(a - b) != 0 by resampling the paired examples."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.size == 0:
        raise ValueError("no paired examples")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(resamples, diff.size))].mean(axis=1)
    return float(min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean())))


def welch_p(a: list[float], b: list[float]) -> float | None:
    """Welch's two-sided t-test p-value over seeds; None when a side has fewer than two seeds."""
    if len(a) < 2 or len(b) < 2:
        return None
    if np.var(a) == 0 and np.var(b) == 0:  # scipy returns nan here; the seeds all agree
        return 1.0 if np.mean(a) == np.mean(b) else 0.0
    from scipy.stats import ttest_ind  # imported here: scipy.stats costs half a second

    return float(ttest_ind(a, b, equal_var=False).pvalue)


class Untestable(Exception):
    """Why two cells could not be compared (no predictions file, no tokenizer, ...); the table
    counts these reasons in a footnote, so the message names no path."""


@dataclass(frozen=True)
class Comparison:
    p_bootstrap: float
    p_seeds: float | None
    examples: int

    @property
    def significant(self) -> bool:
        alpha = 1 - LEVEL
        return self.p_bootstrap < alpha and (self.p_seeds is None or self.p_seeds < alpha)


class PairedTest:
    """Compares two cells' runs on one language; caches each run's per-example scores."""

    def __init__(self, scorer_for: Callable[[Path], SpRouge | None], split: str = "validation",
                 resamples: int = RESAMPLES, seed: int = 0):
        self.scorer_for, self.split, self.resamples, self.seed = scorer_for, split, resamples, seed
        self._scores: dict[tuple, dict[str, float]] = {}

    def per_example(self, run: str, step: int, lang: str) -> dict[str, float]:
        """{example id: SP-ROUGE x100} of one run's predictions at `step` in `lang`."""
        key = (run, step, lang)
        if key not in self._scores:
            path = RunDir(run).predictions_file(step, lang, self.split)
            if not path.is_file():
                raise Untestable("no predictions file at the selected step")
            scorer = self.scorer_for(Path(run))
            if scorer is None:
                raise Untestable("no SentencePiece model found for SP-ROUGE (set spm_model=<spiece.model>)")
            self._scores[key] = {str(r["id"]): scorer.score(r["prediction"], r["reference"]) for r in read_jsonl(path)}
        return self._scores[key]

    def _mean_over_seeds(self, runs: list[tuple[str, int | None]], lang: str, logged: list[float]) -> dict[str, float]:
        per_run = [self.per_example(run, step, lang) for run, step in runs]
        for scores, value in zip(per_run, logged, strict=True):
            # The re-scored predictions must give back the SP-ROUGE the run logged (exact in xgen's own
            # runs); if not, the tokenizer is another one and the test would compare the wrong thing.
            if not scores or abs(sum(scores.values()) / len(scores) - value) > TOLERANCE:
                raise Untestable("re-scored predictions do not reproduce the logged SP-ROUGE (another "
                                 "SentencePiece model? set spm_model=)")
        ids = set.intersection(*(set(s) for s in per_run))
        return {i: sum(s[i] for s in per_run) / len(per_run) for i in ids}

    def compare(self, a_runs, b_runs, lang: str, a_values: list[float], b_values: list[float]) -> Comparison:
        """Raises Untestable (the reason) when predictions or a tokenizer are missing."""
        if any(step is None for _, step in (*a_runs, *b_runs)):
            raise Untestable("a run without a selected step")
        a, b = self._mean_over_seeds(a_runs, lang, a_values), self._mean_over_seeds(b_runs, lang, b_values)
        ids = sorted(set(a) & set(b))
        if not ids:
            raise Untestable("the two cells share no evaluation example")
        p = paired_bootstrap(np.array([a[i] for i in ids]), np.array([b[i] for i in ids]), self.resamples, self.seed)
        return Comparison(p_bootstrap=p, p_seeds=welch_p(a_values, b_values), examples=len(ids))


def describe(resamples: int, seed: int) -> str:
    """The footnote that names the test."""
    return (f"differs from its reference row at {LEVEL:.0%}: paired bootstrap over the evaluation examples "
            f"(per-example SP-ROUGE from the predictions files, mean over seeds; {resamples:,} resamples, "
            f"seed {seed}) and, where both cells have 2+ seeds, Welch's t-test over seeds")
