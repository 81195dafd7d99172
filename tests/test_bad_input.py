"""The data half of the bad-input catalogue: every flaw a user's corpus can have gets one line naming
the problem (file:line where there is one) and the fix, a non-zero exit, and no traceback.

Each case is built in tmp_path and checked through the Python API (`load_task_data`, what a training
run calls before building a model, and `JsonlCorpus`); a few also through the real `xgen data` check.
"""

from __future__ import annotations

import json
import re

import pytest
from hydra import compose, initialize_config_dir

from xgen_cli.commands._app import CONF_DIR
from xgen_cli.config_checks import data_problems
from xgen_cli.data.corpus import JsonlCorpus, jsonl, load_task_data
from xgen_cli.errors import XgenError

SKIP_FIX = "or set data.on_bad_line=skip"


def _row(i, **fields):
    return {"id": f"x{i}", "article": f"article {i}", "summary": f"step {i}", **fields}


def _lines(*rows) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in rows)


def _corpus(root, files: dict[str, bytes]):
    """A corpus folder from {"en/train.jsonl": bytes}; en/validation.jsonl gets 3 good lines unless given."""
    files = {"en/validation.jsonl": _lines(*(_row(i) for i in range(3))), **files}
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def _load(root, **kwargs):
    """What a training run reads: English train, English validation (3 examples)."""
    kwargs.setdefault("eval_examples", 3)
    return load_task_data(JsonlCorpus(root, kwargs.pop("on_bad_line", "error")), ["en"],
                          kwargs.pop("eval_langs", ["en"]), **kwargs)


def _error(root, **kwargs) -> str:
    with pytest.raises(XgenError) as info:
        _load(root, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---- Missing folders and files: name what exists ----

def test_missing_corpus_folder_names_a_near_match(tmp_path):
    (tmp_path / "wikilingua").mkdir()
    with pytest.raises(XgenError, match=re.escape(f"data.corpus.path={tmp_path}/wikilinga does not exist "
                                                  f"(did you mean {tmp_path}/wikilingua?): point it at the folder")):
        jsonl(str(tmp_path / "wikilinga"))


def test_missing_corpus_folder_lists_its_parent_when_nothing_is_near(tmp_path):
    (tmp_path / "other").mkdir()
    with pytest.raises(XgenError, match=re.escape(f"does not exist ({tmp_path} holds: other/)")):
        jsonl(str(tmp_path / "corpus" / "en"))


def test_missing_training_language_folder_lists_the_languages(tmp_path):
    _corpus(tmp_path, {"fr/train.jsonl": _lines(_row(0)), "fr/validation.jsonl": _lines(_row(0))})
    (tmp_path / "en" / "validation.jsonl").unlink()
    (tmp_path / "en").rmdir()
    message = _error(tmp_path, eval_langs=["fr"], eval_examples=1)
    assert message == (f"the corpus at {tmp_path} (it has: fr) lacks the training language en: "
                       f"set train_lang to a language it has, or add {tmp_path}/en/train.jsonl")


def test_path_at_a_language_folder_says_to_point_at_its_parent(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0))})
    assert "holds <split>.jsonl itself, so data.corpus.path should be its parent" in _error(tmp_path / "en")


def test_missing_split_file_lists_what_the_language_folder_holds(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0)), "en/valid.jsonl": b""})
    (tmp_path / "en" / "validation.jsonl").unlink()
    assert _error(tmp_path) == (f"{tmp_path}/en/validation.jsonl is missing ({tmp_path}/en holds: train.jsonl, "
                                "valid.jsonl): add it, one JSON object per line")


def test_an_evaluation_language_the_corpus_lacks_lists_what_it_has(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0)), "ru/validation.jsonl": _lines(_row(0))})
    message = _error(tmp_path, eval_langs=["en", "th", "vi"], eval_examples=1)
    assert message == (f"the corpus at {tmp_path} (it has: en, ru) lacks the evaluation languages th, vi: "
                       f"drop th, vi from data.eval_langs, or add {tmp_path}/<lang>/validation.jsonl")


