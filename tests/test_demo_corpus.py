"""data=demo: the seeded, parallel how-to corpus (xgen_cli/data/demo.py)."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from xgen_cli.data import demo
from xgen_cli.data.demo import DEMO_LANGS, generate_split, generate_unlabeled, write_demo_corpus
from xgen_cli.data.demo_lexicon import ACTIONS, OBJECTS, TOPICS
from xgen_cli.errors import XgenError


def test_languages_cover_three_scripts():
    assert {"en", "fr", "ru", "vi", "th"} <= set(DEMO_LANGS)


def test_same_seed_same_corpus_other_seed_other_corpus():
    a = generate_split("fr", "train", 30, seed=0)
    assert a == generate_split("fr", "train", 30, seed=0)
    assert [e.article for e in a] != [e.article for e in generate_split("fr", "train", 30, seed=1)]
    assert generate_unlabeled("ru", 10, seed=3) == generate_unlabeled("ru", 10, seed=3)
    assert generate_unlabeled("ru", 10, seed=3) != generate_unlabeled("ru", 10, seed=4)


def test_splits_are_independent_streams_and_prefixes_are_stable():
    train = generate_split("en", "train", 20)
    assert [e.article for e in train] != [e.article for e in generate_split("en", "validation", 20)]
    assert [e.article for e in train] != generate_unlabeled("en", 20)
    # asking for more examples never changes the first ones
    assert generate_split("en", "train", 40)[:20] == train


def test_parallel_ids_and_step_counts():
    by_lang = {lang: generate_split(lang, "validation", 100) for lang in DEMO_LANGS}
    ids = [e.id for e in by_lang["en"]]
    assert ids[0] == "demo-validation-000000" and ids[42] == "demo-validation-000042"
    for lang, examples in by_lang.items():
        assert [e.id for e in examples] == ids
        assert all(e.lang == lang for e in examples)
    for i in range(100):
        counts = {lang: len(by_lang[lang][i].summary.split("\n")) for lang in DEMO_LANGS}
        assert len(set(counts.values())) == 1, counts
        assert 3 <= counts["en"] <= 6
        assert len({by_lang[lang][i].article for lang in DEMO_LANGS}) == len(DEMO_LANGS)  # really translated


def test_headings_never_appear_verbatim_in_the_body():
    for lang in DEMO_LANGS:
        for e in generate_split(lang, "test", 300):
            article = e.article.lower()
            assert "\n" not in e.article  # the article is one paragraph, headings are not in it
            for heading in e.summary.split("\n"):
                assert heading.strip() and heading.lower().rstrip(".") not in article, (lang, heading, e.article)


def test_heading_punctuation_is_consistent_per_language():
    for lang in DEMO_LANGS:
        for e in generate_split(lang, "train", 50):
            for heading in e.summary.split("\n"):
                if lang == "th":
                    assert not heading.endswith(".") and " " not in heading
                else:
                    assert heading.endswith(".") and heading[0].isupper()
    # Thai and Russian stay in their script (the ASCII metric would flag Latin letters)
    for lang in ("th", "ru"):
        for e in generate_split(lang, "train", 200):
            assert not re.search("[A-Za-z]", e.article + e.summary), e


def test_cld3_recognises_every_language():
    gcld3 = pytest.importorskip("gcld3")
    detector = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)
    for lang in DEMO_LANGS:
        examples = generate_split(lang, "validation", 20)
        for field in ("article", "summary"):  # LID is scored on summaries (predictions), so check both
            results = [detector.FindLanguage(getattr(e, field)) for e in examples]
            assert all(r.language == lang for r in results), (lang, field, [r.language for r in results])
            assert statistics.mean(r.probability for r in results) > 0.9, (lang, field)


def test_vocabulary_stays_small():
    words = set()
    for e in generate_split("en", "train", 2000):
        words.update(e.article.split())
        words.update(e.summary.split())
    assert len(words) < 1500


def _rendered(lang: str, action: dict, template: int) -> set[str]:
    return {action[lang][template].format(**demo.object_forms(action["topic"], i, lang))
            for i in range(len(OBJECTS[action["topic"]]))}


def test_each_body_paraphrase_cues_exactly_one_action():
    """The map body sentence -> action (hence heading) is a function: headings are inferable."""
    assert {a["topic"] for a in ACTIONS} == set(TOPICS)
    assert len({a["key"] for a in ACTIONS}) == len(ACTIONS) == 40
    for lang in DEMO_LANGS:
        owner: dict[str, str] = {}
        for action in ACTIONS:
            assert len(action[lang]) == 4, (action["key"], lang)
            bodies = [_rendered(lang, action, t) for t in (1, 2, 3)]
            assert not (bodies[0] & bodies[1] or bodies[0] & bodies[2] or bodies[1] & bodies[2])
            for sentence in set().union(*bodies):
                assert owner.setdefault(sentence, action["key"]) == action["key"], (lang, sentence)
        headings = {h for a in ACTIONS for h in _rendered(lang, a, 0)}
        assert not headings & set(owner), lang


def test_each_body_paraphrase_names_its_object():
    # The object noun is copied from body to heading; a stem check suffices for Russian cases.
    for action in ACTIONS:
        for i, row in enumerate(OBJECTS[action["topic"]]):
            _key, en, fr, es, de, ru, vi, th = row
            nouns = {"en": en.removeprefix("the "), "fr": re.sub(r"^(le |la |l')", "", fr), "es": es.split(" ", 1)[1],
                     "de": de[0].split(" ", 1)[1], "ru": ru[0].split()[-1][:3], "vi": vi, "th": th}
            for lang, noun in nouns.items():
                forms = demo.object_forms(action["topic"], i, lang)
                for template in action[lang][1:]:
                    assert noun in template.format(**forms), (lang, template, noun)


def test_unlabeled_text_is_in_the_language():
    docs = generate_unlabeled("vi", 5)
    assert len(docs) == 5 and all(isinstance(d, str) and d.strip() for d in docs)
    assert all(len(d.split("\n")) >= 4 for d in docs)  # article paragraph + 3..6 heading lines


def test_unknown_language_is_a_one_line_error():
    for call in (lambda: generate_split("xx", "train", 1), lambda: generate_unlabeled("xx", 1)):
        with pytest.raises(XgenError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and "'xx'" in message and all(lang in message for lang in DEMO_LANGS)
    with pytest.raises(XgenError, match="split"):
        generate_split("en", "dev", 1)


def test_write_demo_corpus_writes_parallel_jsonl(tmp_path):
    counts = write_demo_corpus(tmp_path, langs=("en", "th"), n_train=7, n_validation=3, n_test=4, n_unlabeled=5, seed=2)
    expected = {"train": 7, "validation": 3, "test": 4, "unlabeled": 5}
    assert counts == {"en": expected, "th": expected}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en", "th"]
    for lang in ("en", "th"):
        files = sorted(p.name for p in (tmp_path / lang).iterdir())
        assert files == ["test.jsonl", "train.jsonl", "unlabeled.jsonl", "validation.jsonl"]  # no temp files left
        for split in ("train", "validation", "test"):
            lines = (tmp_path / lang / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
            rows = [json.loads(line) for line in lines]
            assert rows == [e.to_json() for e in generate_split(lang, split, expected[split], seed=2)]
        text = (tmp_path / lang / "unlabeled.jsonl").read_text(encoding="utf-8")
        assert [json.loads(line)["text"] for line in text.splitlines()] == generate_unlabeled(lang, 5, seed=2)
    assert "\\u" not in (tmp_path / "th" / "train.jsonl").read_text(encoding="utf-8")  # ensure_ascii=False
    # rewriting replaces the files in place
    assert write_demo_corpus(tmp_path, langs=("en",), n_train=2, n_validation=1, n_test=1, n_unlabeled=1)["en"]["train"] == 2
    assert len((tmp_path / "en" / "train.jsonl").read_text().splitlines()) == 2


def test_write_demo_corpus_rejects_unknown_language_before_writing(tmp_path):
    with pytest.raises(XgenError):
        write_demo_corpus(tmp_path / "out", langs=("en", "zz"), n_train=1, n_validation=1, n_test=1, n_unlabeled=1)
    assert not (tmp_path / "out").exists()
