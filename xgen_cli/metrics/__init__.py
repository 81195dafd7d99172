"""Metrics of paper.md ("Metrics"), all x100, and the post-processing that comes before them.

- sp_rouge: mean ROUGE-LSum F-measure on SentencePiece pieces, sentences split on newlines; equal
  to rouge-score's RougeScorer(['rougeLsum'], tokenizer=<pieces>) (paper.md).
- lid_target / lid_en: mean over predictions of cld3's probability if its top language is the
  target language / English, else 0 (paper.md xgen decision).
- ascii: mean % of non-whitespace characters that are ASCII (paper.md xgen decision: whitespace
  excluded); xgen leaves empty predictions out of this mean.
- distinct: % of predictions that are distinct strings (paper.md xgen diagnostic).
- empty: % of predictions that are empty or whitespace only (paper.md xgen diagnostic).

Predictions are scored as given: `remove_repeated_suffix` (paper.md, "Post-processing") belongs to
decoding and is applied by the caller before scoring. This package imports no torch.
"""

from xgen_cli.metrics.ascii import ascii_share
from xgen_cli.metrics.diagnostics import distinct_share, empty_share
from xgen_cli.metrics.lid import lid_score
from xgen_cli.metrics.postprocess import remove_repeated_suffix
from xgen_cli.metrics.sp_rouge import SpRouge

__all__ = [
    "SpRouge",
    "ascii_share",
    "distinct_share",
    "empty_share",
    "lid_score",
    "remove_repeated_suffix",
    "score_language",
]


def score_language(predictions: list[str], references: list[str], lang: str, sp_rouge: SpRouge) -> dict:
    """All metrics of one target language, as one row of the results table."""
    return {
        "n": len(predictions),
        "sp_rouge": sp_rouge.corpus_score(predictions, references),
        "lid_target": lid_score(predictions, lang),
        "lid_en": lid_score(predictions, "en"),
        "ascii": ascii_share(predictions),
        "distinct": distinct_share(predictions),
        "empty": empty_share(predictions),
    }