# ---- Bad lines: file:line, the problem, the fix, and the skip option ----

BAD_LINES = {
    "not JSON": (b'{"id": "x1", "article": ', r"not valid JSON \(Expecting value at column 24\): fix or delete that line"),
    "not an object": (b'["x1", "a", "s"]', r"is a list, not a JSON object: write one \{\"id\": \.\.\., \"article\""),
    "lacks a field": ({"id": "x1", "article": "a"},
                      r"lacks summary: every line needs id, article and summary"),
    "lacks fields": ({"text": "a"}, r"lacks id, article and summary: every line needs"),
    "non-string field": (_row(1, summary=["step", "step"]), r"summary is a list, not a string: make summary a JSON string"),
    "null field": (_row(1, article=None), r"article is null, not a string"),
    "empty article": (_row(1, article=""), r"article is empty or only whitespace: fill it in or delete the line"),
    "whitespace summary": (_row(1, summary=" \n\t "), r"summary is empty or only whitespace: fill it in"),
    "empty id": (_row(1, id=""), r"id is empty or only whitespace"),
    "wrong lang": (_row(1, lang="fr"), r"says lang 'fr' but sits in the 'en' corpus: move it to the 'fr' folder"),
    "not UTF-8": (b'{"id": "x1", "article": "caf\xe9", "summary": "s"}',
                  r"not UTF-8 \(byte 0xe9 at position 29\): re-save the file as UTF-8"),
    "lone surrogate": (b'{"id": "x1", "article": "a\\ud83d", "summary": "s"}', r"article holds an unpaired surrogate"),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_line_names_file_line_problem_and_fix(tmp_path, case):
    bad, expected = BAD_LINES[case]
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0)) + b"\n" + _lines(bad, _row(2))})  # line 2 is blank
    message = _error(tmp_path)
    assert re.fullmatch(re.escape(f"{tmp_path}/en/train.jsonl:3: ") + expected + r".*, " + re.escape(SKIP_FIX)
                        + " to skip bad lines and count them", message), message


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_with_skip_the_same_bad_line_is_left_out_and_counted(tmp_path, case):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), BAD_LINES[case][0], _row(2))})
    data = _load(tmp_path, on_bad_line="skip")
    assert [e.id for e in data.train["en"]] == ["x0", "x2"]
    assert data.skipped == {f"{tmp_path}/en/train.jsonl": 1}


def test_non_utf8_is_reported_at_its_own_line_after_a_bom_and_crlf(tmp_path):
    content = b"\xef\xbb\xbf" + json.dumps(_row(0)).encode() + b"\r\n\r\n" + json.dumps(_row(1)).encode() + b"\r\n"
    _corpus(tmp_path, {"en/train.jsonl": content + b'{"id": "x2", "article": "\xff\xfe", "summary": "s"}\r\n'})
    assert _error(tmp_path).startswith(f"{tmp_path}/en/train.jsonl:4: not UTF-8 (byte 0xff at position 26)")


def test_a_utf16_file_is_named_as_such(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": "\ufeff".encode("utf-16-le") + json.dumps(_row(0)).encode("utf-16-le")})
    assert "train.jsonl:1: not UTF-8 (byte 0xff at position 1) (the file looks like UTF-16)" in _error(tmp_path)


def test_many_bad_lines_in_one_file_give_the_first_in_full_and_count_the_rest(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), *[b"oops"] * 8)})
    message = _error(tmp_path)
    assert message.startswith(f"{tmp_path}/en/train.jsonl:2: not valid JSON")
    assert "fix or delete that line (7 more bad lines in this file, at lines 3, 4, 5, 6, 7, ...), or set" in message


def test_duplicate_ids_name_both_lines(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), _row(1), _row(2), _row(1, article="other"))})
    path = f"{tmp_path}/en/train.jsonl"
    assert _error(tmp_path) == (f"{path}:4: id 'x1' is already used at {path}:2: give every example of a split "
                                f"its own id, {SKIP_FIX} to skip bad lines and count them")


