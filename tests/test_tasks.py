"""Tasks (xgen_cli/data/tasks.py): summarize, the seven unsupervised tasks, sentinel ids."""

from __future__ import annotations

import math
import random
from itertools import pairwise

import pytest

from xgen_cli.data.example import Example
from xgen_cli.data.tasks import (
    N_PREFIX_TOKENS,
    UNSUPERVISED_TASKS,
    iid_denoising,
    lm,
    make_unsupervised_task,
    missing_n_token_prefix,
    missing_prefix,
    n_token_prefix,
    noise_span_lengths,
    prefix_lm,
    sentinel_ids,
    span_corruption,
    summarize,
)

EOS = 1
FAKE_SENTINELS = list(range(1000, 1100))  # distinct ids outside the text's range

TEXT = [
    "How to plant a tree. Dig a hole twice as wide as the root ball.",
    "Water the tree slowly and deeply after planting it in the garden.",
    "Comment planter un arbre. Creusez un trou deux fois plus large que la motte.",
    "Как посадить дерево. Выкопайте яму в два раза шире корневого кома.",
    "Cách trồng cây. Đào một cái hố rộng gấp đôi bầu rễ.",
    "วิธีปลูกต้นไม้ ขุดหลุมให้กว้างเป็นสองเท่าของตุ้มราก",
] * 20


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    sentencepiece = pytest.importorskip("sentencepiece")
    from transformers import T5Tokenizer

    folder = tmp_path_factory.mktemp("spm")
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT), model_prefix=str(folder / "spiece"), vocab_size=400, byte_fallback=True,  # 256 byte pieces + chars
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2,
    )
    return T5Tokenizer.from_pretrained(str(folder))


def _random_ids(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(3, 500) for _ in range(n)]


# --- noise_span_lengths ------------------------------------------------------------------------

@pytest.mark.parametrize("length", [2, 3, 7, 20, 57, 100, 513])
def test_noise_span_lengths_shape(length):
    rng = random.Random(length)
    for _ in range(50):
        lengths = noise_span_lengths(length, rng, 0.15, 3.0)
        assert sum(lengths) == length
        assert len(lengths) % 2 == 0  # (keep, noise) pairs: starts with keep, alternates
        assert all(n >= 1 for n in lengths)  # no empty span of either kind
        noise = sum(lengths[1::2])
        expected = min(max(round(length * 0.15), 1), length - 1)
        assert noise == expected
        assert abs(noise - 0.15 * length) <= max(0.5, 1 - 0.15 * length)


def test_noise_span_lengths_mean_span_is_three():
    rng = random.Random(0)
    spans = []
    for _ in range(2000):
        lengths = noise_span_lengths(rng.randrange(60, 600), rng, 0.15, 3.0)
        spans += lengths[1::2]
    mean = sum(spans) / len(spans)
    assert 2.8 <= mean <= 3.2
    assert len(set(spans)) > 3  # span lengths vary, not all equal to 3


def test_noise_span_lengths_is_random_and_seeded():
    a = noise_span_lengths(200, random.Random(5), 0.15, 3.0)
    b = noise_span_lengths(200, random.Random(5), 0.15, 3.0)
    c = noise_span_lengths(200, random.Random(6), 0.15, 3.0)
    assert a == b and a != c


# --- span corruption ---------------------------------------------------------------------------

def _reconstruct(inputs: list[int], targets: list[int], sentinels: list[int]) -> list[int]:
    spans, current = {}, None
    for t in targets[:-1]:
        if t in sentinels:
            current = t
            spans[current] = []
        else:
            assert current is not None, "target must start with a sentinel"
            spans[current].append(t)
    out = []
    for t in inputs[:-1]:
        out += spans.pop(t) if t in sentinels else [t]
    assert not spans, "every target span is referenced by the input"
    return out


