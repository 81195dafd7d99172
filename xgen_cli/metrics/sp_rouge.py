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
        return self.scores([prediction], [reference])[0]

    def scores(self, predictions: list[str], references: list[str]) -> list[float]:
        """F-measure x100 of each pair; every sentence of every pair is tokenized in one call."""
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
        # paper.md: LSum sentences are split on newlines. As rouge-score does: split on "\n" only,
        # drop empty strings, keep whitespace-only lines (they tokenize to few or no pieces).
        lines = [[s for s in text.split("\n") if s] for pair in zip(references, predictions, strict=True) for text in pair]
        pieces = iter(self._sp.encode([s for text in lines for s in text], out_type=str))
        sentences = [[next(pieces) for _ in text] for text in lines]
        return [100.0 * _summary_level_lcs_f(ref, can) for ref, can in zip(sentences[::2], sentences[1::2], strict=True)]

    def corpus_score(self, predictions: list[str], references: list[str]) -> float:
        """Mean of the per-pair F-measures x100 (paper.md: "the mean F-score"); 0.0 for no pairs."""
        scores = self.scores(predictions, references)
        return sum(scores) / len(scores) if scores else 0.0


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
    can_masks = [_match_masks(can) for can in can_sents]
    hits = 0
    for ref in ref_sents:
        union: set[int] = set()
        for can, masks in zip(can_sents, can_masks, strict=True):
            union.update(_lcs_indices(ref, can, masks))
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


def _match_masks(can: list[str]) -> dict[str, int]:
    """{token: an int whose bit j is set where can[j] is that token}."""
    masks: dict[str, int] = {}
    for j, token in enumerate(can):
        masks[token] = masks.get(token, 0) | 1 << j
    return masks


def _lcs_indices(ref: list[str], can: list[str], masks: dict[str, int] | None = None) -> list[int]:
    """Indices into `ref` of the one LCS that rouge-score's `_backtrack_norec` reads out.

    rouge-score fills the LCS table cell by cell in Python (O(len(ref) * len(can)) steps). Here
    each row of the table is one bit vector (Hyyro's bit-parallel LCS, 2004: a handful of integer
    operations per row), and the backtrack reads the cells it visits from them:
    table[i][j] = j - popcount(row_i & (2^j - 1)). The same cells decide the same path, so the
    indices are rouge-score's, ties included (tested against it).
    """
    if not ref or not can:
        return []
    masks = _match_masks(can) if masks is None else masks
    full = (1 << len(can)) - 1
    rows = [full]  # row 0: no matches yet (every bit set)
    row = full
    for token in ref:
        match = row & masks.get(token, 0)
        row = ((row + match) | (row - match)) & full
        rows.append(row)

    def cell(i: int, j: int) -> int:
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    # rouge-score's walk: a match moves diagonally; else left if table[i][j-1] > table[i-1][j], else up
    # (ties move up). Once it moves left in row i, it keeps moving left (table[i][.] stays equal there,
    # table[i-1][.] only falls) until the row's value drops (a 0 bit) or a match: one bit search.
    out = []
    i, j = len(ref), len(can)
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif cell(i, j - 1) > cell(i - 1, j):
            stops = (~rows[i] | masks[ref[i - 1]] if ref[i - 1] in masks else ~rows[i]) & ((1 << (j - 1)) - 1)
            j = stops.bit_length()
        else:
            i -= 1
    return out
