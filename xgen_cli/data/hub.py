"""Text from the Hugging Face hub: unlabeled text (mC4) and headline pairs (gigaword) for the remedies,
and the loader WikiLingua-0 (`data=wikilingua0`, data/corpus.py) shares.

`datasets` 5 runs no loading scripts, and mC4, gigaword and GEM's WikiLingua were published with
scripts, so all load data files the library reads by itself: mC4 from `allenai/c4`'s `multilingual/`
JSON files, gigaword and WikiLingua from the hub's parquet export (`revision: refs/convert/parquet`). Paths, file patterns, revisions
and fields are config values, so a local folder laid out the same way works the same (the tests
use one) and a mirror or another export is a change of config, not of code.
"""

from __future__ import annotations

from itertools import islice

from xgen_cli.data.example import Example
from xgen_cli.errors import XgenError


def load_hub(path: str, data_files: str | None, split: str, revision: str | None, streaming: bool, what: str,
             setting: str):
    """`datasets.load_dataset` on data files (no loading script), or one XgenError naming the config keys
    under `setting` (e.g. data.corpus) that fix it."""
    import datasets

    try:
        return datasets.load_dataset(path, data_files=data_files, split=split, revision=revision, streaming=streaming)
    except (FileNotFoundError, ValueError, ConnectionError, OSError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "scripts are no longer supported" in first:  # datasets 5 refuses a dataset published as a script
            raise XgenError(f"{path!r} is a loading script, which datasets 5 does not run: read its data files instead, "
                            f"the hub's parquet export ({setting}.revision=refs/convert/parquet with {setting}.data_files="
                            f"<config>/<split>/*.parquet) or the release's files ({setting}.data_files=...)") from None
        raise XgenError(f"cannot load {what} from {path!r} (data_files={data_files!r}, revision={revision!r}): {first}; "
                        f"check the path, {setting}.data_files and {setting}.revision (a dataset published as a "
                        "loading script needs its parquet export: revision=refs/convert/parquet) or use a local folder") from None


class CorpusText:
    """`unlabeled=corpus`: the corpus's own unlabeled text (its unlabeled.jsonl, else its training articles)."""

    def __init__(self, corpus, limit: int | None = None):
        self.corpus, self.limit = corpus, limit

    def unlabeled(self, lang: str) -> list[str]:
        return self.corpus.unlabeled(lang, self.limit)


class HubText:
    """`unlabeled=mc4`: the first `limit` texts of a language's files of a hub (or local) dataset."""

    def __init__(self, path: str, data_files: str, text_field: str, split: str = "train", revision: str | None = None,
                 limit: int | None = 10000, streaming: bool = True):
        self.path, self.data_files, self.text_field = path, data_files, text_field
        self.split, self.revision, self.limit, self.streaming = split, revision, limit, streaming

    def unlabeled(self, lang: str) -> list[str]:
        rows = load_hub(self.path, self.data_files.format(lang=lang), self.split, self.revision, self.streaming,
                        f"unlabeled {lang} text", "unlabeled")
        texts = [row[self.text_field] for row in islice(rows, self.limit)]
        if not texts:
            raise XgenError(f"no {lang} text in {self.path!r} files {self.data_files.format(lang=lang)!r}: "
                            "check unlabeled.data_files")
        return texts


def corpus_text(corpus, limit: int | None = None) -> CorpusText:
    return CorpusText(corpus, limit)


def hub_text(corpus, **kwargs) -> HubText:
    """The run's corpus is not needed: the text comes from the hub dataset."""
    return HubText(**kwargs)


class HubPairs:
    """(article, summary) pairs of one language from a hub dataset, e.g. gigaword's (document, summary)."""

    def __init__(self, path: str, data_files: str, article_field: str, summary_field: str, lang: str = "en",
                 revision: str | None = None):
        self.path, self.data_files, self.revision = path, data_files, revision
        self.article_field, self.summary_field, self.lang = article_field, summary_field, lang

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        if lang != self.lang:
            raise XgenError(f"{self.path!r} holds {self.lang} pairs only, not {lang}")
        rows = load_hub(self.path, self.data_files.format(split=split), "train", self.revision, False,
                        f"{split} pairs", "intermediate.corpus")
        rows = rows.select(range(min(limit, len(rows)))) if limit is not None else rows
        return [Example(id=f"{split}-{i}", lang=lang, article=row[self.article_field], summary=row[self.summary_field])
                for i, row in enumerate(rows)]


class DemoHeadlines:
    """The demo's English (paragraph -> heading) pairs, generated on the fly (no hub access needed)."""

    def __init__(self, seed: int = 0, n_train: int = 2000):
        self.seed, self.n_train = seed, n_train

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        from xgen_cli.data.demo import generate_headlines

        if lang != "en":
            raise XgenError(f"the demo headlines are English only, not {lang}")
        return generate_headlines(split, limit if limit is not None else self.n_train, self.seed)


def headlines(local_dir: str | None = None, demo: bool = False, **hub):
    """IT-GIGAWORD's pairs: the demo's stand-in if `demo`, a local folder in the corpus form if
    `local_dir` is set, else the hub."""
    if demo:
        return DemoHeadlines()
    if local_dir:
        from xgen_cli.data.corpus import jsonl

        return jsonl(local_dir)
    return HubPairs(**hub)
