"""Translators for the translation baselines (paper.md, Baselines). TRANS-TRAIN trains on the English
training data translated into a target language; TRANS-TEST translates a target language's articles
into English, summarises them with an English-trained run and translates the summaries back.

`translate=<name>` (conf/translate/) picks one; each answers two questions:
- `examples(examples, src, tgt, split)`: the same examples (same ids) with article and summary in `tgt`;
- `texts(texts, ids, src, tgt, split)`: free text (the summaries a run wrote), one per example id.

Kinds:
- demo: the demo corpus is parallel by construction (one plan realised in every language under one
  id), so an example's translation is the example of the same id in `tgt`, exactly. A summary a model
  wrote is translated heading by heading through the table of every heading the demo lexicon can
  realise; text outside the table stays as it is, and is counted.
- file: JSONL files the user provides, keyed by example id:
  `<path>/<src>-<tgt>/<split>.jsonl` ({"id", "article", "summary"}: examples of <src>'s split in <tgt>)
  and `<path>/<src>-<tgt>/<split>.texts.jsonl` ({"id", "text"}: free texts, e.g. TRANS-TEST's English
  summaries of <tgt>'s examples, translated into <tgt>).
- hf: any transformers translation model (Marian, NLLB, ...) by hub id or local folder, one per
  direction (`name_or_path` may hold {src} and {tgt}). Its translations are cached per (translator,
  language pair, split) under <cache_dir>/translations/, keyed by the source text: a sweep (seeds,
  several English runs under TRANS-TEST) translates each text once.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from xgen_cli.data.example import Example
from xgen_cli.errors import XgenError
from xgen_cli.runs.files import read_jsonl, write_jsonl


def build_translator(spec: dict, *, corpus, cache_dir: str):
    """The translator `translate=<name>` configures, or None for translate=none."""
    if spec.get("name", "none") == "none":
        return None
    import hydra

    recipe = {k: v for k, v in spec.items() if k != "name"}
    return hydra.utils.instantiate(recipe, corpus=corpus, cache_dir=cache_dir, _convert_="all")


def _lookup(table: dict, ids: list[str], where: str) -> list:
    missing = next((i for i in ids if i not in table), None)
    if missing is not None:
        raise XgenError(f"{where} has no translation for id {missing!r}: add a line with that id")
    return [table[i] for i in ids]


# ---- demo: the parallel corpus translates itself ----

class DemoTranslator:
    name = "demo"

    def __init__(self, corpus):
        self.corpus = corpus
        self._tables: dict[tuple[str, str], dict[str, str]] = {}

    def examples(self, examples: list[Example], src: str, tgt: str, split: str) -> list[Example]:
        if src == tgt:
            return list(examples)
        where = self.corpus.location(tgt, split)
        table = {e.id: e for e in self.corpus.examples(tgt, split)}
        return _lookup(table, [e.id for e in examples], where)

    def texts(self, texts: list[str], ids: list[str], src: str, tgt: str, split: str) -> list[str]:
        if src == tgt:
            return list(texts)
        table = self._table(src, tgt)
        out, unknown = [], 0
        for text in texts:
            translated, missed = _translate_headings(text, table)
            out.append(translated)
            unknown += missed
        if unknown:
            print(f"[translate demo] {src}->{tgt}: {unknown} word(s) of {len(texts)} summaries are no demo heading "
                  "and stay untranslated", file=sys.stderr, flush=True)
        return out

    def _table(self, src: str, tgt: str) -> dict[str, str]:
        """{heading in src, lowercased without its final period: heading in tgt} over the whole lexicon."""
        if (src, tgt) not in self._tables:
            from xgen_cli.data.demo import ACTIONS_BY_TOPIC, object_forms
            from xgen_cli.data.demo_lexicon import OBJECTS

            table = {}
            for topic, actions in ACTIONS_BY_TOPIC.items():
                for action in actions:
                    for index in range(len(OBJECTS[topic])):
                        heading = action[src][0].format(**object_forms(topic, index, src))
                        table.setdefault(_key(heading), action[tgt][0].format(**object_forms(topic, index, tgt)))
            self._tables[(src, tgt)] = table
        return self._tables[(src, tgt)]


def _key(text: str) -> str:
    return text.strip().rstrip(".").lower()


def _translate_headings(text: str, table: dict[str, str]) -> tuple[str, int]:
    """The headings found in `text` (longest match first) translated, one per line; a run of words
    that starts no heading is kept as it is, on its own line. Returns (translation, words kept)."""
    words, lines, kept, untranslated, i = text.split(), [], [], 0, 0
    while i < len(words):
        end = next((j for j in range(len(words), i, -1) if _key(" ".join(words[i:j])) in table), None)
        if end is None:
            kept.append(words[i])
            untranslated, i = untranslated + 1, i + 1
            continue
        if kept:
            lines.append(" ".join(kept))
        lines.append(table[_key(" ".join(words[i:end]))])
        kept, i = [], end
    return "\n".join(lines + ([" ".join(kept)] if kept else [])), untranslated


def demo(corpus, cache_dir: str | None = None) -> DemoTranslator:
    return DemoTranslator(corpus)


# ---- file: translations the user provides ----

class FileTranslator:
    name = "file"

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise XgenError(f"translate.path={self.path} is not a folder: point it at the folder holding "
                            "<src>-<tgt>/<split>.jsonl translations (README, Baselines)")

    def _file(self, src: str, tgt: str, name: str, what: str) -> Path:
        path = self.path / f"{src}-{tgt}" / name
        if not path.is_file():
            raise XgenError(f"{path} is missing: add {what} translated from {src} into {tgt}, one line per example id")
        return path

    def examples(self, examples: list[Example], src: str, tgt: str, split: str) -> list[Example]:
        if src == tgt:
            return list(examples)
        from xgen_cli.data.corpus import JsonlCorpus

        path = self._file(src, tgt, f"{split}.jsonl", f'{{"id", "article", "summary"}} lines of {src}\'s {split} split')
        table = {e.id: e for e in JsonlCorpus(self.path).examples(f"{src}-{tgt}", split)}
        return [replace(e, lang=tgt) for e in _lookup(table, [e.id for e in examples], str(path))]

    def texts(self, texts: list[str], ids: list[str], src: str, tgt: str, split: str) -> list[str]:
        if src == tgt:
            return list(texts)
        path = self._file(src, tgt, f"{split}.texts.jsonl",
                          '{"id", "text"} lines (TRANS-TEST writes the texts to translate into its run folder, '
                          f"translate/{tgt}.{src}.jsonl)")
        rows = read_jsonl(path)
        bad = next((n for n, r in enumerate(rows, 1) if not isinstance(r.get("id"), str) or not isinstance(r.get("text"), str)), None)
        if bad:
            raise XgenError(f"{path} line {bad} lacks string fields id/text: every line needs both")
        return _lookup({r["id"]: r["text"] for r in rows}, ids, str(path))


def file(path: str, corpus=None, cache_dir: str | None = None) -> FileTranslator:
    return FileTranslator(path)


# ---- hf: a transformers translation model, cached ----

class HfTranslator:
    def __init__(self, name_or_path: str, cache_dir: str, lang_codes: dict[str, str] | None = None,
                 batch_size: int = 16, num_beams: int = 4, max_new_tokens: int = 256, device: str = "cpu"):
        self.name_or_path, self.lang_codes = name_or_path, dict(lang_codes or {})
        self.batch_size, self.device = batch_size, device
        self.generate_kwargs = {"num_beams": num_beams, "max_new_tokens": max_new_tokens}
        settings = {"name_or_path": name_or_path, "lang_codes": self.lang_codes, **self.generate_kwargs}
        self.name = "hf-" + hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
        self.cache_root = Path(cache_dir).expanduser() / "translations" / self.name
        self._models: dict[tuple[str, str], tuple] = {}

    def examples(self, examples: list[Example], src: str, tgt: str, split: str) -> list[Example]:
        if src == tgt:
            return list(examples)
        # Summaries are one sentence per line: translate the lines, keep the layout.
        lines = [e.summary.split("\n") for e in examples]
        flat = [e.article for e in examples] + [line for ls in lines for line in ls]
        out = iter(self.texts(flat, None, src, tgt, split))
        articles = [next(out) for _ in examples]
        summaries = ["\n".join(next(out) for _ in ls) for ls in lines]
        return [replace(e, lang=tgt, article=a, summary=s) for e, a, s in zip(examples, articles, summaries, strict=True)]

    def texts(self, texts: list[str], ids: list[str] | None, src: str, tgt: str, split: str) -> list[str]:
        if src == tgt:
            return list(texts)
        cache_file = self.cache_root / f"{src}-{tgt}" / f"{split}.jsonl"
        cache = {r["source"]: r["translation"] for r in read_jsonl(cache_file)} if cache_file.is_file() else {}
        todo = list(dict.fromkeys(t for t in texts if t not in cache))
        if todo:
            print(f"[translate {self.name}] {src}->{tgt} {split}: {len(todo)} new text(s), "
                  f"{len(set(texts)) - len(todo)} from the cache", file=sys.stderr, flush=True)
            cache.update(zip(todo, self._generate(todo, src, tgt), strict=True))
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            write_jsonl(cache_file, [{"source": s, "translation": t} for s, t in cache.items()])
        return [cache[t] for t in texts]

    def _load(self, src: str, tgt: str):
        if (src, tgt) not in self._models:
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            where = self.name_or_path.format(src=src, tgt=tgt)
            try:
                tokenizer = AutoTokenizer.from_pretrained(where)
                model = AutoModelForSeq2SeqLM.from_pretrained(where).to(self.device).eval()
            except OSError as exc:
                raise XgenError(f"translate.name_or_path={where} cannot be loaded ({str(exc).splitlines()[0]}): "
                                "give a hub id or a local folder of a translation model") from None
            self._models[(src, tgt)] = (tokenizer, model)
        return self._models[(src, tgt)]

    def _generate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        import torch

        tokenizer, model = self._load(src, tgt)
        kwargs = dict(self.generate_kwargs)
        if self.lang_codes:  # multilingual models (NLLB, M2M): name the source, force the target
            tokenizer.src_lang = self.lang_codes[src]
            kwargs["forced_bos_token_id"] = tokenizer.convert_tokens_to_ids(self.lang_codes[tgt])
        out = []
        with torch.no_grad():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(texts[start:start + self.batch_size], return_tensors="pt", padding=True,
                                  truncation=True).to(self.device)
                ids = model.generate(**batch, **kwargs)
                out += [t.strip() for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
        return out


def hf(name_or_path: str, cache_dir: str, corpus=None, **settings) -> HfTranslator:
    return HfTranslator(name_or_path, cache_dir, **settings)