def _check_sentinel_pair(pair, ids: list[int]) -> list[int]:
    """EOS last and only last, sentinels in order from <extra_id_0>, and the text restored; returns
    the sentinels used."""
    assert pair.input_ids[-1] == EOS and pair.labels[-1] == EOS
    assert EOS not in pair.input_ids[:-1] and EOS not in pair.labels[:-1]
    used_in = [t for t in pair.input_ids if t in FAKE_SENTINELS]
    used_out = [t for t in pair.labels if t in FAKE_SENTINELS]
    assert used_in == used_out == FAKE_SENTINELS[: len(used_in)]
    assert _reconstruct(pair.input_ids, pair.labels, FAKE_SENTINELS) == ids
    return used_out


@pytest.mark.parametrize("length", [2, 3, 10, 64, 300])
def test_span_corruption_reconstructs_the_text(length):
    rng = random.Random(length)
    for _ in range(30):
        ids = _random_ids(rng, length)
        pair = span_corruption(ids + [EOS], rng, FAKE_SENTINELS, EOS)
        used_out = _check_sentinel_pair(pair, ids)
        assert used_out and pair.labels[0] == FAKE_SENTINELS[0]
        hidden = len(pair.labels) - 1 - len(used_out)
        assert hidden == min(max(round(length * 0.15), 1), length - 1)


def test_span_corruption_with_real_sentinels(tokenizer):
    rng = random.Random(0)
    sentinels = sentinel_ids(tokenizer)
    ids = tokenizer(" ".join(TEXT[:6])).input_ids
    pair = span_corruption(ids, rng, sentinels, tokenizer.eos_token_id)
    assert _reconstruct(pair.input_ids, pair.labels, sentinels) == ids[:-1]
    assert tokenizer.convert_ids_to_tokens(pair.labels[0]) == "<extra_id_0>"


# --- prefix LM ---------------------------------------------------------------------------------

# prefix LM: the prefix in, the rest out; missing prefix: the rest in, the prefix out.
SPLIT_TASKS = {"prefix_lm": (prefix_lm, lambda p: (p.input_ids[:-1], p.labels[:-1])),
               "missing_prefix": (missing_prefix, lambda p: (p.labels[:-1], p.input_ids[:-1]))}


@pytest.mark.parametrize("task", list(SPLIT_TASKS))
@pytest.mark.parametrize("length", [2, 5, 100])
def test_prefix_tasks_split_the_text_at_a_random_cut(task, length):
    fn, sides = SPLIT_TASKS[task]
    rng = random.Random(length)
    cuts = set()
    for _ in range(40):
        ids = _random_ids(rng, length)
        pair = fn(ids + [EOS], rng, EOS)
        assert pair.input_ids[-1] == EOS and pair.labels[-1] == EOS
        prefix, rest = sides(pair)
        assert prefix and rest
        assert prefix + rest == ids
        cuts.add(len(prefix))
    if length > 2:
        assert len(cuts) > 1  # the cut is random


# --- i.i.d. denoising --------------------------------------------------------------------------

def _noise_spans(pair, sentinels) -> list[int]:
    """Lengths of the spans the target restores, in order."""
    spans = []
    for t in pair.labels[:-1]:
        if t in sentinels:
            spans.append(0)
        else:
            spans[-1] += 1
    return spans


@pytest.mark.parametrize("length", [1, 2, 3, 10, 64, 300])
def test_iid_denoising_reconstructs_the_text(length):
    rng = random.Random(length)
    for _ in range(30):
        ids = _random_ids(rng, length)
        pair = iid_denoising(ids + [EOS], rng, FAKE_SENTINELS, EOS)
        _check_sentinel_pair(pair, ids)
        hidden = sum(_noise_spans(pair, FAKE_SENTINELS))
        assert 1 <= hidden <= max(length - 1, 1)  # something hidden, something kept (from 2 tokens)
        # consecutive noised tokens share one sentinel: two sentinels never touch in the input
        assert not any(a in FAKE_SENTINELS and b in FAKE_SENTINELS for a, b in pairwise(pair.input_ids))


