"""Baselines that need no training (paper.md, Baselines). `baseline=<name>` configs point here.

Each builder returns a function from an article to a prediction. The other baselines train or go
through a trained run: SUP, SUP-ALL and TRANS-TRAIN are `xgen train` runs (data/supervision.py),
TRANS-TEST is `xgen eval baseline=trans_test run=<dir>` (commands/eval.py, translation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sentencepiece as spm


def lead(tokens: int, spm_model_file: str) -> Callable[[str], str]:
    """LEAD-N: the first N SentencePiece tokens of the article (LEAD-64 in the paper).

    A character the vocabulary lacks is spelled as byte pieces (byte fallback); a cut among them
    would decode to U+FFFD, so the cut moves back to the last piece boundary that decodes whole.
    """
    sp = spm.SentencePieceProcessor(model_file=str(spm_model_file))

    def predict(article: str) -> str:
        ids = sp.encode(article)
        n = min(tokens, len(ids))
        text = sp.decode(ids[:n])
        while n > 0 and text.endswith("\ufffd") and not sp.decode(ids).startswith(text):
            n -= 1
            text = sp.decode(ids[:n])
        return text

    return predict


# What a baseline run through a trained run takes from that run's identity, so that a table places
# it at the run's size and averages it over the runs' seeds.
THROUGH_RUN_KEYS = ("model", "method", "seed", "prompt_length", "name_or_path", "steps")


def through_run_identity(run: Path, translate: str) -> dict:
    from xgen_cli.runs.run_dir import RunDir

    trained = RunDir(run).read_run_json().get("identity", {}) if (run / "run.json").is_file() else {}
    return {**{k: trained.get(k) for k in THROUGH_RUN_KEYS}, "translate": translate}
