"""Tasks: pure functions that turn an example or a token stream into (input ids, label ids).

A task is the unit that later remedies mix (paper.md, Remedies): `summarize` (article -> summary,
WikiLingua-0) reads Examples; the unsupervised tasks read token ids of unlabeled text and so work
for any language. Every function returns ids ending in EOS and clipped to the configured lengths.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from xgen_cli.data.example import Example


class Pair(NamedTuple):
    input_ids: list[int]
    labels: list[int]
    # Set by the training mixture: which task and language made the pair (factorized prompts
    # pick their sub-prompts by these); None outside a mixture.
    task: str | None = None
    lang: str | None = None


def _clip(ids: list[int], max_len: int, eos_id: int) -> list[int]:
    # Keep EOS as the last token after clipping, as T5's preprocessors do.
    return ids if len(ids) <= max_len else ids[: max_len - 1] + [eos_id]


def summarize(example: Example, tokenizer, max_input_tokens: int = 1024, max_target_tokens: int = 512) -> Pair:
    """WikiLingua-0: the article in, its summary out, no task prefix (paper.md, The task).

    The summary's newlines become spaces in SentencePiece's normalisation, as with real mT5; the
    reference keeps them for ROUGE-LSum's sentence split.
    """
    eos = tokenizer.eos_token_id
    inputs = tokenizer(example.article, add_special_tokens=True).input_ids
    labels = tokenizer(example.summary, add_special_tokens=True).input_ids
    return Pair(_clip(inputs, max_input_tokens, eos), _clip(labels, max_target_tokens, eos))


def noise_span_lengths(length: int, rng: random.Random, noise_density: float, mean_span: float) -> list[int]:
    """Alternating (keep, noise, keep, noise, ...) span lengths, as T5's random_spans_noise_mask.

    The number of noise tokens is round(length * density) and of noise spans round(noise / mean_span),
    at least one each; both token sets are split into that many non-empty spans at random.
    """
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(round(num_noise / mean_span), 1)
    num_spans = min(num_spans, num_noise, length - num_noise)

    def split(total: int) -> list[int]:
        cuts = sorted(rng.sample(range(1, total), num_spans - 1))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]

    keep, noise = split(length - num_noise), split(num_noise)
    return [n for pair in zip(keep, noise, strict=True) for n in pair]


def span_corruption(ids: list[int], rng: random.Random, sentinel_ids: list[int], eos_id: int,
                    noise_density: float = 0.15, mean_span: float = 3.0) -> Pair:
    """T5 span corruption (15% noise, mean span 3; paper.md): spans -> sentinels in the input,
    the target lists each sentinel followed by the tokens it hid."""
    ids = [t for t in ids if t != eos_id]
    if len(ids) < 2:
        return Pair(ids + [eos_id], [sentinel_ids[0], *ids, eos_id])
    inputs, labels, pos = [], [], 0
    lengths = noise_span_lengths(len(ids), rng, noise_density, mean_span)
    for span, n in enumerate(lengths):
        chunk = ids[pos : pos + n]
        pos += n
        if span % 2 == 0:
            inputs += chunk
        else:
            sentinel = sentinel_ids[min(span // 2, len(sentinel_ids) - 1)]
            inputs.append(sentinel)
            labels += [sentinel, *chunk]
    return Pair(inputs + [eos_id], labels + [eos_id])


def prefix_lm(ids: list[int], rng: random.Random, eos_id: int) -> Pair:
    """Prefix LM (the 'LM adaptation' objective): a random prefix in, the rest of the text out."""
    ids = [t for t in ids if t != eos_id]
    if len(ids) < 2:
        return Pair([eos_id], ids + [eos_id])
    cut = rng.randint(1, len(ids) - 1)
    return Pair(ids[:cut] + [eos_id], ids[cut:] + [eos_id])


def sentinel_ids(tokenizer, count: int = 100) -> list[int]:
    """The ids of <extra_id_0>, <extra_id_1>, ... in the tokenizer (mT5 has 100)."""
    ids = tokenizer.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(count)])
    if tokenizer.unk_token_id in ids:
        raise ValueError("tokenizer lacks T5 sentinel tokens <extra_id_N>")
    return ids