def test_the_same_id_in_different_splits_or_languages_is_fine(tmp_path):
    """Parallel ids across languages are the point; train and validation are separate id spaces."""
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), _row(1)), "ru/validation.jsonl": _lines(_row(0))})
    assert len(_load(tmp_path, eval_langs=["en", "ru"], eval_examples=1).evaluation["ru"]) == 1


def test_duplicate_ids_with_skip_keep_the_first(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), _row(0, article="second"))})
    data = _load(tmp_path, on_bad_line="skip")
    assert [e.article for e in data.train["en"]] == ["article 0"]


def test_unlabeled_lines_get_the_same_checks(tmp_path):
    _corpus(tmp_path, {"th/unlabeled.jsonl": _lines({"text": "ok"}, {"text": ""}, {"txt": "x"})})
    with pytest.raises(XgenError, match=r"th/unlabeled\.jsonl:2: text is empty or only whitespace: .*1 more bad line in this file, at lines 3"):
        JsonlCorpus(tmp_path).unlabeled("th")
    assert JsonlCorpus(tmp_path, "skip").unlabeled("th") == ["ok"]


def test_unlabeled_with_neither_file_says_which_to_add(tmp_path):
    _corpus(tmp_path, {})
    with pytest.raises(XgenError, match=r"en holds neither unlabeled\.jsonl nor train\.jsonl .*: add unlabeled\.jsonl"):
        JsonlCorpus(tmp_path).unlabeled("en")


# ---- Sizes: empty training data, fewer evaluation examples than asked ----

@pytest.mark.parametrize("content", [b"", b"\n\r\n  \n"], ids=["empty", "blank lines"])
def test_empty_train_file_is_one_clear_line(tmp_path, content):
    _corpus(tmp_path, {"en/train.jsonl": content})
    assert _error(tmp_path) == f'{tmp_path}/en/train.jsonl holds no examples: add {{"id", "article", "summary"}} lines to it'


def test_train_file_whose_lines_were_all_skipped_says_so(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(b"x", b"y")})
    assert "train.jsonl holds no examples (all 2 of its lines were skipped as bad)" in _error(tmp_path, on_bad_line="skip")


def test_fewer_validation_examples_than_asked_is_an_error_that_says_how_many(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0))})
    assert _error(tmp_path, eval_examples=250) == (
        f"{tmp_path}/en/validation.jsonl has only 3 examples, fewer than data.eval_examples=250: set data.eval_examples=3, "
        "or data.allow_fewer_eval_examples=true to evaluate en on the 3 there are")


def test_allow_fewer_goes_on_with_those_there_are_and_says_so(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0))})
    data = _load(tmp_path, eval_examples=250, allow_fewer=True)
    assert len(data.evaluation["en"]) == 3
    assert data.notes == [f"evaluating en on the 3 examples of {tmp_path}/en/validation.jsonl, fewer than "
                          "data.eval_examples=250 (data.allow_fewer_eval_examples=true)"]


def test_an_empty_validation_file_is_an_error_even_when_fewer_are_allowed(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0)), "en/validation.jsonl": b""})
    assert "validation.jsonl holds no examples" in _error(tmp_path, allow_fewer=True)


def test_every_problem_is_reported_at_once(tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), b"{"), "ru/validation.jsonl": _lines(_row(0), _row(0))})
    message = _error(tmp_path, eval_langs=["en", "ru", "th"], eval_examples=2)
    assert message.startswith("3 corpus problems: (1) the corpus at")
    assert "lacks the evaluation language th" in message
    assert "(2) " + f"{tmp_path}/en/train.jsonl:2: not valid JSON" in message
    assert "(3) " + f"{tmp_path}/ru/validation.jsonl:2: id 'x0' is already used at" in message


# ---- Config values, checked before anything is read ----

