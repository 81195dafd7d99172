"""The baselines beside LEAD-64 (paper.md, Baselines): SUP and SUP-ALL (train_lang=<lang> / all),
TRANS-TRAIN (train_lang=<lang> translate=...) and TRANS-TEST (xgen eval baseline=trans_test), and
the translators behind the last two (xgen_cli/translation.py)."""

from __future__ import annotations

import json
import math
import shutil

import pytest
from conftest import MICRO_MODEL, MICRO_RUN

from xgen_cli.data.corpus import JsonlCorpus, demo
from xgen_cli.data.demo import generate_split
from xgen_cli.data.mixing import summarization_sources
from xgen_cli.data.mixture import Mixture
from xgen_cli.data.supervision import training_data, training_languages
from xgen_cli.data.tasks import Pair
from xgen_cli.errors import XgenError
from xgen_cli.runs.frame import row_label
from xgen_cli.translation import DemoTranslator, FileTranslator, HfTranslator


def _write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return demo(str(tmp_path_factory.mktemp("cache")), seed=0, n_train=12, n_validation=6, n_test=2, n_unlabeled=2)


# ---- SUP-ALL: the mixture of every language's training split

@pytest.mark.parametrize("weighting, sizes, shares", [("proportional", (100, 300, 600), (0.1, 0.3, 0.6)),
                                                       ("uniform", (100, 300, 600), (1 / 3, 1 / 3, 1 / 3))])
def test_sup_all_draws_each_language_in_its_configured_share(weighting, sizes, shares):
    pairs = {lang: [Pair([i, 1], [i, 1]) for i in range(n)] for lang, n in zip(("en", "ru", "th"), sizes, strict=True)}
    sources = summarization_sources(pairs, 0.99, weighting)  # beside MIX-UNSUP's kappa = 1%
    assert math.isclose(sum(s.weight for s in sources), 0.99)
    n = 30_000
    counts = Mixture(sources, n, seed=3).counts()
    for lang, share in zip(("en", "ru", "th"), shares, strict=True):
        p = share  # the sources' weights are renormalised: 0.99 of the draws, all of them here
        assert abs(counts[f"summarize/{lang}"] - p * n) <= 3 * math.sqrt(n * p * (1 - p)), (lang, counts)
    with pytest.raises(XgenError, match="train_lang_weights=sizes is not one of proportional, uniform"):
        summarization_sources(pairs, 1.0, "sizes")


def test_sup_and_trans_train_runs_are_labelled_for_the_tables():
    assert row_label({"method": "model", "train_lang": "en"}) == "MODEL"
    assert row_label({"method": "model", "train_lang": "ru"}) == "MODEL+SUP"
    assert row_label({"method": "model", "train_lang": "all"}) == "MODEL+SUP-ALL"
    assert row_label({"method": "model", "train_lang": "ru", "translate": "demo"}) == "TRANS-TRAIN"


def test_training_data_per_baseline(corpus):
    sup = training_data(corpus, "ru", ["en"], 6, allow_fewer=False)
    assert list(sup.train) == ["ru"] and list(sup.evaluation) == ["en", "ru"]  # SUP is judged on its language
    sup_all = training_data(corpus, "all", ["en"], 6, allow_fewer=False)
    assert sorted(sup_all.train) == sorted(corpus.languages()) and list(sup_all.evaluation) == ["en"]
    # TRANS-TRAIN with the demo's translator: the English split translated is ru's own split, exactly.
    trans = training_data(corpus, "ru", ["en"], 6, allow_fewer=False, translator=DemoTranslator(corpus))
    assert trans.train["ru"] == corpus.examples("ru", "train")
    with pytest.raises(XgenError, match="set train_lang to one target language"):
        training_data(corpus, "all", ["en"], 6, allow_fewer=False, translator=DemoTranslator(corpus))


def _corpus_without_ru_train(root, corpus):
    for lang, splits in {"en": ("train", "validation"), "ru": ("validation",)}.items():
        (root / lang).mkdir(parents=True)
        for split in splits:
            shutil.copy(corpus.location(lang, split), root / lang / f"{split}.jsonl")
    return root


