"""The hub corpora read through the choices a user types (data=wikilingua0 | xlsum, unlabeled=mc4,
intermediate=gigaword) from local copies laid out as the PUBLISHERS ship them (tests/fixtures/hub/
publishers.py, which cites its sources), and each wrong guess refused in one line naming what was found."""

from __future__ import annotations

import json

import hydra
import pytest
from fixtures.hub import publishers
from hydra import compose, initialize_config_dir

from xgen_cli.commands._app import CONF_DIR
from xgen_cli.data.corpus import load_task_data
from xgen_cli.errors import XgenError


def _compose(config: str, *overrides: str):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config, overrides=list(overrides))


def _corpus(choice: str, folder, *overrides: str, cache_dir=None):
    """data=<choice> as shipped, its hub path pointed at a local copy of the publisher's files."""
    extra = [f"cache_dir={cache_dir}"] if cache_dir else []
    cfg = _compose("data", f"data={choice}", f"data.corpus.hub_path={folder}", "data.corpus.revision=null", *extra,
                   *overrides)
    return hydra.utils.instantiate(cfg.data.corpus)


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


# ---- data=wikilingua0: GEM/wiki_lingua's parquet export ----

@pytest.fixture(scope="module")
def wiki_lingua(tmp_path_factory):
    return publishers.wiki_lingua(tmp_path_factory.mktemp("GEM") / "wiki_lingua", partial=("th", "train"))


def test_wikilingua0_reads_the_same_language_config_in_shard_order(wiki_lingua):
    corpus = _corpus("wikilingua0", wiki_lingua)
    examples = corpus.examples("fr", "validation")
    assert [(e.id, e.article, e.summary) for e in examples] == [
        (f"wikilingua_fr-validation-{i}", f"Article {i} en français.", f"Étape {i}.") for i in range(4)]
    assert {e.lang for e in examples} == {"fr"}
    assert [e.id for e in corpus.examples("fr", "sampled_test", limit=2)] == ["wikilingua_fr-sampled_test-0",
                                                                             "wikilingua_fr-sampled_test-1"]
    assert corpus.splits() == list(publishers.WIKILINGUA_SPLITS)
    assert corpus.source() == {"hub_path": str(wiki_lingua), "revision": None, "data_files": "{lang}/{split}/*.parquet"}


def test_wikilingua0_reads_a_partial_split_folder(wiki_lingua):
    """th/partial-train/ (a split the converter cut at its size cap) stands in for th/train/."""
    assert not (wiki_lingua / "th" / "train").exists()
    assert [e.summary for e in _corpus("wikilingua0", wiki_lingua).examples("th", "train")] == [
        f"ขั้นตอนที่ {i}" for i in range(4)]


def test_wikilingua0_task_data_is_english_train_and_first_n_validation(wiki_lingua):
    data = load_task_data(_corpus("wikilingua0", wiki_lingua), ["en"], ["en", "fr", "th"], 3)
    assert [e.summary for e in data.train["en"]] == [f"Step {i} in English." for i in range(4)]
    assert {lang: [e.id for e in ex] for lang, ex in data.evaluation.items()} == {
        lang: [f"wikilingua_{lang}-validation-{i}" for i in range(3)] for lang in ("en", "fr", "th")}


def test_wikilingua0_refuses_a_crosslingual_config(wiki_lingua):
    with pytest.raises(XgenError) as error:
        _corpus("wikilingua0", wiki_lingua, "data.corpus.data_files='fr_en/{split}/*.parquet'").examples("fr", "validation")
    assert "row 1: has target_language='en', not 'fr' (a cross-lingual config?)" in _one_line(error)


def test_wikilingua0_old_field_guess_fails_in_one_line_naming_the_columns(wiki_lingua):
    """xgen's earlier guess (source_aligned / target_aligned, the older GEM/gem release) on GEM/wiki_lingua."""
    corpus = _corpus("wikilingua0", wiki_lingua, "data.corpus.article_field=source_aligned",
                     "data.corpus.summary_field=target_aligned")
    with pytest.raises(XgenError) as error:
        corpus.examples("fr", "validation")
    line = _one_line(error)
    assert "has no columns 'source_aligned', 'target_aligned'" in line
    assert ("its columns: gem_id, gem_parent_id, source_language, target_language, source, target, references" in line)
    assert "set data.corpus.article_field and data.corpus.summary_field" in line