def _data_cfg(*overrides):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose("data", overrides=list(overrides))


@pytest.mark.parametrize("path", [None, "null", "''"])
def test_data_jsonl_without_a_path_is_reported_up_front(path):
    cfg = _data_cfg("data=jsonl", *([f"data.corpus.path={path}"] if path else []))
    assert data_problems(cfg) == ["data=jsonl needs the corpus folder: add data.corpus.path=/path/to/corpus"]


def test_bad_reading_values_are_reported_up_front(tmp_path):
    cfg = _data_cfg("data=jsonl", f"data.corpus.path={tmp_path}", "data.on_bad_line=ignore",
                    "data.allow_fewer_eval_examples=maybe", "data.eval_examples=abc")
    assert data_problems(cfg) == [
        "data.on_bad_line=ignore is not one of error, skip: set data.on_bad_line=error (stop at a bad line) "
        "or skip (leave it out, counted)",
        "data.allow_fewer_eval_examples=maybe must be true or false",
        "data.eval_examples=abc must be an integer >= 1 (the paper uses 250)",
    ]


def test_a_missing_local_wikilingua_copy_is_reported_up_front(tmp_path):
    cfg = _data_cfg("data=wikilingua0", f"data.corpus.local_dir={tmp_path}/wl")
    assert data_problems(cfg)[0].startswith(f"data.corpus.local_dir={tmp_path}/wl does not exist")


# ---- Through the real CLI: exit 2, one line on stderr, nothing on stdout, no traceback ----

def _check(xgen, root, *overrides):
    proc = xgen("data", "data=jsonl", f"data.corpus.path={root}", *overrides, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith("xgen data: error: ")
    return line


def test_cli_data_jsonl_without_a_path(xgen):
    proc = xgen("data", "data=jsonl", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == ["xgen data: error: data=jsonl needs the corpus folder: add data.corpus.path=/path/to/corpus"]


def test_cli_data_finds_bad_lines_duplicates_and_sizes_in_every_file(xgen, tmp_path):
    """Empty articles, blank summaries and repeated ids used to pass this check."""
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), _row(1, article="")),
                       "en/test.jsonl": _lines(_row(0), _row(0)),
                       "ru/validation.jsonl": _lines(_row(0, summary="  ")),
                       "ru/train.jsonl": b'{"id": "r", "article": "\xd0", "summary": "s"}\n'})
    line = _check(xgen, tmp_path, "data.eval_langs=[en,th]", "data.eval_examples=5")
    assert line.startswith("xgen data: error: 6 corpus problems: (1) ")
    for part in ["lacks the evaluation language th", f"{tmp_path}/en/train.jsonl:2: article is empty",
                 f"{tmp_path}/en/validation.jsonl has only 3 examples, fewer than data.eval_examples=5",
                 f"{tmp_path}/en/test.jsonl:2: id 'x0' is already used at {tmp_path}/en/test.jsonl:1",
                 f"{tmp_path}/ru/train.jsonl:1: not UTF-8", f"{tmp_path}/ru/validation.jsonl:1: summary is empty"]:
        assert part in line


def test_cli_data_with_skip_and_allow_fewer_prints_counts_and_notes(xgen, tmp_path):
    _corpus(tmp_path, {"en/train.jsonl": _lines(_row(0), b"{", _row(1))})
    proc = xgen("data", "data=jsonl", f"data.corpus.path={tmp_path}", "data.on_bad_line=skip",
                "data.allow_fewer_eval_examples=true")
    assert proc.stdout.splitlines()[2].split() == ["en", "2", "3", "0", "2"]
    assert f"note: skipped 1 bad line (data.on_bad_line=skip): 1 in {tmp_path}/en/train.jsonl (first, line 2: not valid JSON" in proc.stderr
    assert "note: evaluating en on the 3 examples" in proc.stderr


def test_cli_data_missing_folder(xgen, tmp_path):
    assert "does not exist" in _check(xgen, tmp_path / "nope")
