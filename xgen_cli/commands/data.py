"""Build and check corpora: `xgen data demo` writes the demo corpus as JSONL and prints counts.

`xgen data` (data=demo by default) materialises the configured corpus; `data=jsonl
data.corpus.path=<dir>` checks a user's corpus (every line of every file, the evaluation languages
and sizes a training run would ask for) and prints the same counts. Problems are all reported in
one line before anything is printed.
"""

from __future__ import annotations

import sys

from omegaconf import DictConfig

from xgen_cli.commands._app import xgen_app
from xgen_cli.config_checks import check, data_problems

POSITIONAL_GROUP = "data"  # `xgen data demo` == `xgen data data=demo`


@xgen_app("data")
def main(cfg: DictConfig) -> None:
    import hydra

    from xgen_cli.data.corpus import SPLITS, JsonlCorpus, check_corpus

    check(data_problems(cfg))
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    if not isinstance(corpus, JsonlCorpus):
        print("this corpus is read from the hub on demand; counts need a local copy (data.corpus.local_dir)", file=sys.stderr)
        return
    counts, notes = check_corpus(corpus, list(cfg.data.eval_langs), cfg.data.eval_examples,
                                 allow_fewer=cfg.data.allow_fewer_eval_examples)
    columns = (*SPLITS, "unlabeled")
    print(f"corpus: {corpus.root}\n{'lang':<6}" + "".join(f"{c:>12}" for c in columns))
    for lang, row in counts.items():
        print(f"{lang:<6}" + "".join(f"{row[c]:>12,}" for c in columns))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if cfg.show:
        for lang, row in counts.items():
            if row["validation"]:
                example = corpus.examples(lang, "validation", 1)[0]
                print(f"\n[{lang}] {example.id}\narticle: {example.article}\nsummary:\n{example.summary}")