def test_wikilingua0_missing_language_split_or_folder_is_one_line(wiki_lingua, tmp_path):
    corpus = _corpus("wikilingua0", wiki_lingua)
    with pytest.raises(XgenError, match=r"no language 'xx' \(its 18: en, es, pt"):
        corpus.examples("xx", "validation")
    with pytest.raises(XgenError, match=r"publishes no split 'dev' \(its splits: train, validation, test, sampled_validation"):
        corpus.examples("fr", "dev")
    with pytest.raises(XgenError) as error:  # a language of the paper that this copy lacks
        corpus.examples("ru", "validation")
    assert "has no ru folder ru/ (it holds: en/, fr/, fr_en/, th/)" in _one_line(error)
    with pytest.raises(XgenError) as error:  # a folder that is one config, not the export's top
        _corpus("wikilingua0", wiki_lingua / "fr").examples("fr", "validation")
    assert "(it holds: sampled_test/, sampled_validation/, test/, train/, validation/)" in _one_line(error)
    (tmp_path / "fr" / "validation").mkdir(parents=True)  # the folders, no shards
    with pytest.raises(XgenError) as error:
        _corpus("wikilingua0", tmp_path).examples("fr", "validation")
    assert "cannot load WikiLingua fr/validation" in _one_line(error) and "fr/validation/ holds: nothing" in str(error.value)


def test_wikilingua0_reads_the_older_gem_release_by_overrides(tmp_path):
    """The README's recipe for GEM/gem's wiki_lingua_<name>_<code> configs: the aligned fields' own-language
    entries, never the English `target`."""
    root = publishers.gem_wiki_lingua(tmp_path / "gem")
    corpus = _corpus("wikilingua0", root, "data.corpus.data_files='wiki_lingua_{name}_{lang}/{split}/*.parquet'",
                     "data.corpus.article_field=source_aligned", "data.corpus.summary_field=target_aligned")
    examples = corpus.examples("fr", "validation")
    assert [(e.id, e.article, e.summary) for e in examples] == [
        (f"wiki_lingua_french_fr-validation-{i}", f"Article {i} en français.", f"Étape {i}.") for i in range(3)]


# ---- data=xlsum: csebuetnlp/xlsum's archives ----

@pytest.fixture(scope="module")
def xlsum(tmp_path_factory):
    return publishers.xlsum(tmp_path_factory.mktemp("csebuetnlp") / "xlsum")


def test_xlsum_reads_the_archives_by_language_name(xlsum, tmp_path):
    corpus = _corpus("xlsum", xlsum, cache_dir=tmp_path)
    examples = corpus.examples("fr", "validation")  # fr -> french_XLSum_v2.0.tar.bz2, validation -> french_val.jsonl
    assert [(e.id, e.article, e.summary) for e in examples] == [
        (f"french-val-{i:08d}", f"Article {i} en français.", f"Étape {i}.") for i in range(4)]
    assert len(corpus.languages()) == 45 and {"en", "fr", "th", "zh", "zh-Hant"} <= set(corpus.languages())
    assert corpus.splits() == ["train", "validation", "test"]
    data = load_task_data(corpus, ["en"], ["en", "th"], 2)
    assert [e.id for e in data.train["en"]] == [f"english-train-{i:08d}" for i in range(4)]
    assert [e.summary for e in data.evaluation["th"]] == ["ขั้นตอนที่ 0", "ขั้นตอนที่ 1"]
    assert len(list((tmp_path / "xlsum").iterdir())) == 3  # each archive unpacked once: en, fr, th


