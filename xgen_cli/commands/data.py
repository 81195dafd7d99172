"""Build, check and fetch corpora: `xgen data demo` writes the demo corpus; `xgen data fetch` saves a hub corpus.

`xgen data` (data=demo by default) materialises the configured corpus; `data=jsonl
data.corpus.path=<dir>` checks a user's corpus (every line of every file, the evaluation languages
and sizes a training run would ask for) and prints the same counts. Problems are all reported in
one line before anything is printed.

`xgen data fetch data=<hub choice>` (on a machine with internet, e.g. a cluster's login node) writes
the splits and languages a run needs as a local JSONL corpus with a manifest (xgen_cli/data/fetch.py)
and prints the overrides that read it on a node without internet.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import xgen_app
from xgen_cli.config_checks import check, data_problems, fetch_problems
from xgen_cli.errors import XgenError

POSITIONAL_GROUP = "data"  # `xgen data demo` == `xgen data data=demo`
ACTIONS = ("fetch",)  # `xgen data fetch` == `xgen data action=fetch`


@xgen_app("data")
def main(cfg: DictConfig) -> None:
    check(data_problems(cfg))
    if cfg.action == "fetch":
        fetch(cfg)
    elif cfg.action == "check":
        show_counts(cfg)
    else:
        raise XgenError(f"action={cfg.action} is not an action of xgen data: use xgen data (check and count) "
                        "or xgen data fetch")


def show_counts(cfg: DictConfig) -> None:
    import hydra

    from xgen_cli.data.corpus import SPLITS, JsonlCorpus, check_corpus
    from xgen_cli.data.fetch import MANIFEST, verify

    corpus = hydra.utils.instantiate(cfg.data.corpus)
    if not isinstance(corpus, JsonlCorpus):
        choice = _choice("data") or "<hub choice>"
        print(f"this corpus is read from the hub on demand; counts need a local copy: xgen data fetch data={choice}",
              file=sys.stderr)
        return
    if (corpus.root / MANIFEST).is_file():  # a folder `xgen data fetch` wrote: still the files it fetched?
        changed = verify(corpus.root)
        if changed:
            raise XgenError(f"{corpus.root} no longer holds what xgen data fetch wrote ({'; '.join(changed)}): fetch "
                            f"it again, or delete its {MANIFEST} if the files were edited on purpose")
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


def _choice(group: str) -> str | None:
    """The option of `group` the user picked (e.g. wikilingua0 for data=wikilingua0)."""
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get().runtime.choices.get(group) if HydraConfig.initialized() else None


def fetch(cfg: DictConfig) -> None:
    import hydra

    from xgen_cli.data.corpus import JsonlCorpus
    from xgen_cli.data.fetch import Part, check_target, fetch_corpus, hub_commit, plan

    check(fetch_problems(cfg))
    choice = _choice("data") or "corpus"
    spec = cfg.fetch
    folder = Path(spec.folder or Path("data") / choice).expanduser().absolute()
    check_target(folder)  # before any download
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    if isinstance(corpus, JsonlCorpus):
        raise XgenError(f"data={choice} is read from local files already ({corpus.root}): xgen data fetch is for "
                        "a hub corpus, e.g. data=wikilingua0 or data=xlsum")
    train_langs = list(corpus.languages()) if list(spec.train_langs) == ["all"] else list(spec.train_langs)
    parts = [Part("", corpus, plan(train_langs, list(spec.eval_langs), list(spec.eval_splits),
                                   list(spec.unlabeled_langs)))]
    unlabeled = hydra.utils.instantiate(cfg.unlabeled, corpus=corpus) if spec.unlabeled_langs else None
    source = corpus.source() if hasattr(corpus, "source") else {}
    source = {"data": choice, **source, "commit": hub_commit(source.get("hub_path"), source.get("revision"))}
    if spec.unlabeled_langs:
        source["unlabeled"] = OmegaConf.to_container(cfg.unlabeled, resolve=True)
    intermediate = OmegaConf.select(cfg, "intermediate.corpus")
    if intermediate is not None:  # IT-GIGAWORD's English headline pairs
        pairs = hydra.utils.instantiate(intermediate)
        if isinstance(pairs, JsonlCorpus):
            raise XgenError(f"intermediate.corpus.local_dir={pairs.root} is local already: drop intermediate= here")
        name = cfg.intermediate.name
        parts.append(Part(f"_{name}", pairs, {"en": ["train", "validation"]}))
        source["intermediate"] = OmegaConf.to_container(intermediate, resolve=True)
    manifest = fetch_corpus(parts, folder, unlabeled=unlabeled, limit=spec.limit, source=source)
    print(f"fetched {sum(r['examples'] for r in manifest['files'].values()):,} rows into {folder} "
          "(manifest.json: source, counts, SHA-256 of each file)")
    use = f"data=jsonl data.corpus.path={folder} data.eval_langs=[{','.join(spec.eval_langs)}]"
    if intermediate is not None:
        use += f" intermediate={name} intermediate.corpus.local_dir={folder / ('_' + name)}"
    print(f"use it where there is no internet: {use}")
