"""Summarization corpora read as their publishers ship them on the Hugging Face hub.

`data=wikilingua0`: GEM's WikiLingua, one config per language (`en`, `fr`, ...: same language in and
out), read from the hub's parquet export of `GEM/wiki_lingua` (a loading script, which datasets 5 does
not run): `<lang>/<split>/NNNN.parquet` with flat `source` / `target`. `data=xlsum`: XL-Sum, one
`data/<language name>_XLSum_v2.0.tar.bz2` archive per language holding `<name>_{train,val,test}.jsonl`.
The layout facts and where they come from are in the README ("Hub layouts") and the fixtures built from
them (tests/fixtures/hub/publishers.py). Rows get the JSONL form's checks (types, empty fields,
repeated ids); a configured field that is not a column stops the read in one line naming the columns.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from xgen_cli.data.corpus import JsonlCorpus, _checked, _Corpus, _json_lines, _unique_ids
from xgen_cli.data.example import WIKILINGUA_LANGS, BadRow, Example, example_from_row
from xgen_cli.data.hub import columns_problem, export_patterns, is_local, listing, load_hub
from xgen_cli.errors import XgenError

# GEM/wiki_lingua's splits (its loading script; sampled_*: GEM's fixed samples of validation and test).
WIKILINGUA_SPLITS = ("train", "validation", "test", "sampled_validation", "sampled_test")
# The older GEM/gem release named its per-language configs wiki_lingua_<name>_<code>: `{name}` in data_files.
WIKILINGUA_NAMES = {"ar": "arabic", "cs": "czech", "de": "german", "en": "english", "es": "spanish", "fr": "french",
                    "hi": "hindi", "id": "indonesian", "it": "italian", "ja": "japanese", "ko": "korean", "nl": "dutch",
                    "pt": "portuguese", "ru": "russian", "th": "thai", "tr": "turkish", "vi": "vietnamese", "zh": "chinese"}


def _field(row: dict, field: str, lang: str, setting: str):
    """A row's value of `field`; a dict value (the older GEM release's source_aligned) gives its `lang` entry."""
    value = row.get(field)
    if isinstance(value, dict):
        if value.get(lang) is None:
            raise BadRow(f"has no {field}[{lang}] (it has: {', '.join(k for k, v in value.items() if v is not None)})",
                         f"check {setting}, or drop the row")
        value = value[lang]
    return value


class HubWikiLingua(_Corpus):
    """WikiLingua-0 from the parquet export of GEM's wiki_lingua (or any folder laid out the same way).

    The default reads `GEM/wiki_lingua`, whose per-language config `fr` holds French articles with French
    summaries in `source` / `target` (its `fr_en`-style configs are the cross-lingual task, not this one).
    Rows whose `source_language` / `target_language` are not `lang` are refused, so a cross-lingual
    folder cannot pass for a same-language one. The example id is `gem_id`, so ratings keyed by it join.
    """

    def __init__(self, path: str, revision: str | None, data_files: str, article_field: str, summary_field: str,
                 id_field: str, on_bad_line: str = "error", splits: Iterable[str] = WIKILINGUA_SPLITS):
        super().__init__(on_bad_line)
        self.path, self.revision, self.data_files = path, revision, data_files
        self.article_field, self.summary_field, self.id_field = article_field, summary_field, id_field
        self._splits = tuple(splits)

    def languages(self) -> list[str]:
        """The 18 languages of WikiLingua-0 (paper.md): `mixing=unsup_all` mixes all of them."""
        return list(WIKILINGUA_LANGS)

    def splits(self) -> list[str]:
        return list(self._splits)

    def source(self) -> dict:
        return {"hub_path": self.path, "revision": self.revision, "data_files": self.data_files}

    def location(self, lang: str, split: str) -> str:
        return f"{self.path} {lang}/{split}"

    def _files(self, lang: str, split: str) -> str:
        return self.data_files.format(lang=lang, split=split, name=WIKILINGUA_NAMES.get(lang, lang))

    def _check_request(self, lang: str, split: str) -> None:
        if lang not in WIKILINGUA_LANGS:
            raise XgenError(f"WikiLingua-0 has no language {lang!r} (its 18: {', '.join(WIKILINGUA_LANGS)}): "
                            "use one of them in data.eval_langs / train_lang")
        if split not in self._splits:
            raise XgenError(f"{self.path} publishes no split {split!r} (its splits: {', '.join(self._splits)}): "
                            "use one of them")
        if not is_local(self.path):
            return  # the hub is listed only when a load fails (load_hub says what it found)
        files = self._files(lang, split)
        config = files.split("/")[0]
        configs = listing(self.path, self.revision, "")
        if configs is not None and config + "/" not in configs:
            raise XgenError(f"{self.path} has no {lang} folder {config}/ (it holds: {', '.join(configs) or 'nothing'}): "
                            "point data.corpus.hub_path at the export's top folder, or check data.corpus.data_files")

    def _load(self, lang: str, split: str):
        self._check_request(lang, split)
        files = self._files(lang, split)
        # One pattern per (lang, split) makes a single split, which datasets names "train".
        rows = load_hub(self.path, export_patterns(files), "train", self.revision, False,
                        f"WikiLingua {lang}/{split}", "data.corpus")
        problem = columns_problem(rows.column_names, {"article_field": self.article_field,
                                                      "summary_field": self.summary_field, "id_field": self.id_field},
                                  f"{self.path} {files}", "data.corpus")
        if problem:
            raise XgenError(problem)
        return rows

    def _row(self, row: dict, lang: str) -> dict:
        for key in ("source_language", "target_language"):
            if row.get(key) not in (None, lang):
                raise BadRow(f"has {key}={row[key]!r}, not {lang!r} (a cross-lingual config?)",
                             "read the same-language config <lang>/ of the export, e.g. fr/, not fr_en/")
        return {"id": row.get(self.id_field),
                "article": _field(row, self.article_field, lang, "data.corpus.article_field"),
                "summary": _field(row, self.summary_field, lang, "data.corpus.summary_field")}

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        rows = self._load(lang, split)
        where = self.location(lang, split)

        def locate(number: int) -> str:
            return f"{where} row {number}"

        def check(row: dict) -> Example:
            return example_from_row(self._row(row, lang), lang)

        # Rows are read lazily up to `limit` good ones, so skipped rows do not shrink the set.
        items = ((n, _checked(check, row)) for n, row in enumerate(rows, 1))
        return self._keep_good(where, _unique_ids(items, locate), limit, locate)

    def unlabeled(self, lang: str, limit: int | None = None) -> list[str]:
        return [e.article for e in self.examples(lang, "train", limit)]


class HubXLSum(_Corpus):
    """XL-Sum from its publisher's archives (csebuetnlp/xlsum, or a local folder laid out the same way).

    Each language is one `data/<name>_XLSum_v2.0.tar.bz2` (names like `english`, `chinese_simplified`:
    `languages` maps xgen's codes to them); inside, `<name>_train.jsonl`, `<name>_val.jsonl` and
    `<name>_test.jsonl` of {"id", "url", "title", "summary", "text"}. An archive is unpacked once into
    the cache (bz2 cannot be read at an offset, and a run reads train and validation separately).
    """

    def __init__(self, path: str, revision: str | None, archive: str, member: str, languages: dict[str, str],
                 split_files: dict[str, str], article_field: str, summary_field: str, id_field: str, cache_dir: str,
                 on_bad_line: str = "error"):
        super().__init__(on_bad_line)
        self.path, self.revision, self.archive, self.member = path, revision, archive, member
        self.names, self.split_files = dict(languages), dict(split_files)
        self.article_field, self.summary_field, self.id_field = article_field, summary_field, id_field
        self.cache_dir = Path(cache_dir).expanduser()

    def languages(self) -> list[str]:
        return list(self.names)

    def splits(self) -> list[str]:
        return list(self.split_files)

    def source(self) -> dict:
        return {"hub_path": self.path, "revision": self.revision, "data_files": f"{self.archive}:{self.member}"}

    def location(self, lang: str, split: str) -> str:
        name = self.names.get(lang, lang)
        return f"{self.path} {self.archive.format(name=name)}:{self.member.format(name=name, split=self.split_files.get(split, split))}"

    def _name(self, lang: str) -> str:
        if lang not in self.names:
            raise XgenError(f"XL-Sum has no language {lang!r} in data.corpus.languages (it has: {', '.join(self.names)}): "
                            "use one of those codes, or add <code>: <XL-Sum name> to data.corpus.languages")
        return self.names[lang]

    def _archive(self, name: str) -> Path:
        """The archive on this machine: in the local folder, or downloaded from the hub (and cached)."""
        filename = self.archive.format(name=name)
        if is_local(self.path):
            local = Path(self.path).expanduser() / filename
            if not local.is_file():
                near = listing(self.path, None, str(Path(filename).parent))
                raise XgenError(f"{local} is missing ({Path(filename).parent}/ holds: {', '.join(near or []) or 'nothing'}): "
                                "point data.corpus.hub_path at the folder holding data/<name>_XLSum_v2.0.tar.bz2")
            return local
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

        try:
            return Path(hf_hub_download(self.path, filename, repo_type="dataset", revision=self.revision))
        except LocalEntryNotFoundError:  # before EntryNotFoundError, its base: no connection and not cached
            raise XgenError(f"cannot download {filename} from {self.path!r}: the hub is not reachable and the local "
                            "cache does not hold it; run `xgen data fetch data=xlsum` where there is internet, or point "
                            "data.corpus.hub_path at a copy") from None
        except EntryNotFoundError:
            raise XgenError(f"{self.path!r} has no file {filename} at revision {self.revision!r}: check "
                            "data.corpus.archive and data.corpus.languages") from None
        except Exception as exc:  # noqa: BLE001 - offline, unknown repo, gated: one line either way
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise XgenError(f"cannot download {filename} from {self.path!r}: {first}; on a node without internet, "
                            "run `xgen data fetch data=xlsum` where there is, or point data.corpus.hub_path at a copy") from None

    def _unpacked(self, name: str) -> Path:
        archive = self._archive(name)
        stat = archive.stat()
        key = hashlib.sha1(f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
        folder = self.cache_dir / "xlsum" / f"{name}-{key}"
        if not (folder / ".complete").is_file():
            partial = folder.with_name(folder.name + f".partial-{os.getpid()}")
            try:
                with tarfile.open(archive, "r:*") as tar:
                    tar.extractall(partial, filter="data")
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise XgenError(f"cannot unpack {archive} ({exc}): delete it so it is downloaded again") from None
            (partial / ".complete").write_text(str(archive))
            if folder.exists():  # another process finished first
                import shutil

                shutil.rmtree(partial, ignore_errors=True)
            else:
                partial.rename(folder)
        return folder

    def _file(self, lang: str, split: str) -> Path:
        name = self._name(lang)
        if split not in self.split_files:
            raise XgenError(f"XL-Sum publishes no split {split!r} (its splits: {', '.join(self.split_files)}): use one of them")
        folder = self._unpacked(name)
        member = self.member.format(name=name, split=self.split_files[split])
        path = folder / member
        if not path.is_file():
            found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != ".complete")
            raise XgenError(f"{self.archive.format(name=name)} holds no {member} (it holds: {', '.join(found) or 'nothing'}): "
                            "check data.corpus.member and data.corpus.split_files")
        return path

    def _row(self, row: object, lang: str, first: bool, where: str) -> dict:
        if not isinstance(row, dict):
            return row  # example_from_row names the problem
        if first:
            wanted = {"article_field": self.article_field, "summary_field": self.summary_field, "id_field": self.id_field}
            problem = columns_problem(list(row), wanted, where, "data.corpus")
            if problem:
                raise XgenError(problem)
        return {"id": row.get(self.id_field), "article": row.get(self.article_field), "summary": row.get(self.summary_field)}

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        path = self._file(lang, split)
        where = self.location(lang, split)

        def locate(number: int) -> str:
            return f"{where} line {number}"

        def items(lines: Iterator[tuple[int, object]]):
            first = True
            for number, row in lines:
                if isinstance(row, BadRow):
                    yield number, row
                    continue
                fields = self._row(row, lang, first, where)
                first = False
                yield number, _checked(example_from_row, fields, lang)

        with path.open("rb") as f:
            return self._keep_good(where, _unique_ids(items(_json_lines(f)), locate), limit, locate)

    def unlabeled(self, lang: str, limit: int | None = None) -> list[str]:
        return [e.article for e in self.examples(lang, "train", limit)]


def wikilingua0(local_dir: str | None, hub_path: str, revision: str | None, data_files: str, article_field: str,
                summary_field: str, id_field: str, on_bad_line: str = "error"):
    """`data=wikilingua0`: a local copy in the directory form if `local_dir` is set, else the hub."""
    if local_dir:
        return JsonlCorpus(Path(local_dir).expanduser(), on_bad_line, setting="data.corpus.local_dir")
    return HubWikiLingua(hub_path, revision, data_files, article_field, summary_field, id_field, on_bad_line)


def xlsum(local_dir: str | None, hub_path: str, revision: str | None, archive: str, member: str, languages: dict,
          split_files: dict, article_field: str, summary_field: str, id_field: str, cache_dir: str,
          on_bad_line: str = "error"):
    """`data=xlsum`: a local copy in the directory form if `local_dir` is set, else the publisher's archives."""
    if local_dir:
        return JsonlCorpus(Path(local_dir).expanduser(), on_bad_line, setting="data.corpus.local_dir")
    return HubXLSum(hub_path, revision, archive, member, dict(languages), dict(split_files), article_field,
                    summary_field, id_field, cache_dir, on_bad_line)