def test_a_language_without_a_training_split_is_one_line_naming_it_and_the_file(xgen, corpus, tmp_path):
    root = _corpus_without_ru_train(tmp_path / "corpus", corpus)
    with pytest.raises(XgenError, match="train_lang=all trains on ru's training split, but .*ru/train.jsonl is missing"):
        training_languages(JsonlCorpus(root), "all")
    out = xgen("train", "data=jsonl", f"data.corpus.path={root}", "data.eval_langs=[en,ru]", "data.eval_examples=2",
               "train_lang=ru", f"hydra.run.dir={tmp_path / 'run'}", check=False)
    errors = [line for line in out.stderr.splitlines() if "error" in line]
    assert out.returncode == 2 and len(errors) == 1 and out.stderr.endswith(errors[0] + "\n"), out.stderr
    assert f"trains on ru's training split, but {root / 'ru' / 'train.jsonl'} is missing" in out.stderr
    assert not (tmp_path / "run").exists()  # refused before Hydra made the run's folder
    # A language the corpus lacks altogether: the same line, naming the file it would read.
    out = xgen("train", "data=jsonl", f"data.corpus.path={root}", "data.eval_langs=[en]", "data.eval_examples=2",
               "train_lang=sw", f"hydra.run.dir={tmp_path / 'run'}", check=False)
    assert out.returncode == 2 and f"but {root / 'sw' / 'train.jsonl'} is missing" in out.stderr, out.stderr
    assert not (tmp_path / "run").exists()


# ---- translators

def test_demo_translator_is_exact_on_examples_and_on_summaries(corpus):
    translator = DemoTranslator(corpus)
    en, ru, th = (corpus.examples(lang, "validation") for lang in ("en", "ru", "th"))
    assert translator.examples(ru, "ru", "en", "validation") == en
    for target, references in (("ru", ru), ("th", th)):
        # A model writes the headings on one line (SentencePiece drops newlines): one per line again.
        flat = [e.summary.replace("\n", " ") for e in en]
        assert translator.texts(flat, [e.id for e in en], "en", target, "validation") == [e.summary for e in references]
    assert translator.texts(["Clean the window with soap and water. xyz"], ["a"], "en", "ru", "validation") == \
        ["Очистите окно с помощью воды и мыла.\nxyz"]  # words outside the lexicon stay as they are
    with pytest.raises(XgenError, match=r"ru/validation.jsonl has no translation for id 'nope'"):
        translator.examples([en[0].__class__("nope", "en", "a", "b")], "en", "ru", "validation")


