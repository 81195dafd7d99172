"""Corpora: where Examples come from. Each `data=<name>` config points its `_target_` at a builder here.

Every corpus answers the same two questions: `examples(lang, split)` (labelled Examples, in a fixed
order) and `unlabeled(lang)` (plain text, for pretraining and, later, mixing). The local-directory
form `<dir>/<lang>/{train,validation,test}.jsonl` (+ `unlabeled.jsonl`) is shared by `data=jsonl`,
the demo corpus (written there once, then read like any user corpus) and a local WikiLingua-0 copy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from xgen_cli.data.example import Example
from xgen_cli.errors import XgenError

SPLITS = ("train", "validation", "test")


class JsonlCorpus:
    """A directory `<root>/<lang>/<split>.jsonl` of {"id", "lang", "article", "summary"} lines."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise XgenError(f"corpus directory {self.root} does not exist: set data.path to a folder laid out as <lang>/<split>.jsonl")

    def languages(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    def _file(self, lang: str, split: str) -> Path:
        path = self.root / lang / f"{split}.jsonl"
        if not path.is_file():
            have = ", ".join(self.languages()) or "none"
            raise XgenError(f"{path} is missing: the corpus at {self.root} has languages [{have}]; pick one of those or add the file")
        return path

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        path = self._file(lang, split)
        out = []
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if limit is not None and len(out) >= limit:
                    break
                if not line.strip():
                    continue
                out.append(_parse_example(line, path, lineno, lang))
        return out

    def unlabeled(self, lang: str, limit: int | None = None) -> list[str]:
        """`unlabeled.jsonl` ({"text"} lines) if present, else the training articles."""
        path = self.root / lang / "unlabeled.jsonl"
        if not path.is_file():
            return [e.article for e in self.examples(lang, "train", limit)]
        texts = []
        with path.open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if limit is not None and len(texts) >= limit:
                    break
                if line.strip():
                    texts.append(_parse_json(line, path, lineno)["text"])
        return texts


def _parse_json(line: str, path: Path, lineno: int) -> dict:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise XgenError(f"{path} line {lineno} is not valid JSON ({exc.msg}): fix or delete that line") from None


def _parse_example(line: str, path: Path, lineno: int, lang: str) -> Example:
    row = _parse_json(line, path, lineno)
    missing = [k for k in ("article", "summary") if not isinstance(row.get(k), str)]
    if missing:
        raise XgenError(f"{path} line {lineno} lacks string field(s) {missing}: each line needs id, article, summary")
    return Example(id=str(row.get("id", f"{path.stem}-{lineno}")), lang=row.get("lang", lang),
                   article=row["article"], summary=row["summary"])


def jsonl(path: str) -> JsonlCorpus:
    """`data=jsonl`: the user's own corpus in the local-directory form."""
    return JsonlCorpus(Path(path).expanduser())


def demo(cache_dir: str, seed: int, n_train: int, n_validation: int, n_test: int, n_unlabeled: int,
         langs: list[str] | None = None) -> JsonlCorpus:
    """`data=demo`: the embedded generator's corpus, written once into the cache, keyed by its settings."""
    from xgen_cli.data import demo as generator

    langs = list(langs or generator.DEMO_LANGS)
    settings = dict(seed=seed, n_train=n_train, n_validation=n_validation, n_test=n_test,
                    n_unlabeled=n_unlabeled, langs=langs, generator=_source_hash(generator))
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    root = Path(cache_dir).expanduser() / "corpora" / f"demo-{key}"
    if not (root / ".complete").is_file():
        generator.write_demo_corpus(root, langs=langs, n_train=n_train, n_validation=n_validation,
                                    n_test=n_test, n_unlabeled=n_unlabeled, seed=seed)
        (root / ".complete").write_text(json.dumps(settings))
    return JsonlCorpus(root)


def _source_hash(module) -> str:
    """A hash of the generator's source files: editing the generator invalidates cached corpora."""
    digest = hashlib.sha1()
    for path in sorted(Path(module.__file__).parent.glob("demo*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


class HubWikiLingua:
    """WikiLingua-0 through `datasets.load_dataset` (GEM's wiki_lingua), same language in and out.

    The GEM/TFDS release keeps the same-language pair in `source_aligned[lang]` / `target_aligned[lang]`;
    its default `target` is the ENGLISH summary, which is not this task (paper.md, The task).
    """

    def __init__(self, path: str, config: str | None, data_dir: str | None, article_field: str,
                 summary_field: str, id_field: str):
        self.path, self.config, self.data_dir = path, config, data_dir
        self.article_field, self.summary_field, self.id_field = article_field, summary_field, id_field

    def _load(self, lang: str, split: str):
        import datasets

        fmt = {"lang": lang}
        try:
            return datasets.load_dataset(self.path, name=self.config.format(**fmt) if self.config else None,
                                         data_dir=self.data_dir.format(**fmt) if self.data_dir else None, split=split)
        except (FileNotFoundError, ValueError, ConnectionError) as exc:
            raise XgenError(f"cannot load WikiLingua {lang}/{split} from {self.path!r} ({exc}): check data.hub_path "
                            "(needs hub access) or use data.local_dir") from None

    @staticmethod
    def _field(row: dict, field: str, lang: str) -> str:
        value = row[field]
        return value[lang] if isinstance(value, dict) else value

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        rows = self._load(lang, split)
        if limit is not None:
            rows = rows.select(range(min(limit, len(rows))))
        return [Example(id=str(r.get(self.id_field, i)), lang=lang, article=self._field(r, self.article_field, lang),
                        summary=self._field(r, self.summary_field, lang)) for i, r in enumerate(rows)]

    def unlabeled(self, lang: str, limit: int | None = None) -> list[str]:
        return [e.article for e in self.examples(lang, "train", limit)]


def wikilingua0(local_dir: str | None, hub_path: str, hub_config: str | None, hub_data_dir: str | None,
                article_field: str, summary_field: str, id_field: str):
    """`data=wikilingua0`: a local copy in the directory form if `local_dir` is set, else the hub."""
    if local_dir:
        return JsonlCorpus(Path(local_dir).expanduser())
    return HubWikiLingua(hub_path, hub_config, hub_data_dir, article_field, summary_field, id_field)
