"""`model=tiny` built on the user's corpus: a vocabulary that spells every script of it as real pieces
(not UTF-8 bytes), found again by `xgen train` on the same corpus, and not the demo's."""

from __future__ import annotations

import json
import re

import pytest
from conftest import MICRO_MODEL, REPO
from multiscript_corpus import write_corpus

from xgen_cli.data.corpus import jsonl
from xgen_cli.modeling.tiny import balanced_sample
from xgen_cli.modeling.vocabulary import byte_fallback_share

KANA = re.compile(r"[\u3040-\u30ff]")  # hiragana and katakana: in the Japanese text, nowhere in the demo's
UKRAINIAN = re.compile(r"[іїєґ]")  # Cyrillic letters Ukrainian has and Russian (the demo's Cyrillic) lacks
OWN_MODEL = [*MICRO_MODEL, "model.build.pretrain.batch_size=8"]  # a cheaper build; train must name it alike


def test_balanced_sample_gives_every_language_the_same_characters():
    texts = {"big": ["a" * 10] * 50, "small": ["bb", "cccc"], "mid": ["d" * 7] * 5}
    sample = balanced_sample(texts, chars_per_lang=100)
    assert {lang: sum(map(len, t)) for lang, t in sample.items()} == {"big": 100, "small": 102, "mid": 105}
    assert sample["small"][:4] == ["bb", "cccc", "bb", "cccc"]  # a small language is cycled through again
    # Under the cap, the largest language's total sets the budget: nothing of it is repeated.
    sample = balanced_sample({"big": ["a" * 10] * 3, "small": ["b" * 4]}, chars_per_lang=1000)
    assert sample == {"big": ["a" * 10] * 3, "small": ["b" * 4] * 8}


def test_more_characters_than_the_vocabulary_holds_is_one_line_naming_the_knobs(tmp_path):
    from xgen_cli.errors import XgenError
    from xgen_cli.modeling.vocabulary import train_sentencepiece

    texts = ["".join(chr(0x4E00 + (i * 7 + j) % 600) for j in range(50)) for i in range(200)]  # 600 CJK characters
    with pytest.raises(XgenError, match=r"Vocabulary size is smaller than required_chars.*model.build.vocab_size") as error:
        train_sentencepiece(texts, tmp_path, vocab_size=500, character_coverage=1.0)
    assert "\n" not in str(error.value)


def _folder(proc) -> str:
    return proc.stdout.split("tiny backbone: ", 1)[1].splitlines()[0]


def _pieces(folder: str) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=f"{folder}/spiece.model")
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("multiscript"), n_train=24, n_validation=8, n_unlabeled=200)


def test_tiny_builds_on_the_corpus_given_and_train_finds_that_build(xgen, corpus, tmp_path):
    own = xgen("pretrain", "model=tiny", "data=jsonl", f"data.corpus.path={corpus}", *OWN_MODEL)
    folder = _folder(own)
    demo = _folder(xgen("pretrain", "model=tiny", *MICRO_MODEL))  # the default corpus: built by other tests too
    assert folder != demo

    # Every script of the corpus is spelled by real pieces, on held-out text (validation articles are not
    # in the sample); the demo's vocabulary spells Japanese byte by byte.
    shares = {}
    for lang in ("en", "uk", "ja"):
        articles = [e.article for e in jsonl(str(corpus)).examples(lang, "validation")]
        shares[lang] = (byte_fallback_share(f"{demo}/spiece.model", articles),
                        byte_fallback_share(f"{folder}/spiece.model", articles))
        assert shares[lang][1] < 0.10, shares
    assert shares["ja"][0] > 0.5, shares
    built = json.loads(open(f"{folder}/xgen_build.json", encoding="utf-8").read())
    assert set(built["languages"]) == {"en", "uk", "ja"}
    # Pieces only this corpus has: kana and Ukrainian letters, which the demo's text (hence its build) lacks.
    assert any(KANA.search(p) for p in _pieces(folder)) and any(UKRAINIAN.search(p) for p in _pieces(folder))
    assert not any(KANA.search(p) or UKRAINIAN.search(p) for p in _pieces(demo))

    # Adapting that checkpoint (model=tiny with model.name_or_path): prefix LM on the corpus, same vocabulary.
    adapt = tmp_path / "adapt"
    xgen("pretrain", "model=tiny", f"model.name_or_path={folder}", "data=jsonl", f"data.corpus.path={corpus}",
         "data.eval_langs=[uk,ja]", "objective.steps=1", "objective.batch_size=4", "objective.max_tokens=32",
         f"hydra.run.dir={adapt}")
    assert (adapt / "backbone" / "spiece.model").read_bytes() == open(f"{folder}/spiece.model", "rb").read()
    assert (adapt / "backbone" / "model.safetensors").read_bytes() != open(f"{folder}/model.safetensors", "rb").read()

    # `xgen train` on the same corpus finds that backbone (same cache key, no second build).
    run = tmp_path / "run"
    proc = xgen("train", "method=prompt", "data=jsonl", f"data.corpus.path={corpus}", "data.eval_langs=[ja]",
                "data.eval_examples=2", "steps=1", "eval_every=1", "batch_size=4", "max_new_tokens=4",
                "eval.num_beams=1", *OWN_MODEL, f"hydra.run.dir={run}")
    assert "[tiny] building" not in proc.stderr
    assert json.loads((run / "summary.json").read_text())["training"]["backbone"] == folder


def test_pretrain_help_lists_only_the_groups_it_composes(xgen):
    help_text = xgen("pretrain", "--help").stdout
    groups = help_text.split("== Configuration groups ==", 1)[1].split("== Config ==", 1)[0]
    listed = {line.split(":", 1)[0] for line in groups.splitlines() if ": " in line}
    assert listed == {"model", "data", "trainer", "objective", "unlabeled"}
    models = sorted(p.stem for p in (REPO / "conf" / "model").glob("*.yaml"))
    assert {"small", "tiny", "umt5_small", "mt0_xxl"} <= set(models)
    assert f"model: {', '.join(models)}" in groups
