"""Build and inspect corpora: `xgen data demo` writes the demo corpus as JSONL and prints counts.

`xgen data` (data=demo by default) materialises the configured corpus; `data=jsonl
data.corpus.path=<dir>` checks a user's corpus (every line parsed) and prints the same counts.
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

    from xgen_cli.data.corpus import SPLITS, JsonlCorpus

    check(data_problems(cfg))
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    if not isinstance(corpus, JsonlCorpus):
        print("this corpus is read from the hub on demand; counts need a local copy (data.corpus.local_dir)", file=sys.stderr)
        return
    langs = corpus.languages()
    header = f"{'lang':<6}" + "".join(f"{s:>12}" for s in (*SPLITS, "unlabeled"))
    print(f"corpus: {corpus.root}\n{header}")
    for lang in langs:
        counts = []
        for split in SPLITS:
            counts.append(len(corpus.examples(lang, split)) if (corpus.root / lang / f"{split}.jsonl").is_file() else 0)
        counts.append(len(corpus.unlabeled(lang)))
        print(f"{lang:<6}" + "".join(f"{c:>12,}" for c in counts))
    if cfg.show:
        for lang in langs:
            example = corpus.examples(lang, "validation", 1)[0]
            print(f"\n[{lang}] {example.id}\narticle: {example.article}\nsummary:\n{example.summary}")
