"""Corpora: the local JSONL form as real files come, skipping and counting bad lines, the task-data
loader a training run calls, the WikiLingua-0 loaders, and the data configs' reading keys.

The bad-input catalogue (every flaw with its message) is tests/test_bad_input.py."""

from __future__ import annotations

import json
from pathlib import Path

import hydra
import pytest
from fixtures.hub import publishers
from hydra import compose, initialize_config_dir

from xgen_cli.commands._app import CONF_DIR
from xgen_cli.data.corpus import JsonlCorpus, load_task_data
from xgen_cli.data.hub_corpora import wikilingua0
from xgen_cli.errors import XgenError


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _row(i, **fields):
    return {"id": f"x{i}", "article": f"article {i}", "summary": f"step {i}", **fields}


def test_jsonl_corpus_reads_examples_in_order_with_limit(tmp_path):
    _write(tmp_path / "ru" / "validation.jsonl",
           [{"id": f"x{i}", "article": f"статья {i}", "summary": "шаг\nещё шаг"} for i in range(5)])
    corpus = JsonlCorpus(tmp_path)
    examples = corpus.examples("ru", "validation", limit=3)
    assert [e.id for e in examples] == ["x0", "x1", "x2"]
    assert examples[0].lang == "ru" and examples[0].summary == "шаг\nещё шаг"


def test_files_as_real_corpora_come_read_without_error(tmp_path):
    """A BOM, CRLF endings, blank and whitespace lines, a raw tab and U+2028 inside strings, no final newline."""
    lines = [json.dumps(_row(0)), "", "   ", json.dumps(_row(1, article="tab\there"), ensure_ascii=False).replace("\\t", "\t"),
             json.dumps(_row(2, summary="one\u2028two"), ensure_ascii=False), "\t", json.dumps(_row(3))]
    path = tmp_path / "en" / "train.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("utf-8"))  # no newline after the last line
    examples = JsonlCorpus(tmp_path).examples("en", "train")
    assert [e.id for e in examples] == ["x0", "x1", "x2", "x3"]
    assert examples[1].article == "tab\there" and examples[2].summary == "one\u2028two"


def test_line_numbers_count_blank_and_crlf_lines_as_editors_do(tmp_path):
    path = tmp_path / "en" / "train.jsonl"
    path.parent.mkdir(parents=True)
    # U+2028 inside a string would be a line break for str.splitlines; for an editor it is not.
    good = json.dumps(_row(0, article="a\u2028b"), ensure_ascii=False)
    path.write_bytes(("\ufeff" + good + "\r\n\r\n" + good.replace("x0", "x1") + "\r\n{broken\r\n").encode("utf-8"))
    with pytest.raises(XgenError, match=r"train\.jsonl:4: not valid JSON"):
        JsonlCorpus(tmp_path).examples("en", "train")


def test_integer_ids_read_as_text_and_a_matching_lang_field_is_fine(tmp_path):
    _write(tmp_path / "fr" / "test.jsonl", [{"id": 7, "lang": "fr", "article": "a", "summary": "b"}])
    (example,) = JsonlCorpus(tmp_path).examples("fr", "test")
    assert example.id == "7" and example.lang == "fr"


def test_an_article_longer_than_the_clip_length_is_read_whole(tmp_path):
    """Clipping to 1024 tokens happens at tokenization (data/tasks.py); the corpus neither errs nor cuts."""
    article = "word " * 50_000
    _write(tmp_path / "en" / "train.jsonl", [_row(0, article=article)])
    assert JsonlCorpus(tmp_path).examples("en", "train")[0].article == article


def test_unlabeled_reads_text_lines_or_falls_back_to_training_articles(tmp_path):
    _write(tmp_path / "th" / "unlabeled.jsonl", [{"text": "ข้อความ"}, {"text": "อีก"}])
    _write(tmp_path / "en" / "train.jsonl", [_row(0), _row(1)])
    corpus = JsonlCorpus(tmp_path)
    assert corpus.unlabeled("th") == ["ข้อความ", "อีก"]
    assert corpus.unlabeled("en", limit=1) == ["article 0"]