def test_xlsum_wrong_guesses_are_one_line(xlsum, tmp_path):
    with pytest.raises(XgenError) as error:
        _corpus("xlsum", xlsum, "data.corpus.article_field=document", cache_dir=tmp_path).examples("en", "test")
    assert "has no column 'document' (its columns: id, url, title, summary, text)" in _one_line(error)
    with pytest.raises(XgenError) as error:  # XL-Sum's files name the split "val"
        _corpus("xlsum", xlsum, "data.corpus.split_files.validation=validation", cache_dir=tmp_path).examples("en", "validation")
    assert "holds no english_validation.jsonl (it holds: english_test.jsonl, english_train.jsonl, english_val.jsonl)" in _one_line(error)
    with pytest.raises(XgenError) as error:  # in XL-Sum but not in this copy
        _corpus("xlsum", xlsum, cache_dir=tmp_path).examples("ru", "validation")
    assert "russian_XLSum_v2.0.tar.bz2 is missing (data/ holds: english_XLSum_v2.0.tar.bz2, french_" in _one_line(error)
    with pytest.raises(XgenError, match=r"XL-Sum has no language 'de' in data.corpus.languages \(it has: am, ar,"):
        _corpus("xlsum", xlsum, cache_dir=tmp_path).examples("de", "validation")


# ---- intermediate=gigaword and unlabeled=mc4 ----

def test_gigaword_export_through_the_intermediate_choice(tmp_path):
    root = publishers.gigaword(tmp_path / "gigaword")
    cfg = _compose("train", "intermediate=gigaword", f"intermediate.corpus.path={root}", "intermediate.corpus.revision=null")
    pairs = hydra.utils.instantiate(cfg.intermediate.corpus)
    assert [e.summary for e in pairs.examples("en", "validation", limit=2)] == ["council approves budget 0",
                                                                                "council approves budget 1"]
    cfg = _compose("train", "intermediate=gigaword", f"intermediate.corpus.path={root}", "intermediate.corpus.revision=null",
                   "intermediate.corpus.article_field=article")
    with pytest.raises(XgenError) as error:
        hydra.utils.instantiate(cfg.intermediate.corpus).examples("en", "train")
    assert "has no column 'article' (its columns: document, summary)" in _one_line(error)


def test_mc4_files_through_the_unlabeled_choice(tmp_path):
    root = publishers.c4_multilingual(tmp_path / "c4")
    cfg = _compose("train", "unlabeled=mc4", f"unlabeled.path={root}", "unlabeled.limit=3")
    source = hydra.utils.instantiate(cfg.unlabeled, corpus=None)
    texts = source.unlabeled("ru")  # the first train shard only, never the validation file
    assert texts == [f"Статья {i} по-русски. (c4-ru.tfrecord-00000-of-04096.json.gz)" for i in range(3)]
    cfg = _compose("train", "unlabeled=mc4", f"unlabeled.path={root}", "unlabeled.text_field=content")
    with pytest.raises(XgenError) as error:
        hydra.utils.instantiate(cfg.unlabeled, corpus=None).unlabeled("th")
    assert "has no column 'content' (its columns: text, timestamp, url)" in _one_line(error)


# ---- the real CLI ----

def test_xgen_data_fetch_saves_wikilingua0_from_the_export(xgen, wiki_lingua, tmp_path):
    """What a user types on a machine with internet, the hub path pointed at the local export."""
    folder = tmp_path / "wl0"
    xgen("data", "fetch", "data=wikilingua0", f"data.corpus.hub_path={wiki_lingua}", "data.corpus.revision=null",
         "data.eval_langs=[en,fr]", "fetch.eval_splits=[validation]", f"fetch.folder={folder}")
    lines = [json.loads(line) for line in (folder / "fr" / "validation.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["summary"]) for r in lines] == [(f"wikilingua_fr-validation-{i}", f"Étape {i}.") for i in range(4)]
    manifest = json.loads((folder / "manifest.json").read_text())
    wanted = {"hub_path": str(wiki_lingua), "revision": None, "data_files": "{lang}/{split}/*.parquet"}
    assert {key: manifest["source"].get(key) for key in wanted} == wanted
