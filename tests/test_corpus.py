"""Corpora: the local JSONL form, malformed input, and the WikiLingua-0 loader on a local fixture."""

from __future__ import annotations

import json

import pytest

from xgen_cli.data.corpus import JsonlCorpus, wikilingua0
from xgen_cli.errors import XgenError


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_jsonl_corpus_reads_examples_in_order_with_limit(tmp_path):
    _write(tmp_path / "ru" / "validation.jsonl",
           [{"id": f"x{i}", "article": f"статья {i}", "summary": "шаг\nещё шаг"} for i in range(5)])
    corpus = JsonlCorpus(tmp_path)
    examples = corpus.examples("ru", "validation", limit=3)
    assert [e.id for e in examples] == ["x0", "x1", "x2"]
    assert examples[0].lang == "ru" and examples[0].summary == "шаг\nещё шаг"


def test_malformed_line_names_file_line_and_fix(tmp_path):
    path = tmp_path / "en" / "train.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"id": "a", "article": "x", "summary": "y"}\n{"id": "b", "article": \n')
    with pytest.raises(XgenError, match=r"train.jsonl line 2 is not valid JSON .*fix or delete that line"):
        JsonlCorpus(tmp_path).examples("en", "train")


def test_missing_field_and_missing_language_are_clear(tmp_path):
    _write(tmp_path / "en" / "train.jsonl", [{"id": "a", "article": "x"}])
    with pytest.raises(XgenError, match=r"line 1 lacks string field\(s\) \['summary'\]"):
        JsonlCorpus(tmp_path).examples("en", "train")
    with pytest.raises(XgenError, match=r"has languages \[en\]"):
        JsonlCorpus(tmp_path).examples("th", "validation")
    with pytest.raises(XgenError, match="does not exist"):
        JsonlCorpus(tmp_path / "nope")


def test_wikilingua0_hub_loader_uses_the_same_language_fields(tmp_path):
    """The `datasets.load_dataset` path, on a local folder shaped like GEM's release: the article and
    summary come from source_aligned[lang] / target_aligned[lang], never the English `target`."""
    rows = [{"gem_id": f"wl-fr-{i}", "source_aligned": {"fr": f"Article {i}.", "en": f"Article EN {i}."},
             "target_aligned": {"fr": f"Résumé {i}.", "en": f"Summary EN {i}."}, "target": f"Summary EN {i}."}
            for i in range(4)]
    _write(tmp_path / "fr" / "validation.jsonl", rows)
    _write(tmp_path / "fr" / "train.jsonl", rows)
    corpus = wikilingua0(local_dir=None, hub_path=str(tmp_path), hub_config=None, hub_data_dir="{lang}",
                         article_field="source_aligned", summary_field="target_aligned", id_field="gem_id")
    examples = corpus.examples("fr", "validation", limit=2)
    assert [(e.id, e.article, e.summary) for e in examples] == [
        ("wl-fr-0", "Article 0.", "Résumé 0."), ("wl-fr-1", "Article 1.", "Résumé 1.")]
    assert all(e.lang == "fr" for e in examples)


def test_wikilingua0_local_dir_is_the_jsonl_form(tmp_path):
    _write(tmp_path / "th" / "validation.jsonl", [{"id": "t", "article": "บทความ", "summary": "สรุป"}])
    corpus = wikilingua0(local_dir=str(tmp_path), hub_path="GEM/wiki_lingua", hub_config="{lang}", hub_data_dir=None,
                         article_field="source_aligned", summary_field="target_aligned", id_field="gem_id")
    assert corpus.examples("th", "validation")[0].summary == "สรุป"