def test_skip_leaves_bad_lines_out_and_counts_each_once(tmp_path):
    path = tmp_path / "en" / "train.jsonl"
    _write(path, [_row(0), _row(1, summary=" "), _row(2), _row(0)])
    with path.open("a", encoding="utf-8") as f:
        f.write("not json\n")
    corpus = JsonlCorpus(tmp_path, on_bad_line="skip")
    assert [e.id for e in corpus.examples("en", "train")] == ["x0", "x2"]
    corpus.examples("en", "train")  # read again: the same lines, counted once
    assert corpus.skipped == {str(path): 3}
    summary = corpus.skipped_summary()
    assert "\n" not in summary
    assert summary.startswith(f"skipped 3 bad lines (data.on_bad_line=skip): 3 in {path} (first, line 2: summary is empty")


def test_skipped_lines_do_not_shrink_a_limited_read(tmp_path):
    _write(tmp_path / "en" / "validation.jsonl", [_row(0), {"id": "bad"}, _row(1), _row(2)])
    corpus = JsonlCorpus(tmp_path, on_bad_line="skip")
    assert [e.id for e in corpus.examples("en", "validation", limit=2)] == ["x0", "x1"]
    assert corpus.skipped_summary() and JsonlCorpus(tmp_path).skipped_summary() == ""


def test_load_task_data_reads_the_whole_train_split_and_the_first_eval_examples(tmp_path):
    _write(tmp_path / "en" / "train.jsonl", [_row(i) for i in range(7)])
    for lang in ("en", "ru"):
        _write(tmp_path / lang / "validation.jsonl", [_row(i) for i in range(5)])
    data = load_task_data(JsonlCorpus(tmp_path), ["en"], ["en", "ru"], 3)
    assert len(data.train["en"]) == 7
    assert {lang: [e.id for e in x] for lang, x in data.evaluation.items()} == {"en": ["x0", "x1", "x2"], "ru": ["x0", "x1", "x2"]}
    assert data.evaluation["ru"][0].lang == "ru"
    assert data.skipped == {} and data.notes == []


def test_load_task_data_with_skip_reports_the_counts_for_summary_json(tmp_path):
    train = tmp_path / "en" / "train.jsonl"
    _write(train, [_row(0), _row(1, article="")])
    _write(tmp_path / "en" / "validation.jsonl", [_row(0)])
    data = load_task_data(JsonlCorpus(tmp_path, on_bad_line="skip"), ["en"], ["en"], 1)
    assert [e.id for e in data.train["en"]] == ["x0"]
    assert data.skipped == {str(train): 1}
    assert data.notes[0].startswith("skipped 1 bad line (data.on_bad_line=skip)")


