"""What a training run learns summarization from (paper.md, Baselines), read by `train_lang` and
`translate`:

- `train_lang=en` (the default): English only, the zero-shot setting of the paper;
- `train_lang=ru`: SUP, the target language's own training split;
- `train_lang=all`: SUP-ALL, every language's training split, sampled in proportion to the splits'
  sizes or uniformly (`train_lang_weights`, data/mixing.py);
- `train_lang=ru translate=<demo|file|hf>`: TRANS-TRAIN, the English training split translated into ru.

A run is always evaluated on its training language too (added to data.eval_langs where missing):
SUP and TRANS-TRAIN are judged on their own language (tables keep that cell only); SUP-ALL on the
languages of data.eval_langs.
"""

from __future__ import annotations

from pathlib import Path

from xgen_cli.data.corpus import TaskData, load_task_data
from xgen_cli.errors import XgenError

ALL = "all"


def evaluation_languages(train_lang: str, eval_langs: list[str]) -> list[str]:
    return list(eval_langs) + ([train_lang] if train_lang != ALL and train_lang not in eval_langs else [])


def training_languages(corpus, train_lang: str) -> list[str]:
    """The languages whose training split the run reads; each must have one (a one-line error naming
    the language and the file otherwise)."""
    if train_lang == ALL:
        if not hasattr(corpus, "languages"):
            raise XgenError("train_lang=all: this corpus cannot list its languages; train on one (train_lang=ru)")
        langs = list(corpus.languages())
    else:
        langs = [train_lang]
    if hasattr(corpus, "root"):  # a local corpus: say which split file is missing before reading anything
        for lang in langs:
            path = Path(corpus.location(lang, "train"))
            if not path.is_file():
                raise XgenError(f"train_lang={train_lang} trains on {lang}'s training split, but {path} is missing: "
                                f"add it, or train on languages that have one")
    return langs


def training_data(corpus, train_lang: str, eval_langs: list[str], eval_examples: int, *, allow_fewer: bool,
                  translator=None, source_lang: str = "en") -> TaskData:
    """load_task_data for this run: `train` holds {language: examples} of what it trains on."""
    evaluated = evaluation_languages(train_lang, eval_langs)
    if translator is None:
        return load_task_data(corpus, training_languages(corpus, train_lang), evaluated, eval_examples,
                              allow_fewer=allow_fewer)
    if train_lang in (ALL, source_lang):
        raise XgenError(f"translate={translator.name} (TRANS-TRAIN) trains on the {source_lang} training data translated "
                        f"into train_lang, which is {train_lang}: set train_lang to one target language (train_lang=ru)")
    data = load_task_data(corpus, training_languages(corpus, source_lang), evaluated, eval_examples,
                          allow_fewer=allow_fewer)
    translated = translator.examples(data.train[source_lang], source_lang, train_lang, "train")
    return data._replace(train={train_lang: translated})
