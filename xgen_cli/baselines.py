"""Baselines that need no training (paper.md, Baselines). `baseline=<name>` configs point here.

Each builder returns a function from an article to a prediction. TRANS-TRAIN / TRANS-TEST take
translated files the user provides and SUP / SUP-ALL are training runs: they come with later issues.
"""

from __future__ import annotations

from collections.abc import Callable

import sentencepiece as spm


def lead(tokens: int, spm_model_file: str) -> Callable[[str], str]:
    """LEAD-N: the first N SentencePiece tokens of the article (LEAD-64 in the paper)."""
    sp = spm.SentencePieceProcessor(model_file=str(spm_model_file))
    return lambda article: sp.decode(sp.encode(article)[:tokens])
