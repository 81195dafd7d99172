"""Scores a user can trust as they meet them (issue 23), through the real `xgen` entry point:
a predictions file is scored only against the corpus split it claims, every table form marks
degenerate cells by one rule, and build logs print byte-fallback shares that small shares can be
told apart by."""

from __future__ import annotations

import json
import re

import pytest
from conftest import MICRO_MODEL
from run_folders import baseline_identity, identity, write_run
from test_significance import WORDS, spm  # noqa: F401 (spm: a SentencePiece model fixture)

from xgen_cli.modeling.tiny import percent
from xgen_cli.runs.summary import degenerate_footnote, is_degenerate

# ---- xgen eval predictions=<file> lang=<xx>: checked against the corpus split it claims


def _summary(i: int, offset: int) -> str:
    return " ".join(WORDS[(i * 3 + offset + k) % len(WORDS)] for k in range(6))


@pytest.fixture
def corpus(tmp_path):
    """fr and en validation (ids v0-v3, parallel: the same ids, other summaries) and fr test (t0-t3)."""
    root = tmp_path / "corpus"
    for lang, split, prefix, offset in (("fr", "validation", "v", 0), ("en", "validation", "v", 1),
                                        ("fr", "test", "t", 2)):
        (root / lang).mkdir(parents=True, exist_ok=True)
        rows = [{"id": f"{prefix}{i}", "article": f"article {i}", "summary": _summary(i, offset)} for i in range(4)]
        (root / lang / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def _rows(corpus, lang: str, split: str = "validation") -> list[dict]:
    return [json.loads(line) for line in (corpus / lang / f"{split}.jsonl").read_text().splitlines()]


def _eval(xgen, tmp_path, corpus, spm, lines: list[dict], *args: str):  # noqa: F811
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return xgen("eval", f"predictions={predictions}", "lang=fr", "data=jsonl", f"data.corpus.path={corpus}",
                f"metrics.spm_model={spm}", f"hydra.run.dir={tmp_path}/run", *args, check=False)


def _refused(proc, tmp_path, expected: str) -> None:
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and expected in proc.stderr, proc.stderr
    assert not (tmp_path / "run").exists()  # refused before Hydra made the run folder


def _scored(proc, tmp_path) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads((tmp_path / "run" / "summary.json").read_text())["select"]["last"]["fr"]


def test_a_file_of_another_split_is_refused_naming_the_unknown_ids(xgen, tmp_path, corpus, spm):  # noqa: F811
    lines = [{"id": r["id"], "prediction": r["summary"], "reference": r["summary"]} for r in _rows(corpus, "fr", "test")]
    proc = _eval(xgen, tmp_path, corpus, spm, lines)
    _refused(proc, tmp_path, f"4 of the 4 ids of {tmp_path}/predictions.jsonl are not in the fr validation split "
                             f"({corpus}/fr/validation.jsonl) (first: 't0'): score the file with the data=, lang= "
                             "and split= it was predicted for")
    assert _scored(_eval(xgen, tmp_path, corpus, spm, lines, "split=test"), tmp_path)["sp_rouge"] == 100.0


def test_a_file_of_another_language_is_refused_naming_the_references_that_differ(xgen, tmp_path, corpus, spm):  # noqa: F811
    # The ids are parallel across languages: only the references give an English file away.
    lines = [{"id": r["id"], "prediction": r["summary"], "reference": r["summary"]} for r in _rows(corpus, "en")]
    lines[0]["reference"] = _rows(corpus, "fr")[0]["summary"]
    proc = _eval(xgen, tmp_path, corpus, spm, lines)
    _refused(proc, tmp_path, "3 of the 4 references of")
    assert "differ from those of the fr validation split" in proc.stderr and "(first: id 'v1')" in proc.stderr


@pytest.mark.parametrize("lines, expected", [
    ([{"prediction": "a"}, {"prediction": "b"}],
     "has no ids and 2 lines, the fr validation split"),
    ([{"id": "v0", "prediction": "a"}, {"prediction": "b"}],
     'line 2 has no string "id" (1 such line(s)) where others have one'),
    ([{"id": "v0", "prediction": "a"}, {"id": "v0", "prediction": "b"}],
     "repeats 1 id(s): give each example of the split one line"),
    ([{"id": "v0", "reference": "a"}],
     "line 1 lacks a string field prediction"),
])
def test_a_file_the_split_cannot_pair_is_refused_with_counts(xgen, tmp_path, corpus, spm, lines, expected):  # noqa: F811
    proc = _eval(xgen, tmp_path, corpus, spm, lines)
    _refused(proc, tmp_path, expected)
    if "no ids" in expected:
        assert "has 4 examples: give each line the \"id\" of its example" in proc.stderr


def test_a_file_without_references_is_scored_against_the_corpus_by_id(xgen, tmp_path, corpus, spm):  # noqa: F811
    fr = {r["id"]: r["summary"] for r in _rows(corpus, "fr")}
    lines = [{"id": "v3", "prediction": fr["v3"]}, {"id": "v1", "prediction": fr["v1"]}]  # a subset, out of order
    proc = _eval(xgen, tmp_path, corpus, spm, lines)
    entry = _scored(proc, tmp_path)
    assert entry["sp_rouge"] == 100.0 and entry["n"] == 2
    assert "2 predictions scored against the references of 2 of the 4 examples of the fr validation split" in proc.stderr


def test_a_file_without_ids_is_paired_by_position_when_it_covers_the_split(xgen, tmp_path, corpus, spm):  # noqa: F811
    fr = [r["summary"] for r in _rows(corpus, "fr")]
    assert _scored(_eval(xgen, tmp_path, corpus, spm, [{"prediction": s} for s in fr]), tmp_path)["sp_rouge"] == 100.0


def test_a_file_is_never_scored_against_its_own_references(xgen, tmp_path, corpus, spm):  # noqa: F811
    # English predictions with no references: scored against the French ones, not a perfect 100.
    lines = [{"id": r["id"], "prediction": r["summary"]} for r in _rows(corpus, "en")]
    assert _scored(_eval(xgen, tmp_path, corpus, spm, lines), tmp_path)["sp_rouge"] < 100.0


# ---- degenerate cells: one rule, one mark, one footnote, in every table form

def test_the_degenerate_rule_and_its_limits():
    assert is_degenerate(6.7, 0.0) and is_degenerate(100.0, 20.1)
    assert not is_degenerate(50.0, 20.0) and not is_degenerate(None, None) and not is_degenerate(float("nan"), 0.0)
    assert not is_degenerate(6.7, 0.0, min_distinct=5.0) and is_degenerate(60.0, 0.0, min_distinct=70.0)


@pytest.fixture
def degenerate_runs(tmp_path):
    """MODEL's FR: 6.7% distinct (SP-RG 11.8, LID 78.4, as issue 23 met it); PROMPT's RU: 25% empty."""
    write_run(tmp_path / "model", identity(model="tiny", method="model"),
              {"en": 30.0, "fr": {"sp_rouge": 11.8, "lid_target": 78.4, "distinct": 6.7}, "ru": 20.0})
    write_run(tmp_path / "prompt", identity(model="tiny"), {"en": 28.0, "fr": 25.0, "ru": {"sp_rouge": 9.5, "empty": 25.0}})
    write_run(tmp_path / "lead64", baseline_identity(), {"en": 20.7, "fr": 18.9, "ru": 16.5}, step=0)
    return tmp_path


def _block_row(out: str, block: str, label: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [block])
    return next(line for line in lines[start:] if line.startswith(label)).split()[len(label.split()):]


def test_the_default_blocks_mark_degenerate_cells(xgen, degenerate_runs):
    out = xgen("table", f"runs=[{degenerate_runs}]").stdout
    assert _block_row(out, "SP-RG", "MODEL tiny s0") == ["30.0", "11.8§", "20.0"]
    assert _block_row(out, "LID_XX", "MODEL tiny s0") == ["90.0", "78.4§", "90.0"]
    assert _block_row(out, "SP-RG", "PROMPT tiny s0") == ["28.0", "25.0", "9.5§"]
    assert _block_row(out, "SP-RG", "LEAD-64") == ["20.7", "18.9", "16.5"]
    assert degenerate_footnote() in out.splitlines()
    limits = ("degenerate.min_distinct=5", "degenerate.max_empty=30")
    assert "§" not in xgen("table", f"runs=[{degenerate_runs}]", *limits).stdout


@pytest.mark.parametrize("fmt, marked", [("md", "11.8§"), ("latex", r"11.8\S{}"), ("csv", "11.8000,,1,§"),
                                         ("html", "11.8<sup>§</sup>")])
def test_every_preset_format_marks_the_same_cells(xgen, degenerate_runs, fmt, marked):
    pivot = ("table=pivot", "rows=[method]", "cols=[lang]", "metric=sp_rouge", f"format={fmt}")
    out = xgen("table", f"runs=[{degenerate_runs}]", *pivot).stdout
    assert marked in out and out.count("§" if fmt != "latex" else r"\S{}") == 3  # MODEL FR, PROMPT RU, the note
    assert "made degenerate predictions (distinct" in out  # the footnote, in the format's own escaping
    limits = ("degenerate.min_distinct=5", "degenerate.max_empty=30")
    assert "degenerate predictions" not in xgen("table", f"runs=[{degenerate_runs}]", *pivot, *limits).stdout


# ---- build logs: byte-fallback shares that tell 0.01% from 0.04%

def test_small_shares_keep_two_significant_digits():
    assert [percent(s) for s in (0.0001, 0.0004, 0.00042, 0.0)] == ["0.010%", "0.040%", "0.042%", "0%"]
    assert [percent(s) for s in (0.014, 0.208, 0.996, 1.0)] == ["1.4%", "20.8%", "99.6%", "100.0%"]


def test_the_build_log_prints_each_share_as_the_build_file_stores_it(xgen, tmp_path):
    proc = xgen("pretrain", "model=tiny", *MICRO_MODEL, f"hydra.run.dir={tmp_path}/run",
                env={"XGEN_CACHE": str(tmp_path / "cache")})  # a fresh cache: the build runs and logs
    logged = dict(re.findall(r"(\w+) [\d,]+ chars ([\d.]+%)", proc.stderr.split("byte-fallback share")[1].splitlines()[0]))
    build = json.loads(next((tmp_path / "cache" / "backbones").glob("*/xgen_build.json")).read_text())
    assert logged == {lang: percent(s["byte_fallback"]) for lang, s in build["languages"].items()}
    assert any(0 < s["byte_fallback"] < 0.001 for s in build["languages"].values())  # what one decimal printed as 0.0%
