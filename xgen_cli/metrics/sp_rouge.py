"""SP-ROUGE: ROUGE-LSum F-measure on SentencePiece pieces, x100 (paper.md, "Metrics").

Scoring pieces instead of words lets scripts without spaces (th, zh, ja) be scored. paper.md
requires the result to equal rouge-score's `RougeScorer(['rougeLsum'], tokenizer=<pieces>)`
exactly, so this is a re-implementation of rouge-score 0.1.2's `_summary_level_lcs` (the
ROUGE-1.5.5 union-LCS with token counters), down to which LCS the backtrack picks: the union of
LCS index sets depends on that choice. It is kept here so that scoring needs only sentencepiece.
"""

from collections import Counter
from pathlib import Path

import sentencepiece


class SpRouge:
    """ROUGE-LSum on the pieces of one SentencePiece model (the backbone's own, unless configured)."""

    def __init__(self, spm_model_file: str | Path):
        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model_file))

    def tokenize(self, text: str) -> list[str]:
        """Pieces as strings: an unknown character keeps its own surface, where ids would all be <unk>."""
        return self._sp.encode(text, out_type=str)

    def score(self, prediction: str, reference: str) -> float:
        """F-measure x100 of one prediction against one reference."""
        return 100.0 * _summary_level_lcs_f(self._sentences(reference), self._sentences(prediction))

    def corpus_score(self, predictions: list[str], references: list[str]) -> float:
        """Mean of the per-pair F-measures x100 (paper.md: "the mean F-score"); 0.0 for no pairs."""
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        if not predictions:
            return 0.0
        return sum(self.score(p, r) for p, r in zip(predictions, references, strict=True)) / len(predictions)

    def _sentences(self, text: str) -> list[list[str]]:
        # paper.md: LSum sentences are split on newlines. As rouge-score does: split on "\n" only,
        # drop empty strings, keep whitespace-only lines (they tokenize to few or no pieces).
        return [self.tokenize(s) for s in text.split("\n") if s]


def _summary_level_lcs_f(ref_sents: list[list[str]], can_sents: list[list[str]]) -> float:
    """Summary-level LCS F-measure (ROUGE paper, section 3.2), as rouge-score computes it."""
    m = sum(map(len, ref_sents))
    n = sum(map(len, can_sents))
    if not m or not n:
        return 0.0
    # ROUGE-1.5.5 caps the hits of a token at its counts in both texts, so a candidate token
    # matched by the union LCS of two reference sentences is not counted twice.
    ref_left = Counter(t for s in ref_sents for t in s)
    can_left = Counter(t for s in can_sents for t in s)
    hits = 0
    for ref in ref_sents:
        union: set[int] = set()
        for can in can_sents:
            union.update(_lcs_indices(ref, can))
        for i in sorted(union):
            token = ref[i]
            if can_left[token] > 0 and ref_left[token] > 0:
                hits += 1
                can_left[token] -= 1
                ref_left[token] -= 1
    precision = hits / n
    recall = hits / m
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _lcs_indices(ref: list[str], can: list[str]) -> list[int]:
    """Indices into `ref` of the one LCS that rouge-score's `_backtrack_norec` reads out.

    The full table is kept because the backtrack needs it; O(len(ref) * len(can)) time and memory,
    fine for summary sentences of tens to hundreds of pieces.
    """
    if not ref or not can:
        return []
    prev = [0] * (len(can) + 1)
    table = [prev]
    for a in ref:
        row = [0]
        left = 0
        for j, b in enumerate(can):
            if a == b:
                left = prev[j] + 1
            elif prev[j + 1] > left:
                left = prev[j + 1]
            row.append(left)
        table.append(row)
        prev = row
    # Same tie-breaking as rouge-score: on a tie between left and up, move up (i -= 1).
    out = []
    i, j = len(ref), len(can)
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return out
