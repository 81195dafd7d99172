"""Significance: the paired bootstrap and Welch's test, then the marks `xgen table` prints from
predictions files re-scored per example with SP-ROUGE."""

from __future__ import annotations

import random

import numpy as np
import pytest
import sentencepiece
from run_folders import identity, write_run

from xgen_cli.metrics.sp_rouge import SpRouge
from xgen_cli.runs.significance import Comparison, paired_bootstrap, welch_p

WORDS = ("fold the paper press hard preheat oven bake bread wash hands water soap cut onion slowly "
         "open window clean floor mop dry towel boil pasta salt stir sauce").split()


def test_identical_score_sets_are_never_significant():
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.uniform(0, 100, size=50)
        assert paired_bootstrap(a, a.copy(), seed=int(rng.integers(1000))) == 1.0


def test_a_clearly_better_system_is_significant_and_the_p_value_is_seeded():
    rng = np.random.default_rng(2)
    b = rng.uniform(10, 40, size=100)
    a = b + rng.uniform(3, 8, size=100)
    assert paired_bootstrap(a, b) < 0.01 and paired_bootstrap(b, a) < 0.01
    noisy = b + rng.normal(0, 10, size=100)
    assert paired_bootstrap(noisy, b, seed=7) == paired_bootstrap(noisy, b, seed=7)
    assert paired_bootstrap(noisy, b) > 0.05  # noise around zero: no difference


def test_welch_over_seeds():
    assert welch_p([43.0], [46.7, 46.6]) is None  # one seed: no seed-level test
    assert welch_p([43.0, 43.4, 43.8], [46.6, 46.7, 46.8]) < 0.05  # paper.md XXL EN, PROMPT vs MODEL
    assert welch_p([29.0, 30.0, 31.0], [29.5, 30.5, 29.0]) > 0.05
    assert welch_p([38.0, 38.0], [34.0, 34.0]) == 0.0 and welch_p([1.0, 1.0], [1.0, 1.0]) == 1.0
    assert not Comparison(p_bootstrap=0.001, p_seeds=0.2, examples=50).significant  # both must agree
    assert Comparison(p_bootstrap=0.001, p_seeds=None, examples=50).significant


# ---- through `xgen table`

@pytest.fixture(scope="module")
def spm(tmp_path_factory):
    rng = random.Random(0)
    folder = tmp_path_factory.mktemp("spm")
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(" ".join(rng.choices(WORDS, k=12)) for _ in range(300)),
        model_prefix=str(folder / "spiece"), vocab_size=60, minloglevel=2, num_threads=1, hard_vocab_limit=False)
    return folder / "spiece.model"


def _examples(n=60, seed=0):
    rng = random.Random(seed)
    return [(str(i), " ".join(rng.choices(WORDS, k=8))) for i in range(n)]


def _predictions(examples, keep: float, seed: int):
    """Each prediction keeps a share `keep` of its reference's words, the rest replaced at random."""
    rng = random.Random(seed)
    rows = []
    for i, ref in examples:
        words = [w if rng.random() < keep else rng.choice(WORDS) for w in ref.split()]
        rows.append({"id": i, "prediction": " ".join(words), "reference": ref})
    return rows


def test_table_marks_a_clearly_better_method_and_not_a_copy(xgen, tmp_path, spm):
    scorer = SpRouge(spm)
    examples = _examples()

    def run(name, model, method, seed, predictions):
        logged = scorer.corpus_score([r["prediction"] for r in predictions], [r["reference"] for r in predictions])
        write_run(tmp_path / name, identity(model=model, method=method, seed=seed), {"ru": logged},
                  predictions={"ru": predictions})

    same = _predictions(examples, 0.5, seed=0)
    for seed in range(2):
        # MODEL and PROMPT at BASE make the very same predictions: never significant.
        run(f"base-model-s{seed}", "base", "model", seed, same)
        run(f"base-prompt-s{seed}", "base", "prompt", seed, same)
        # At XXL, PROMPT keeps far more of the reference than MODEL.
        run(f"xxl-model-s{seed}", "xxl", "model", seed, _predictions(examples, 0.2, seed=10 + seed))
        run(f"xxl-prompt-s{seed}", "xxl", "prompt", seed, _predictions(examples, 0.9, seed=20 + seed))
    out = xgen("table", f"runs=[{tmp_path}]", "table=table8", f"spm_model={spm}").stdout
    rows = {tuple(c.strip() for c in line.split("|")[1:3]): line.split("|")[3].strip()
            for line in out.splitlines() if line.startswith("| ")}
    assert rows[("XXL", "Δ P-M")].startswith("+") and rows[("XXL", "Δ P-M")].endswith("†")
    assert rows[("BASE", "Δ P-M")] == "+0.0"
    assert "- †: differs from its reference row at 95%: paired bootstrap over the evaluation examples" in out
    assert "1,000 resamples, seed 0" in out and "Welch's t-test over seeds" in out

    # Without a tokenizer, or with another one, the table says what it could not test.
    untested = xgen("table", f"runs=[{tmp_path}]", "table=table8").stdout
    assert "†" not in untested.split("\n- ")[0]
    assert "significance not tested for 2 SP-RG cell(s): no SentencePiece model found" in untested
    other = tmp_path.parent / "other-spm"
    other.mkdir()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(WORDS * 20), model_prefix=str(other / "spiece"), vocab_size=40, minloglevel=2,
        num_threads=1, hard_vocab_limit=False)
    wrong = xgen("table", f"runs=[{tmp_path}]", "table=table8", f"spm_model={other / 'spiece.model'}").stdout
    assert "re-scored predictions do not reproduce the logged SP-ROUGE" in wrong
