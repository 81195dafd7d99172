"""Baselines that need no training (paper.md, Baselines). `baseline=<name>` configs point here.

Each builder returns a function from an article to a prediction. TRANS-TRAIN / TRANS-TEST take
translated files the user provides and SUP / SUP-ALL are training runs: they come with later issues.
"""

from __future__ import annotations

from collections.abc import Callable

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
