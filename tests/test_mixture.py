"""The training mixture (data/mixture.py) and MIX-UNSUP's share of unlabeled draws (data/mixing.py)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from xgen_cli.data.mixing import remedy_langs, training_mixture
from xgen_cli.data.mixture import Generated, Labelled, Mixture
from xgen_cli.data.tasks import Pair
from xgen_cli.errors import XgenError

PAIRS = [Pair([10 + i, 1], [20 + i, 1]) for i in range(7)]
DOCS = [[30 + i, 31 + i, 32 + i] for i in range(5)]


def _copy_task(ids, rng):
    return Pair(ids + [1], [rng.randrange(100, 200), 1])


def _mixture(rate: float, total: int, seed: int = 0) -> Mixture:
    return Mixture([Labelled("summarize", 1 - rate, PAIRS, "en"), Generated("span_corruption", rate / 2, DOCS, _copy_task, "ru"),
                    Generated("span_corruption", rate / 2, DOCS, _copy_task, "th")], total, seed)


@pytest.mark.parametrize("rate", [0.01, 0.1, 0.3])
def test_unsupervised_share_is_kappa_within_three_standard_deviations(rate):
    n = 20_000
    for seed in range(3):
        counts = _mixture(rate, n, seed).counts()
        unsup = counts["span_corruption/ru"] + counts["span_corruption/th"]
        assert abs(unsup - rate * n) <= 3 * math.sqrt(n * rate * (1 - rate)), (seed, unsup)
        assert sum(counts.values()) == n


def test_draws_are_reproducible_by_seed_and_addressable_by_index():
    a, b, c = _mixture(0.3, 500, seed=1), _mixture(0.3, 500, seed=1), _mixture(0.3, 500, seed=2)
    draws = [a[i] for i in range(500)]
    assert draws == [b[i] for i in range(500)]
    assert draws != [c[i] for i in range(500)]
    # Draw i does not depend on which draws came before it: a resumed run can start at any index.
    assert [a[i] for i in reversed(range(500))] == draws[::-1]


def test_draws_carry_their_task_and_language():
    mixture = _mixture(0.5, 200)
    tags = {(mixture[i].task, mixture[i].lang) for i in range(200)}
    assert tags == {("summarize", "en"), ("span_corruption", "ru"), ("span_corruption", "th")}


def test_a_pass_over_the_pairs_skips_those_whose_draws_went_elsewhere():
    mixture = _mixture(0.3, len(PAIRS) * 200, seed=4)
    supervised = [mixture[i] for i in range(len(mixture)) if mixture[i].task == "summarize"]
    seen = {tuple(p.input_ids) for p in supervised}
    assert seen == {tuple(p.input_ids) for p in PAIRS}  # every pair comes, in some pass


def test_labelled_pairs_are_each_seen_once_per_epoch_in_a_new_order():
    mixture = Mixture([Labelled("summarize", 1.0, PAIRS)], total=3 * len(PAIRS), seed=0)
    epochs = [[mixture[e * len(PAIRS) + j] for j in range(len(PAIRS))] for e in range(3)]
    for epoch in epochs:
        assert sorted(p.input_ids for p in epoch) == sorted(p.input_ids for p in PAIRS)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]


def test_no_mixing_draws_only_the_supervised_task():
    tokenizer = SimpleNamespace(eos_token_id=1)
    mixture = training_mixture({"en": PAIRS}, {"name": "none", "rate": 0.0}, {}, tokenizer,
                               max_input_tokens=16, max_target_tokens=16, total=50, seed=0)
    assert mixture.counts() == {"summarize/en": 50}


def test_mixing_without_unlabeled_text_is_one_clear_error():
    tokenizer = SimpleNamespace(eos_token_id=1)
    with pytest.raises(XgenError, match="no unlabeled text for th.*unlabeled.jsonl"):
        training_mixture({"en": PAIRS}, {"name": "unsup", "rate": 0.01, "task": "span_corruption"}, {"ru": DOCS, "th": []},
                         tokenizer, max_input_tokens=16, max_target_tokens=16, total=50, seed=0)


def test_remedy_languages():
    corpus = SimpleNamespace(languages=lambda: ["de", "en", "ru", "th"])
    kw = {"eval_langs": ["en", "ru", "th"], "train_lang": "en", "corpus": corpus, "key": "mixing.langs"}
    assert remedy_langs("targets", **kw) == ["ru", "th"]
    assert remedy_langs("all", **kw) == ["de", "en", "ru", "th"]
    assert remedy_langs(["vi"], **kw) == ["vi"]
    with pytest.raises(XgenError, match="no target language besides en"):
        remedy_langs("targets", **{**kw, "eval_langs": ["en"]})
    with pytest.raises(XgenError, match="cannot list its languages"):
        remedy_langs("all", **{**kw, "corpus": object()})


def test_mixture_refuses_an_empty_source():
    with pytest.raises(ValueError, match="without data: span_corruption"):
        Mixture([Labelled("summarize", 0.9, PAIRS), Generated("span_corruption", 0.1, [], _copy_task)], 10, 0)


def test_generated_source_uses_the_draws_own_rng():
    mixture = Mixture([Generated("t", 1.0, DOCS, _copy_task)], total=20, seed=3)
    labels = {mixture[i].labels[0] for i in range(20)}
    assert len(labels) > 1  # each draw has its own RNG, not one shared seed
    assert mixture[7] == Mixture([Generated("t", 1.0, DOCS, _copy_task)], total=20, seed=3)[7]
