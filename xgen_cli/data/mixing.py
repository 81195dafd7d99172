"""The remedies' data (paper.md, Remedies): which languages' unlabeled text, tokenized, and the
training mixture of MIX-UNSUP / MIX-UNSUP-ALL."""

from __future__ import annotations

from xgen_cli.data.mixture import Generated, Labelled, Mixture
from xgen_cli.data.tasks import Pair, make_unsupervised_task
from xgen_cli.errors import XgenError


def remedy_langs(spec: str | list[str], *, eval_langs: list[str], train_lang: str, corpus, key: str) -> list[str]:
    """`targets`: the evaluation languages other than the training one; `all`: every language of the
    corpus; or an explicit list. `key` names the config key in error messages."""
    if spec == "targets":
        langs = [lang for lang in eval_langs if lang != train_lang]
        if not langs:
            raise XgenError(f"{key}=targets, but data.eval_langs={list(eval_langs)} has no target language besides "
                            f"{train_lang}: add some (data.eval_langs=[en,ru,th]) or list them ({key}=[ru,th])")
        return langs
    if spec == "all":
        if not hasattr(corpus, "languages"):
            raise XgenError(f"{key}=all: this corpus cannot list its languages; list them ({key}=[ru,th,...])")
        return list(corpus.languages())
    if isinstance(spec, str):
        raise XgenError(f"{key}={spec} is not targets, all or a list of languages")
    return list(spec)


def read_mixing_texts(mixing: dict, unlabeled, *, corpus, eval_langs: list[str], train_lang: str) -> dict[str, list[str]]:
    """{lang: unlabeled texts} that mixing draws from; {} without mixing."""
    if mixing["rate"] <= 0:
        return {}
    langs = remedy_langs(mixing["langs"], eval_langs=eval_langs, train_lang=train_lang, corpus=corpus,
                         key="mixing.langs")
    return {lang: unlabeled.unlabeled(lang) for lang in langs}


def tokenize_docs(tokenizer, texts: list[str], max_tokens: int) -> list[list[int]]:
    """Unlabeled documents as token ids (no EOS), clipped to `max_tokens`; one-token texts dropped."""
    ids = tokenizer(texts, add_special_tokens=False).input_ids if texts else []
    return [doc[:max_tokens] for doc in ids if len(doc) > 1]


WEIGHTINGS = ("proportional", "uniform")


def summarization_sources(train_pairs: dict[str, list[Pair]], share: float, weighting: str) -> list[Labelled]:
    """Summarization in each training language, sharing `share` of the draws. One language (the
    paper's English, or SUP's own) takes all of it; SUP-ALL's languages share it in proportion to
    their splits' sizes (`proportional`: sampling the union of the splits) or equally (`uniform`)."""
    if weighting not in WEIGHTINGS:
        raise XgenError(f"train_lang_weights={weighting} is not one of {', '.join(WEIGHTINGS)}")
    sizes = {lang: (len(pairs) if weighting == "proportional" else 1) for lang, pairs in train_pairs.items()}
    total = sum(sizes.values())
    return [Labelled("summarize", share * sizes[lang] / total, pairs, lang) for lang, pairs in train_pairs.items()]


def training_mixture(train_pairs: dict[str, list[Pair]], mixing: dict, docs: dict[str, list[list[int]]], tokenizer, *,
                     max_input_tokens: int, max_target_tokens: int, total: int, seed: int,
                     weighting: str = "proportional") -> Mixture:
    """Summarization ({lang: pairs}, see `summarization_sources`) at weight 1 - kappa; the unsupervised
    task at kappa, shared equally by the languages in `docs` (so a language with more text does not
    drown the others)."""
    rate = mixing["rate"]
    sources = summarization_sources(train_pairs, 1.0 - rate, weighting)
    if rate > 0:
        empty = [lang for lang, d in docs.items() if not d]
        if empty:
            raise XgenError(f"mixing={mixing['name']}: no unlabeled text for {', '.join(empty)}: add "
                            "<lang>/unlabeled.jsonl to the corpus or choose another unlabeled= source")
        task = make_unsupervised_task(mixing["task"], tokenizer, max_input_tokens=max_input_tokens,
                                      max_target_tokens=max_target_tokens, **mixing.get("task_params", {}))
        sources += [Generated(mixing["task"], rate / len(docs), lang_docs, task, lang) for lang, lang_docs in docs.items()]
    return Mixture(sources, total, seed)