def test_file_translator_names_the_file_and_the_missing_id(tmp_path, corpus):
    en = corpus.examples("en", "train")[:3]
    _write_jsonl(tmp_path / "en-ru" / "train.jsonl", [{"id": e.id, "article": f"ru {e.article}", "summary": f"ru {e.summary}"}
                                                      for e in reversed(en)])
    (tmp_path / "en-ru" / "validation.texts.jsonl").write_text(json.dumps({"id": "a", "text": "перевод"}) + "\n")
    translator = FileTranslator(tmp_path)
    assert translator.examples(en, "en", "ru", "train") == [
        e.__class__(e.id, "ru", f"ru {e.article}", f"ru {e.summary}") for e in en]  # by id, in the asked order
    with pytest.raises(XgenError, match=r"en-ru/train.jsonl has no translation for id 'demo-train-000003'"):
        translator.examples(corpus.examples("en", "train")[:4], "en", "ru", "train")
    assert translator.texts(["translation"], ["a"], "en", "ru", "validation") == ["перевод"]
    with pytest.raises(XgenError, match=r"en-ru/validation.texts.jsonl has no translation for id 'b': add a line"):
        translator.texts(["x", "y"], ["a", "b"], "en", "ru", "validation")
    with pytest.raises(XgenError, match=r"en-th/validation.texts.jsonl is missing"):
        translator.texts(["x"], ["a"], "en", "th", "validation")


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory):
    """A random-weight Marian model with a SentencePiece tokenizer built here (no hub)."""
    sentencepiece = pytest.importorskip("sentencepiece")
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder = tmp_path_factory.mktemp("marian")
    text = ["Clean the window with soap and water.", "Очистите окно с помощью воды и мыла.", "Dry the glass."] * 30
    sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(text), model_prefix=str(folder / "sp"),
                                             vocab_size=120, character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    sp = sentencepiece.SentencePieceProcessor(model_file=str(folder / "sp.model"))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())} | {"<pad>": sp.get_piece_size()}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = MarianTokenizer(source_spm=str(folder / "sp.model"), target_spm=str(folder / "sp.model"),
                                vocab=str(folder / "vocab.json"), model_max_length=64)  # = its positions
    config = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                          pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"], decoder_start_token_id=vocab["<pad>"])
    model_dir = folder / "opus-mt-en-ru"
    MarianMTModel(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return folder


def test_hf_translations_are_reused_from_the_cache(tiny_marian, tmp_path, corpus):
    model_dir = tmp_path / "models"
    shutil.copytree(tiny_marian / "opus-mt-en-ru", model_dir / "opus-mt-en-ru")
    settings = {"name_or_path": str(model_dir / "opus-mt-{src}-{tgt}"), "cache_dir": str(tmp_path / "cache"),
                "num_beams": 2, "max_new_tokens": 6}
    texts = ["Clean the window.", "Dry the glass.", "Clean the window."]
    first = HfTranslator(**settings).texts(texts, None, "en", "ru", "validation")
    assert len(first) == 3 and first[0] == first[2] and all(isinstance(t, str) for t in first)
    examples = corpus.examples("en", "validation")[:2]
    translated = HfTranslator(**settings).examples(examples, "en", "ru", "validation")
    assert [e.id for e in translated] == [e.id for e in examples] and {e.lang for e in translated} == {"ru"}
    cached = [json.loads(line) for line in next((tmp_path / "cache" / "translations").glob("hf-*/en-ru/validation.jsonl"))
              .read_text().splitlines()]
    assert {"Clean the window.", "Dry the glass.", examples[0].article} <= {r["source"] for r in cached}
    # The model is gone: only the cache can answer, for a new translator of the same settings.
    shutil.rmtree(model_dir)
    again = HfTranslator(**settings)
    assert again.texts(texts, None, "en", "ru", "validation") == first
    assert again.examples(examples, "en", "ru", "validation") == translated
    with pytest.raises(XgenError, match="cannot be loaded"):
        again.texts(["A text never translated."], None, "en", "ru", "validation")


# ---- TRANS-TEST through the real entry point

def test_trans_test_needs_a_run_and_a_translator(xgen, tmp_path):
    out = xgen("eval", "baseline=trans_test", f"hydra.run.dir={tmp_path / 'x'}", check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "add run=<its run dir>" in out.stderr and "add translate=demo" in out.stderr

def test_trans_test_scores_the_back_translated_summaries(xgen, tmp_path):
    """With translate=file, the summaries "translated back" are the ru references themselves: TRANS-TEST
    scores 100 on them, whatever the English run wrote (its own summaries are kept beside them)."""
    english = tmp_path / "english"
    xgen("train", "method=prompt", "method.prompt_length=4", *MICRO_RUN, f"hydra.run.dir={english}")
    en, ru = generate_split("en", "validation", 6), generate_split("ru", "validation", 6)  # MICRO_RUN's 6
    tr = tmp_path / "translations"
    _write_jsonl(tr / "ru-en" / "validation.jsonl", [{"id": e.id, "article": e.article, "summary": e.summary} for e in en])
    _write_jsonl(tr / "en-ru" / "validation.texts.jsonl", [{"id": e.id, "text": e.summary} for e in ru])
    args = ("eval", "baseline=trans_test", f"run={english}", "translate=file", f"translate.path={tr}", "langs=[ru]",
            *MICRO_MODEL)
    xgen(*args, f"hydra.run.dir={tmp_path / 'tt'}")
    (row,) = [json.loads(line) for line in (tmp_path / "tt" / "metrics.jsonl").read_text().splitlines()]
    assert row["lang"] == "ru" and row["sp_rouge"] == pytest.approx(100.0)
    predictions = [json.loads(line) for line in (tmp_path / "tt" / "predictions" / "step=4" / "ru.jsonl").read_text().splitlines()]
    assert [p["prediction"] for p in predictions] == [e.summary for e in ru]
    english_out = [json.loads(line) for line in (english / "predictions" / "step=4" / "en.jsonl").read_text().splitlines()]
    assert [p["source_prediction"] for p in predictions] == [p["prediction"] for p in english_out]  # the run's, on en
    # What a translate=file user translates back: the run's English summaries, keyed by id.
    written = [json.loads(line) for line in (tmp_path / "tt" / "translate" / "ru.en.jsonl").read_text().splitlines()]
    assert written == [{"id": e.id, "text": p["prediction"]} for e, p in zip(ru, english_out, strict=True)]
    identity = json.loads((tmp_path / "tt" / "run.json").read_text())["identity"]
    assert (identity["baseline"], identity["model"], identity["seed"], identity["translate"]) == ("TRANS-TEST", "tiny", 0, "file")
    table = xgen("table", f"runs=[{english},{tmp_path / 'tt'}]", "table=baselines", "significance=false").stdout
    assert "| TRANS-TEST | TINY |    100.0 |" in table, table  # at the size of the run it went through


def test_sup_all_with_factorized_prompts_is_refused_in_one_line(tmp_path):
    from hydra import compose, initialize_config_dir

    from xgen_cli.commands._app import CONF_DIR
    from xgen_cli.config_checks import train_problems

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["method=fp", f"method.stage1={tmp_path}", "train_lang=all"])
    assert train_problems(cfg) == [
        "method=fp trains one task sub-prompt behind one language's sub-prompt, so train_lang=all (SUP-ALL) has no "
        "sub-prompt to train behind: use method=prompt or method=model for SUP-ALL"]
