"""Text from the Hugging Face hub: unlabeled text (mC4) and headline pairs (gigaword) for the remedies,
and the loader the hub corpora (`data=wikilingua0`, `data=xlsum`: data/hub_corpora.py) share.

`datasets` 5 runs no loading scripts, and mC4, gigaword and GEM's WikiLingua were published with
scripts, so all load data files the library reads by itself: mC4 from `allenai/c4`'s `multilingual/`
JSON files, gigaword and WikiLingua from the hub's parquet export (`revision: refs/convert/parquet`).
Paths, file patterns, revisions and fields are config values, so a local folder laid out the same way
works the same (the tests use one) and a mirror or another export is a change of config, not of code.
What each publisher ships, with sources: README "Hub layouts"; the fixtures: tests/fixtures/hub/.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from xgen_cli.data.example import Example
from xgen_cli.errors import XgenError

# What a node without internet runs instead, by the config section whose hub data is missing (README,
# "Nodes without internet"): `xgen data fetch` on a machine with internet, then the local folder.
OFFLINE_FIX = {
    "data.corpus": "on a machine with internet run xgen data fetch with the same data= settings, then read its "
                   "folder here with data=jsonl data.corpus.path=<folder>",
    "unlabeled": "on a machine with internet run xgen data fetch unlabeled=mc4 fetch.unlabeled_langs=[<langs>], "
                 "then read it here with data=jsonl data.corpus.path=<folder> unlabeled=corpus",
    "intermediate.corpus": "on a machine with internet run xgen data fetch intermediate=gigaword, then read it here "
                           "with intermediate.corpus.local_dir=<folder>/_gigaword",
}


def offline() -> bool:
    """HF_HUB_OFFLINE or HF_DATASETS_OFFLINE set, as huggingface_hub and datasets read them."""
    import datasets.config
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE or datasets.config.HF_DATASETS_OFFLINE)


def load_hub(path: str, data_files: str | list[str] | None, split: str, revision: str | None, streaming: bool,
             what: str, setting: str):
    """`datasets.load_dataset` on data files (no loading script), or one XgenError naming the config keys
    under `setting` (e.g. data.corpus) that fix it, and what the folder holds when it can be listed."""
    import datasets

    try:
        return datasets.load_dataset(path, data_files=data_files, split=split, revision=revision, streaming=streaming)
    except (FileNotFoundError, ValueError, ConnectionError, OSError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "scripts are no longer supported" in first:  # datasets 5 refuses a dataset published as a script
            raise XgenError(f"{path!r} is a loading script, which datasets 5 does not run: read its data files instead, "
                            f"the hub's parquet export ({setting}.revision=refs/convert/parquet with {setting}.data_files="
                            f"<config>/<split>/*.parquet) or the release's files ({setting}.data_files=...)") from None
        if not is_local(path) and offline():
            raise XgenError(f"{what} of {path!r} is not in the local datasets cache and the hub is off "
                            f"(HF_HUB_OFFLINE / HF_DATASETS_OFFLINE): {OFFLINE_FIX.get(setting, OFFLINE_FIX['data.corpus'])}") from None
        pattern = data_files[0] if isinstance(data_files, list) else data_files
        seen = _seen_near(path, revision, pattern)
        raise XgenError(f"cannot load {what} from {path!r} (data_files={data_files!r}, revision={revision!r}): {first}"
                        f"{seen}; check the path, {setting}.data_files and {setting}.revision (a dataset published as a "
                        "loading script needs its parquet export: revision=refs/convert/parquet) or use a local folder") from None


def export_patterns(pattern: str) -> list[str]:
    """The parquet export's files for one split: `<config>/<split>/NNNN.parquet`, or, where the converter
    stopped at its size cap (about 5 GB), `<config>/partial-<split>/NNNN.parquet` (README "Hub layouts").
    A glob that matches nothing is skipped by datasets, so both can be asked for."""
    parts = pattern.split("/")
    if len(parts) < 3:
        return [pattern]
    return [pattern, "/".join([*parts[:-2], "partial-" + parts[-2], parts[-1]])]


def is_local(path: str) -> bool:
    """A folder on this machine (tests, mirrors) rather than a hub id `owner/name`."""
    return path.startswith(("/", ".", "~")) or Path(path).expanduser().exists()


def listing(path: str, revision: str | None, folder: str) -> list[str] | None:
    """The entries of `folder` in a local copy or on the hub (folders end in /), or None when it cannot be listed."""
    if is_local(path):
        where = Path(path).expanduser() / folder
        if not where.is_dir():
            return None
        return sorted(p.name + ("/" if p.is_dir() else "") for p in where.iterdir() if not p.name.startswith("."))
    try:  # only on the error path: a listing costs a round trip to the hub
        from urllib.parse import quote

        from huggingface_hub import HfFileSystem

        root = f"datasets/{path}" + (f"@{quote(revision, safe='')}" if revision else "")
        entries = HfFileSystem().ls(f"{root}/{folder}".rstrip("/"), detail=True)
        return sorted(e["name"].rsplit("/", 1)[-1] + ("/" if e["type"] == "directory" else "") for e in entries)
    except Exception:  # noqa: BLE001 - offline, unknown repo or revision: the caller says less
        return None


def _shown(names: list[str], limit: int = 12) -> str:
    return ", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "") or "nothing"


def _seen_near(path: str, revision: str | None, pattern: str | None) -> str:
    """' (<folder> holds: ...)' for the deepest existing folder on the way to `pattern`, or ''."""
    if not pattern:
        return ""
    parts = pattern.split("/")[:-1]
    while True:
        folder = "/".join(parts)
        names = listing(path, revision, folder)
        if names is not None:
            return f" ({(folder + '/') if folder else 'its top level'} holds: {_shown(names)})"
        if not parts:
            return ""
        parts.pop()


def columns_problem(columns: list[str] | None, wanted: dict[str, str], where: str, setting: str) -> str | None:
    """One line when a configured field is not a column of what was read, naming the columns found."""
    if columns is None:
        return None
    missing = [(key, field) for key, field in wanted.items() if field not in columns]
    if not missing:
        return None
    keys = ", ".join(f"{setting}.{key}={field!r}" for key, field in missing)
    return (f"{where} has no column{'s' if len(missing) > 1 else ''} {', '.join(repr(f) for _, f in missing)} "
            f"(its columns: {', '.join(columns) or 'none'}): {keys} does not match what the publisher ships; "
            f"set {' and '.join(f'{setting}.{k}' for k, _ in missing)} to one of its columns")


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

    def source(self) -> dict:
        return {"hub_path": self.path, "revision": self.revision, "data_files": self.data_files}

    def unlabeled(self, lang: str) -> list[str]:
        files = self.data_files.format(lang=lang)
        rows = load_hub(self.path, files, self.split, self.revision, self.streaming, f"unlabeled {lang} text", "unlabeled")
        texts = []
        for row in islice(rows, self.limit):
            if not texts:  # streamed JSON has no schema before its first row
                problem = columns_problem(list(row), {"text_field": self.text_field}, f"{self.path!r} files {files!r}",
                                          "unlabeled")
                if problem:
                    raise XgenError(problem)
            texts.append(row[self.text_field])
        if not texts:
            raise XgenError(f"no {lang} text in {self.path!r} files {files!r}: check unlabeled.data_files")
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

    def source(self) -> dict:
        return {"hub_path": self.path, "revision": self.revision, "data_files": self.data_files}

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        if lang != self.lang:
            raise XgenError(f"{self.path!r} holds {self.lang} pairs only, not {lang}")
        files = self.data_files.format(split=split)
        rows = load_hub(self.path, export_patterns(files), "train", self.revision, False, f"{split} pairs",
                        "intermediate.corpus")
        problem = columns_problem(rows.column_names, {"article_field": self.article_field, "summary_field": self.summary_field},
                                  f"{self.path!r} {files}", "intermediate.corpus")
        if problem:
            raise XgenError(problem)
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
