"""Tasks (xgen_cli/data/tasks.py): summarize, T5 span corruption, prefix LM, sentinel ids."""

from __future__ import annotations

import random

import pytest

from xgen_cli.data.example import Example
from xgen_cli.data.tasks import noise_span_lengths, prefix_lm, sentinel_ids, span_corruption, summarize

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


@pytest.mark.parametrize("length", [2, 3, 10, 64, 300])
def test_span_corruption_reconstructs_the_text(length):
    rng = random.Random(length)
    for _ in range(30):
        ids = _random_ids(rng, length)
        pair = span_corruption(ids + [EOS], rng, FAKE_SENTINELS, EOS)
        assert pair.input_ids[-1] == EOS and pair.labels[-1] == EOS
        assert EOS not in pair.input_ids[:-1] and EOS not in pair.labels[:-1]
        used_in = [t for t in pair.input_ids if t in FAKE_SENTINELS]
        used_out = [t for t in pair.labels if t in FAKE_SENTINELS]
        assert used_in == used_out == FAKE_SENTINELS[: len(used_in)]  # in order, from <extra_id_0>
        assert used_in and pair.labels[0] == FAKE_SENTINELS[0]
        assert _reconstruct(pair.input_ids, pair.labels, FAKE_SENTINELS) == ids
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

@pytest.mark.parametrize("length", [2, 5, 100])
def test_prefix_lm_splits_the_text(length):
    rng = random.Random(length)
    cuts = set()
    for _ in range(40):
        ids = _random_ids(rng, length)
        pair = prefix_lm(ids + [EOS], rng, EOS)
        assert pair.input_ids[-1] == EOS and pair.labels[-1] == EOS
        prefix, rest = pair.input_ids[:-1], pair.labels[:-1]
        assert prefix and rest
        assert prefix + rest == ids
        cuts.add(len(prefix))
    if length > 2:
        assert len(cuts) > 1  # the cut is random


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