def _write_parquet(path, rows):
    """One shard of GEM/wiki_lingua's parquet export, its columns typed as published (tests/fixtures/hub)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=publishers.WIKILINGUA_SCHEMA), path)


def _hub_corpus(folder, *overrides):
    """data=wikilingua0 as shipped (its data_files pattern and fields), pointed at a local folder."""
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("data", overrides=["data=wikilingua0", f"data.corpus.hub_path={folder}",
                                         "data.corpus.revision=null", *overrides])
    return hydra.utils.instantiate(cfg.data.corpus)


def test_wikilingua0_hub_loader_reads_the_parquet_export_layout(tmp_path):
    """The shipped config on GEM/wiki_lingua's export (<lang>/<split>/NNNN.parquet, flat source / target);
    the layout cases and wrong guesses are tests/test_hub_layouts.py."""
    publishers.wiki_lingua(tmp_path, langs=("fr",), n=4, shards=2, crosslingual=None)
    corpus = _hub_corpus(tmp_path)
    examples = corpus.examples("fr", "validation")
    assert [(e.id, e.article, e.summary) for e in examples] == [
        (f"wikilingua_fr-validation-{i}", f"Article {i} en français.", f"Étape {i}.") for i in range(4)]
    assert all(e.lang == "fr" for e in examples)
    assert corpus.unlabeled("fr") == [f"Article {i} en français." for i in range(4)]  # the training articles


def test_wikilingua0_from_a_loading_script_fails_in_one_line_naming_the_parquet_export(tmp_path):
    script = tmp_path / "wiki_lingua" / "wiki_lingua.py"  # how GEM published it: <name>/<name>.py
    script.parent.mkdir()
    script.write_text("import datasets\n")
    (script.parent / "fr" / "validation").mkdir(parents=True)  # the folder the pattern names, but no shards
    with pytest.raises(XgenError) as error:
        _hub_corpus(script.parent).examples("fr", "validation")
    message = str(error.value)
    assert "\n" not in message and "loading script" in message
    assert "data.corpus.revision=refs/convert/parquet" in message and "data.corpus.data_files=" in message
    # Files the pattern does not find: one line naming the keys to check.
    (tmp_path / "empty" / "th" / "validation").mkdir(parents=True)
    with pytest.raises(XgenError, match=r"cannot load WikiLingua th/validation .*check the path, data.corpus.data_files"):
        _hub_corpus(tmp_path / "empty").examples("th", "validation")


def test_wikilingua0_hub_rows_get_the_same_checks(tmp_path):
    def row(i, summary, lang="fr"):
        return {"gem_id": f"wl-{i}", "gem_parent_id": f"wl-{i}", "source_language": lang, "target_language": lang,
                "source": f"Article {i}.", "target": summary, "references": [summary]}

    _write_parquet(tmp_path / "fr" / "validation" / "0000.parquet", [row(0, "Résumé."), row(1, "  "), row(2, "Résumé.")])
    with pytest.raises(XgenError, match=r"fr/validation row 2: summary is empty or only whitespace: .*on_bad_line=skip"):
        _hub_corpus(tmp_path).examples("fr", "validation")
    corpus = _hub_corpus(tmp_path, "data.on_bad_line=skip")
    assert [e.id for e in corpus.examples("fr", "validation")] == ["wl-0", "wl-2"]
    assert corpus.skipped == {f"{tmp_path} fr/validation": 1}
    # Asking the French rows for English: their source_language says fr.
    with pytest.raises(XgenError, match=r"en/validation row 1: has source_language='fr', not 'en'"):
        _hub_corpus(tmp_path, "data.corpus.data_files='fr/{split}/*.parquet'").examples("en", "validation")


def test_wikilingua0_local_dir_is_the_jsonl_form(tmp_path):
    _write(tmp_path / "th" / "validation.jsonl", [{"id": "t", "article": "บทความ", "summary": "สรุป"}])
    corpus = wikilingua0(local_dir=str(tmp_path), hub_path="GEM/wiki_lingua", revision="refs/convert/parquet",
                         data_files="{lang}/{split}/*.parquet", article_field="source",
                         summary_field="target", id_field="gem_id")
    assert corpus.examples("th", "validation")[0].summary == "สรุป"


DATA_CONFIGS = sorted(p.stem for p in (Path(CONF_DIR) / "data").glob("*.yaml"))


@pytest.mark.parametrize("data", DATA_CONFIGS)
def test_every_data_config_has_the_reading_keys_and_hands_on_bad_line_to_its_corpus(data, tmp_path):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("data", overrides=[f"data={data}", "data.on_bad_line=skip"])
    assert cfg.data.allow_fewer_eval_examples is False
    assert cfg.data.corpus.on_bad_line == "skip"  # the corpus reads data.on_bad_line, not a copy of it


def test_data_jsonl_instantiates_a_skipping_corpus(tmp_path):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("data", overrides=["data=jsonl", f"data.corpus.path={tmp_path}", "data.on_bad_line=skip"])
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    assert isinstance(corpus, JsonlCorpus) and corpus.on_bad_line == "skip" and corpus.root == tmp_path