def test_iid_denoising_noise_share_is_binomial():
    # Each token is noised independently with p = 0.15; over N tokens the share has std
    # sqrt(p(1-p)/N) ~ 0.0011 for N = 100,000, so 5 std (~0.006) fails a wrong rate, not bad luck.
    # Texts of 200 tokens: the forced flip (all kept: 0.85^200) never happens and <= 100 spans.
    rng, p, length, draws = random.Random(0), 0.15, 200, 500
    hidden, spans = 0, []
    for _ in range(draws):
        pair = iid_denoising(_random_ids(rng, length), rng, FAKE_SENTINELS, EOS)
        spans += _noise_spans(pair, FAKE_SENTINELS)
    hidden = sum(spans)
    n = length * draws
    assert abs(hidden / n - p) < 5 * math.sqrt(p * (1 - p) / n)
    # runs are geometric, mean 1 / (1 - p) ~ 1.18: not T5's mean-3 spans, and some longer than one
    assert 1.1 < sum(spans) / len(spans) < 1.26 and max(spans) >= 3


def test_iid_denoising_past_the_last_sentinel_keeps_the_text():
    # 2000 tokens at 15% make ~250 noise runs; only 100 sentinels exist, the rest stay in the input
    rng = random.Random(1)
    ids = _random_ids(rng, 2000)
    pair = iid_denoising(ids, rng, FAKE_SENTINELS, EOS)
    assert [t for t in pair.input_ids if t in FAKE_SENTINELS] == FAKE_SENTINELS
    assert _reconstruct(pair.input_ids, pair.labels, FAKE_SENTINELS) == ids


def test_iid_denoising_with_real_sentinels(tokenizer):
    sentinels = sentinel_ids(tokenizer)
    ids = tokenizer(" ".join(TEXT[:6])).input_ids
    pair = iid_denoising(ids, random.Random(3), sentinels, tokenizer.eos_token_id)
    assert _reconstruct(pair.input_ids, pair.labels, sentinels) == ids[:-1]
    assert tokenizer.convert_ids_to_tokens(pair.labels[0]) == "<extra_id_0>"


# --- LM and the prefix tasks -------------------------------------------------------------------

@pytest.mark.parametrize("length", [0, 1, 7, 100])
def test_lm_has_an_empty_input(length):
    ids = _random_ids(random.Random(length), length)
    assert lm(ids + [EOS], random.Random(0), EOS) == ([EOS], ids + [EOS])


@pytest.mark.parametrize("n", [1, 3, N_PREFIX_TOKENS])
def test_n_token_prefix_targets_exactly_n_tokens(n):
    rng = random.Random(n)
    for length in range(n + 1, n + 30):
        ids = _random_ids(rng, length)
        pair = n_token_prefix(ids + [EOS], rng, EOS, n=n)
        assert pair.input_ids == ids + [EOS]
        assert pair.labels == ids[:n] + [EOS]


@pytest.mark.parametrize("n", [1, 3, N_PREFIX_TOKENS])
def test_missing_n_token_prefix_targets_exactly_the_missing_n(n):
    rng = random.Random(n)
    for length in range(n + 1, n + 30):
        ids = _random_ids(rng, length)
        pair = missing_n_token_prefix(ids + [EOS], rng, EOS, n=n)
        assert pair.labels == ids[:n] + [EOS]
        assert pair.input_ids == ids[n:] + [EOS]


@pytest.mark.parametrize("length", [0, 1, 2, 5, N_PREFIX_TOKENS])
def test_n_token_tasks_on_texts_no_longer_than_n(length):
    ids = _random_ids(random.Random(length), length)
    rng = random.Random(0)
    assert n_token_prefix(ids, rng, EOS) == (ids + [EOS], ids + [EOS])  # copies the whole text
    pair = missing_n_token_prefix(ids, rng, EOS)
    if length >= 2:  # the input keeps the last token
        assert pair == (ids[-1:] + [EOS], ids[:-1] + [EOS])
    else:
        assert pair == ([EOS], ids + [EOS])


def test_default_n_is_the_documented_one():
    assert N_PREFIX_TOKENS == 8
    ids = list(range(10, 30))
    assert n_token_prefix(ids, random.Random(0), EOS).labels == ids[:8] + [EOS]


# --- every unsupervised task, built by name -----------------------------------------------------

