"""Tasks: pure functions that turn an example or a token stream into (input ids, label ids).

A task is the unit that later remedies mix (paper.md, Remedies): `summarize` (article -> summary,
WikiLingua-0) reads Examples; the seven unsupervised tasks of FACTORIZED PROMPTS read token ids of
unlabeled text (with or without a trailing EOS) and so work for any language. Every task returns
ids that end in EOS, once; `make_unsupervised_task` builds one by name and clips it to the
configured lengths.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable
from typing import NamedTuple

from xgen_cli.data.example import Example


class Pair(NamedTuple):
    input_ids: list[int]
    labels: list[int]


class TaggedPair(NamedTuple):
    """A Pair with the task and the language that made it: factorized prompts pick their
    sub-prompts by these. The training mixture and the evaluator tag; tasks do not."""

    input_ids: list[int]
    labels: list[int]
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


def summarize_all(examples: list[Example], tokenizer, max_input_tokens: int = 1024, max_target_tokens: int = 512
                  ) -> list[Pair]:
    """`summarize` of each example, in one tokenizer call per side (its batch path: several times faster)."""
    eos = tokenizer.eos_token_id
    if not examples:
        return []
    inputs = tokenizer([e.article for e in examples], add_special_tokens=True).input_ids
    labels = tokenizer([e.summary for e in examples], add_special_tokens=True).input_ids
    return [Pair(_clip(i, max_input_tokens, eos), _clip(o, max_target_tokens, eos)) for i, o in zip(inputs, labels, strict=True)]


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


def _text(ids: list[int], eos_id: int) -> list[int]:
    # Callers pass a document with or without its EOS; the tasks place EOS themselves.
    return [t for t in ids if t != eos_id]


def _hide_spans(ids: list[int], lengths: list[int], sentinel_ids: list[int], eos_id: int) -> Pair:
    """Alternating (keep, noise, keep, ...) span lengths -> one sentinel per noise span in the input,
    each sentinel followed by the tokens it hid in the target.

    Past the last sentinel, noise spans stay in the input: reusing a sentinel would make the target
    ambiguous (T5 runs on into ordinary vocabulary ids instead). Only texts with more than 100 spans
    (about 800 tokens at 15% i.i.d. noise, 2000 for span corruption) get there.
    """
    inputs, labels, pos = [], [], 0
    for span, n in enumerate(lengths):
        chunk = ids[pos : pos + n]
        pos += n
        if span % 2 == 0 or span // 2 >= len(sentinel_ids):
            inputs += chunk
        else:
            sentinel = sentinel_ids[span // 2]
            inputs.append(sentinel)
            labels += [sentinel, *chunk]
    return Pair(inputs + [eos_id], labels + [eos_id])


def span_corruption(ids: list[int], rng: random.Random, sentinel_ids: list[int], eos_id: int,
                    noise_density: float = 0.15, mean_span: float = 3.0) -> Pair:
    """T5 span corruption (15% noise, mean span 3; paper.md): spans -> sentinels in the input,
    the target lists each sentinel followed by the tokens it hid."""
    if not 0 < noise_density < 1 or mean_span < 1:
        raise ValueError(f"span_corruption needs 0 < noise_density < 1 and mean_span >= 1, "
                         f"got {noise_density}, {mean_span}")
    ids = _text(ids, eos_id)
    if len(ids) < 2:
        return Pair(ids + [eos_id], [sentinel_ids[0], *ids, eos_id])
    lengths = noise_span_lengths(len(ids), rng, noise_density, mean_span)
    return _hide_spans(ids, lengths, sentinel_ids, eos_id)


def iid_denoising(ids: list[int], rng: random.Random, sentinel_ids: list[int], eos_id: int,
                  noise_density: float = 0.15) -> Pair:
    """T5's i.i.d. denoising: each token is noised with probability `noise_density` (15%, as span
    corruption); each run of noised tokens becomes one sentinel, with the target as in span corruption.

    A text of two or more tokens keeps at least one token and loses at least one: when the draw noises
    none (or all), one token chosen at random is flipped. A one-token text is hidden whole.
    """
    if not 0 < noise_density < 1:
        raise ValueError(f"iid_denoising needs 0 < noise_density < 1, got {noise_density}")
    ids = _text(ids, eos_id)
    noised = [rng.random() < noise_density for _ in ids]
    if len(ids) == 1:
        noised = [True]
    elif len(ids) >= 2 and (all(noised) or not any(noised)):
        flip = rng.randrange(len(ids))
        noised[flip] = not noised[flip]
    lengths = [0]  # (keep, noise, keep, ...): the text may start with a noise run
    for noise in noised:
        if noise != (len(lengths) % 2 == 0):
            lengths.append(0)
        lengths[-1] += 1
    return _hide_spans(ids, lengths, sentinel_ids, eos_id)


def prefix_lm(ids: list[int], rng: random.Random, eos_id: int) -> Pair:
    """Prefix LM (the 'LM adaptation' objective): a random prefix in, the rest of the text out."""
    ids = _text(ids, eos_id)
    if len(ids) < 2:
        return Pair([eos_id], ids + [eos_id])
    cut = rng.randint(1, len(ids) - 1)
    return Pair(ids[:cut] + [eos_id], ids[cut:] + [eos_id])


def lm(ids: list[int], rng: random.Random, eos_id: int) -> Pair:
    """LM: an empty encoder input (just EOS); the decoder writes the whole text."""
    return Pair([eos_id], _text(ids, eos_id) + [eos_id])


def missing_prefix(ids: list[int], rng: random.Random, eos_id: int) -> Pair:
    """Missing prefix prediction: the text after a random cut in, the prefix it lacks out.

    The mirror of prefix LM, with the same cuts: both sides keep at least one token when the text
    has two; a one-token text is all target.
    """
    ids = _text(ids, eos_id)
    if len(ids) < 2:
        return Pair([eos_id], ids + [eos_id])
    cut = rng.randint(1, len(ids) - 1)
    return Pair(ids[cut:] + [eos_id], ids[:cut] + [eos_id])


# n for the two n-token tasks. paper.md leaves it open (an xgen decision, a config value): 8
# tokens is about a short clause, learnable by the tiny CPU model yet well under a document's length
# (demo documents have 100+ tokens), so the input keeps most of the text in both tasks.
N_PREFIX_TOKENS = 8


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def n_token_prefix(ids: list[int], rng: random.Random, eos_id: int, n: int = N_PREFIX_TOKENS) -> Pair:
    """N-token prefix prediction: the whole text in, its first `n` tokens out.

    A text of at most `n` tokens is copied whole: the target is the text.
    """
    _check_n(n)
    ids = _text(ids, eos_id)
    return Pair(ids + [eos_id], ids[:n] + [eos_id])


def missing_n_token_prefix(ids: list[int], rng: random.Random, eos_id: int, n: int = N_PREFIX_TOKENS) -> Pair:
    """Missing n-token prefix prediction: the text without its first `n` tokens in, those tokens out.

    A text of at most `n` tokens keeps its last token as the input, so the encoder always reads
    something of the text (the target is then all but that token); a one-token text is all target.
    """
    _check_n(n)
    ids = _text(ids, eos_id)
    cut = min(n, len(ids) - 1) if len(ids) >= 2 else len(ids)
    return Pair(ids[cut:] + [eos_id], ids[:cut] + [eos_id])


def sentinel_ids(tokenizer, count: int = 100) -> list[int]:
    """The ids of <extra_id_0>, <extra_id_1>, ... in the tokenizer (mT5 has 100)."""
    ids = tokenizer.convert_tokens_to_ids([f"<extra_id_{i}>" for i in range(count)])
    if tokenizer.unk_token_id in ids:
        raise ValueError("tokenizer lacks T5 sentinel tokens <extra_id_N>")
    return ids


# The seven unsupervised tasks of FACTORIZED PROMPTS, in paper.md's order; a task's tunable
# parameters are its keyword parameters past the ones filled in below.
UNSUPERVISED_TASKS: dict[str, Callable[..., Pair]] = {
    "prefix_lm": prefix_lm,
    "span_corruption": span_corruption,
    "iid_denoising": iid_denoising,
    "lm": lm,
    "missing_prefix": missing_prefix,
    "n_token_prefix": n_token_prefix,
    "missing_n_token_prefix": missing_n_token_prefix,
}
_FILLED_IN = ("ids", "rng", "sentinel_ids", "eos_id")


def make_unsupervised_task(name: str, tokenizer, *, max_input_tokens: int, max_target_tokens: int,
                           **params) -> Callable[[list[int], random.Random], Pair]:
    """The task `name` as fn(ids, rng) -> Pair, with `params` bound and both sides clipped.

    The text is first cut to what the input can hold (max_input_tokens - 1 tokens; for `lm`, whose
    input holds none of it, to what the target can hold), so no input loses its end: for the
    sentinel tasks a clipped input would keep spans in the target that no sentinel points at. Then
    the target is clipped, EOS last. Raises ValueError for an unknown task, an unknown parameter or
    a bad value, when building rather than mid-training.
    """
    if name not in UNSUPERVISED_TASKS:
        raise ValueError(f"unknown unsupervised task {name!r}; choose from {', '.join(UNSUPERVISED_TASKS)}")
    if max_input_tokens < 1 or max_target_tokens < 1:
        raise ValueError(f"max_input_tokens and max_target_tokens must be >= 1 (room for EOS), "
                         f"got {max_input_tokens}, {max_target_tokens}")
    fn = UNSUPERVISED_TASKS[name]
    accepted = inspect.signature(fn).parameters
    tunable = [p for p in accepted if p not in _FILLED_IN]
    unknown = sorted(set(params) - set(tunable))
    if unknown:
        raise ValueError(f"task {name!r} has no parameter {', '.join(unknown)}; "
                         f"its parameters: {', '.join(tunable) or 'none'}")
    eos = tokenizer.eos_token_id
    bound = {"eos_id": eos, **params}
    if "sentinel_ids" in accepted:
        bound["sentinel_ids"] = sentinel_ids(tokenizer)
    text_len = (max_target_tokens if name == "lm" else max_input_tokens) - 1

    def task(ids: list[int], rng: random.Random) -> Pair:
        pair = fn(_text(ids, eos)[:text_len], rng, **bound)
        return Pair(_clip(pair.input_ids, max_input_tokens, eos), _clip(pair.labels, max_target_tokens, eos))

    fn([eos + 1, eos + 2], random.Random(0), **bound)  # a bad parameter value fails here, not mid-training
    return task
