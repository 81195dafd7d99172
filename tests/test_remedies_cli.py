"""Mixing and intermediate tuning through the real CLI, and the hub loaders on local fixtures laid out
as the hub publishes them (mC4's JSON files, gigaword's parquet export)."""

from __future__ import annotations

import json

import pytest
from conftest import MICRO_RUN
from fixtures.hub import publishers

from xgen_cli.data.hub import HubPairs, HubText
from xgen_cli.errors import XgenError
from xgen_cli.runs.table import method_label


def _rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_mixing_records_its_draws_and_identity(xgen, tmp_path):
    xgen("train", "method=prompt", "method.prompt_length=4", "mixing=unsup", "mixing.rate=0.25", *MICRO_RUN,
         f"hydra.run.dir={tmp_path}")
    summary = json.loads((tmp_path / "summary.json").read_text())
    draws = summary["training"]["draws"]
    assert set(draws) == {"summarize/en", "span_corruption/ru", "span_corruption/th"}  # targets: eval langs but en
    assert sum(draws.values()) == 4 * 8 and draws["span_corruption/ru"] + draws["span_corruption/th"] > 0
    identity = summary["identity"]
    assert (identity["mixing"], identity["mixing_rate"], identity["intermediate"]) == ("unsup", 0.25, "none")
    assert json.loads((tmp_path / "run.json").read_text())["identity"] == identity


def test_mixing_rate_out_of_range_is_refused_before_anything_runs(xgen, tmp_path):
    proc = xgen("train", "mixing=unsup", "mixing.rate=1.5", *MICRO_RUN, f"hydra.run.dir={tmp_path}/run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "mixing.rate=1.5 must be in [0, 1)" in proc.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run" / "run.json").exists()


def test_intermediate_lm_then_main_in_one_run_directory(xgen, tmp_path):
    xgen("train", "method=model", "intermediate=lm", "intermediate.steps=2", "intermediate.eval_every=1",
         "intermediate.validation_docs=4", *MICRO_RUN, f"hydra.run.dir={tmp_path}")
    rows = _rows(tmp_path)
    first = [r for r in rows if r["stage"] == "intermediate"]
    assert {(r["step"], r["lang"]) for r in first} == {(s, lang) for s in (1, 2) for lang in ("ru", "th")}
    assert all(r["loss"] > 0 and r["sp_rouge"] is None and r["n"] == 4 for r in first)
    assert rows.index(first[-1]) < min(i for i, r in enumerate(rows) if r["stage"] == "main")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["stage"] == "main" and {e["step"] for e in summary["select"]["last"].values()} == {4}
    best = summary["training"]["intermediate"]
    losses = {}
    for r in first:
        losses.setdefault(r["step"], []).append(r["loss"])
    assert best["best_step"] == min(losses, key=lambda s: sum(losses[s]))
    assert (tmp_path / "checkpoints" / "intermediate" / "best.ckpt").is_file()
    assert summary["identity"]["intermediate"] == "lm" and summary["identity"]["intermediate_steps"] == 2


@pytest.fixture(scope="module")
def gigaword_export(tmp_path_factory):
    """A local folder laid out as the hub's parquet export of gigaword (tests/fixtures/hub/publishers.py)."""
    return publishers.gigaword(tmp_path_factory.mktemp("gigaword"))


def test_intermediate_gigaword_from_the_parquet_export_layout(xgen, tmp_path, gigaword_export):
    xgen("train", "method=prompt", "method.prompt_length=4", "intermediate=gigaword", "intermediate.steps=2",
         "intermediate.eval_every=2", "intermediate.validation_examples=5", "intermediate.corpus.revision=null",
         f"intermediate.corpus.path={gigaword_export}", *MICRO_RUN, f"hydra.run.dir={tmp_path}")
    first = [r for r in _rows(tmp_path) if r["stage"] == "intermediate"]
    assert [(r["step"], r["lang"], r["n"]) for r in first] == [(2, "en", 5)]


def test_intermediate_source_that_cannot_load_is_one_line(xgen, tmp_path):
    proc = xgen("train", "intermediate=gigaword", f"intermediate.corpus.path={tmp_path}/nowhere",
                "intermediate.corpus.revision=null", *MICRO_RUN, f"hydra.run.dir={tmp_path}/run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "cannot load train pairs" in line and "refs/convert/parquet" in line


def test_hub_text_reads_the_mc4_file_layout(tmp_path):
    publishers.c4_multilingual(tmp_path, langs=("ru",))  # allenai/c4's multilingual/ names (publishers.py)
    source = HubText(path=str(tmp_path), data_files="multilingual/c4-{lang}.tfrecord-00000-*.json.gz",
                     text_field="text", limit=3)
    assert source.unlabeled("ru") == [f"Статья {i} по-русски. (c4-ru.tfrecord-00000-of-04096.json.gz)" for i in range(3)]
    with pytest.raises(XgenError, match="cannot load unlabeled th text"):
        source.unlabeled("th")


def test_hub_pairs_reads_one_split_of_the_parquet_export(gigaword_export):
    pairs = HubPairs(path=str(gigaword_export), data_files="default/{split}/*.parquet", article_field="document",
                     summary_field="summary")
    examples = pairs.examples("en", "validation", limit=4)
    assert [e.summary for e in examples] == [f"council approves budget {i}" for i in range(4)]
    with pytest.raises(XgenError, match="en pairs only"):
        pairs.examples("ru", "validation")


@pytest.mark.parametrize(("identity", "label"), [
    ({"method": "prompt", "mixing": "none", "intermediate": "none"}, "PROMPT"),
    ({"method": "model", "mixing": "unsup", "intermediate": "none"}, "MODEL+MIX-UNSUP"),
    ({"method": "prompt", "mixing": "unsup_all"}, "PROMPT+MIX-UNSUP-ALL"),
    ({"method": "fp", "mixing": "none"}, "PROMPT+FP"),
    ({"method": "fp_en"}, "PROMPT+FP-EN"),
    ({"method": "model", "intermediate": "gigaword"}, "MODEL+IT-GIGAWORD"),
    ({"method": "prompt", "intermediate": "lm"}, "PROMPT+IT-LM"),
])
def test_tables_name_remedies_as_the_paper_does(identity, label):
    assert method_label(identity) == label


def test_demo_headlines_stand_in_for_gigaword():
    from xgen_cli.data.hub import headlines

    source = headlines(demo=True)
    train, validation = source.examples("en", "train", 300), source.examples("en", "validation", 50)
    assert len(train) == 300 and len(validation) == 50
    assert train == source.examples("en", "train", 300)  # seeded
    for e in train:
        assert "\n" not in e.summary and e.summary.lower().rstrip(".") not in e.article.lower()
    with pytest.raises(XgenError, match="English only"):
        source.examples("ru", "train")