def test_unsupervised_tasks_are_the_papers_seven_in_order():
    assert list(UNSUPERVISED_TASKS) == ["prefix_lm", "span_corruption", "iid_denoising", "lm",
                                        "missing_prefix", "n_token_prefix", "missing_n_token_prefix"]


@pytest.mark.parametrize("name", list(UNSUPERVISED_TASKS))
@pytest.mark.parametrize(("max_in", "max_out"), [(1024, 512), (16, 6), (5, 40), (1, 1)])
def test_every_task_respects_the_clip_and_ends_in_one_eos(tokenizer, name, max_in, max_out):
    eos = tokenizer.eos_token_id
    task = make_unsupervised_task(name, tokenizer, max_input_tokens=max_in, max_target_tokens=max_out)
    rng = random.Random(0)
    docs = tokenizer(TEXT[:6], add_special_tokens=False).input_ids
    docs += [d[:k] for d in docs[:2] for k in (1, 2, 9)] + [[]]  # short texts, and an empty one
    for doc in docs:
        for ids in (doc, doc + [eos]):
            pair = task(ids, rng)
            assert 1 <= len(pair.input_ids) <= max_in and 1 <= len(pair.labels) <= max_out
            for side in pair:
                assert side[-1] == eos and eos not in side[:-1]


@pytest.mark.parametrize("name", ["span_corruption", "iid_denoising"])
def test_a_clipped_sentinel_task_still_reconstructs_its_text(tokenizer, name):
    # the text is cut to fit the input, so input and target agree on every sentinel
    eos, sentinels = tokenizer.eos_token_id, sentinel_ids(tokenizer)
    ids = tokenizer(" ".join(TEXT[:6])).input_ids
    task = make_unsupervised_task(name, tokenizer, max_input_tokens=30, max_target_tokens=512)
    for seed in range(20):
        pair = task(ids, random.Random(seed))
        assert len(pair.input_ids) <= 30
        text = _reconstruct(pair.input_ids, pair.labels, sentinels)
        assert text == ids[: len(text)] and len(text) >= 30 - 1  # a prefix at least as long as the input
        assert eos not in text


def test_clipping_cuts_the_ends(tokenizer):
    eos = tokenizer.eos_token_id
    ids = tokenizer(" ".join(TEXT[:6]), add_special_tokens=False).input_ids
    build = make_unsupervised_task
    assert build("lm", tokenizer, max_input_tokens=4, max_target_tokens=10)(ids, random.Random(0)) == (
        [eos], ids[:9] + [eos])  # lm's text is cut to the target's room, not the input's
    assert build("n_token_prefix", tokenizer, max_input_tokens=6, max_target_tokens=4)(ids, random.Random(0)) == (
        ids[:5] + [eos], ids[:3] + [eos])
    pair = build("missing_prefix", tokenizer, max_input_tokens=12, max_target_tokens=3)(ids, random.Random(0))
    rest = pair.input_ids[:-1]  # the text was cut to 11 tokens, the input is what follows the cut
    assert len(pair.labels) <= 3 and rest == ids[11 - len(rest) : 11]


@pytest.mark.parametrize("name", list(UNSUPERVISED_TASKS))
def test_same_seed_same_pair(tokenizer, name):
    task = make_unsupervised_task(name, tokenizer, max_input_tokens=1024, max_target_tokens=512)
    ids = tokenizer(" ".join(TEXT[:6])).input_ids
    assert task(ids, random.Random(7)) == task(ids, random.Random(7))
    outputs = {tuple(map(tuple, task(ids, random.Random(seed)))) for seed in range(5)}
    deterministic = name in ("lm", "n_token_prefix", "missing_n_token_prefix")  # no random choice
    assert len(outputs) == (1 if deterministic else 5)


def test_params_are_bound(tokenizer):
    ids = tokenizer(" ".join(TEXT[:2]), add_special_tokens=False).input_ids
    eos = tokenizer.eos_token_id
    for name, n in (("n_token_prefix", 3), ("missing_n_token_prefix", 5)):
        task = make_unsupervised_task(name, tokenizer, max_input_tokens=1024, max_target_tokens=512, n=n)
        assert task(ids, random.Random(0)).labels == ids[:n] + [eos]
    task = make_unsupervised_task("span_corruption", tokenizer, max_input_tokens=1024, max_target_tokens=512,
                                  noise_density=0.5, mean_span=1.0)
    labels = task(ids, random.Random(0)).labels
    assert len(labels) - 1 == 2 * round(0.5 * len(ids))  # every hidden token has its own sentinel


