"""5. SP-ROUGE on 2,000 multilingual prediction/reference pairs: xgen's SpRouge vs rouge-score's
RougeScorer(['rougeLsum']) with the same SentencePiece pieces; the scores must be identical.

Pairs: demo articles in its seven languages; the prediction is the article's first two lines on one
line (a LEAD-like summary), the reference the multi-line summary, as in evaluation.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.common import entry, interleaved, median, micro_backbone

PAIRS, QUICK_PAIRS = 2000, 70
ROUNDS, QUICK_ROUNDS = 3, 1
TOLERANCE = 1e-9  # both compute the same rationals in the same order; only float rounding may differ


def pairs(n: int) -> tuple[list[str], list[str]]:
    from xgen_cli.data.demo import DEMO_LANGS, generate_split

    per_lang = -(-n // len(DEMO_LANGS))
    examples = [e for lang in DEMO_LANGS for e in generate_split(lang, "train", per_lang)][:n]
    return [" ".join(e.article.split("\n")[:2]) for e in examples], [e.summary for e in examples]


def run(quick: bool, out: Path) -> list[dict]:
    import sentencepiece
    from rouge_score.rouge_scorer import RougeScorer

    from xgen_cli.metrics.sp_rouge import SpRouge

    spm_model = micro_backbone() / "spiece.model"
    predictions, references = pairs(QUICK_PAIRS if quick else PAIRS)
    ours = SpRouge(spm_model)

    class Pieces:  # rouge-score's tokenizer hook: the same pieces
        sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))

        def tokenize(self, text):
            return self.sp.encode(text, out_type=str)

    scorer = RougeScorer(["rougeLsum"], tokenizer=Pieces())
    results = {}

    def xgen():
        results["xgen"] = ours.scores(predictions, references)

    def baseline():
        results["rouge-score"] = [scorer.score(r, p)["rougeLsum"].fmeasure * 100
                                  for p, r in zip(predictions, references, strict=True)]

    seconds = interleaved({"xgen": xgen, "rouge-score": baseline}, QUICK_ROUNDS if quick else ROUNDS)
    worst = max(abs(a - b) for a, b in zip(results["xgen"], results["rouge-score"], strict=True))
    if worst > TOLERANCE:
        raise AssertionError(f"SP-ROUGE differs from rouge-score by {worst} on some pair")
    x, b = median(seconds["xgen"]), median(seconds["rouge-score"])
    print(f"  sp-rouge: xgen {x:.3f}s rouge-score {b:.3f}s (max |diff| {worst:.1e})", file=sys.stderr, flush=True)
    return [entry(f"SP-ROUGE, {len(predictions):,} multilingual pairs", x, b, "s", ratio=b / x, target=">= 10",
                  met=b / x >= 10, baseline_name="rouge-score 0.1.2 RougeScorer(rougeLsum) on SentencePiece pieces",
                  inputs={"pairs": len(predictions), "langs": "en es fr de ru vi th", "spm": "micro backbone's",
                          "max_abs_difference": worst, "rounds": len(seconds["xgen"])})]