def test_unknown_task_is_rejected_naming_the_choices(tokenizer):
    with pytest.raises(ValueError, match="unknown unsupervised task 'gap_sentences'.*prefix_lm.*missing_n_token_prefix"):
        make_unsupervised_task("gap_sentences", tokenizer, max_input_tokens=8, max_target_tokens=8)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("lm", {"n": 3}, "task 'lm' has no parameter n; its parameters: none"),
        ("iid_denoising", {"mean_span": 3.0}, "no parameter mean_span; its parameters: noise_density"),
        ("span_corruption", {"density": 0.1}, "no parameter density; its parameters: noise_density, mean_span"),
        ("n_token_prefix", {"n": 0}, "n must be a positive integer"),
        ("missing_n_token_prefix", {"n": 2.5}, "n must be a positive integer"),
        ("iid_denoising", {"noise_density": 1.0}, "0 < noise_density < 1"),
        ("span_corruption", {"mean_span": 0.5}, "mean_span >= 1"),
    ],
)
def test_bad_params_are_rejected_when_building(tokenizer, name, params, message):
    with pytest.raises(ValueError, match=message):
        make_unsupervised_task(name, tokenizer, max_input_tokens=8, max_target_tokens=8, **params)


def test_sentinel_tasks_need_a_tokenizer_with_sentinels(tokenizer):
    class NoSentinels:
        eos_token_id, unk_token_id = 1, 2

        def convert_tokens_to_ids(self, tokens):
            return [2] * len(tokens)

    with pytest.raises(ValueError, match="sentinel"):
        make_unsupervised_task("iid_denoising", NoSentinels(), max_input_tokens=8, max_target_tokens=8)
    make_unsupervised_task("lm", NoSentinels(), max_input_tokens=8, max_target_tokens=8)  # needs none


# --- summarize ---------------------------------------------------------------------------------

def test_summarize_clips_keeping_eos_last(tokenizer):
    eos = tokenizer.eos_token_id
    example = Example(id="1", lang="en", article=" ".join(TEXT[:4]), summary="Dig a hole.\nWater the tree.")
    full_in = tokenizer(example.article).input_ids
    full_out = tokenizer(example.summary).input_ids
    assert len(full_in) > 12 and len(full_out) > 4

    pair = summarize(example, tokenizer, max_input_tokens=12, max_target_tokens=4)
    assert len(pair.input_ids) == 12 and len(pair.labels) == 4
    assert pair.input_ids[-1] == eos and pair.labels[-1] == eos
    assert pair.input_ids[:-1] == full_in[:11] and pair.labels[:-1] == full_out[:3]

    whole = summarize(example, tokenizer)  # defaults 1024 / 512: nothing clipped, no task prefix
    assert whole.input_ids == full_in and whole.labels == full_out
    assert whole.input_ids[-1] == eos and whole.labels[-1] == eos
    assert eos not in whole.input_ids[:-1]

    exact = summarize(example, tokenizer, max_input_tokens=len(full_in), max_target_tokens=len(full_out))
    assert exact == whole


# --- sentinel ids ------------------------------------------------------------------------------

def test_sentinel_ids(tokenizer):
    ids = sentinel_ids(tokenizer)
    assert len(ids) == 100 and len(set(ids)) == 100
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.convert_ids_to_tokens(ids) == [f"<extra_id_{i}>" for i in range(100)]
    assert tokenizer.eos_token_id not in ids and tokenizer.pad_token_id not in ids


def test_sentinel_ids_rejects_a_tokenizer_without_them(tokenizer):
    class NoSentinels:
        unk_token_id = 2

        def convert_tokens_to_ids(self, tokens):
            return [2] * len(tokens)

    with pytest.raises(ValueError, match="sentinel"):
        sentinel_ids(NoSentinels())
