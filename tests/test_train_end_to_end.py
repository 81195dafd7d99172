"""`xgen train` end to end through the real entry point, on the micro tiny backbone."""

from __future__ import annotations

import json

import pytest
from conftest import MICRO_MODEL, MICRO_RUN

from xgen_cli.runs.summary import METRIC_KEYS, SELECTIONS

ROW_KEYS = {"step", "stage", "split", "lang", "n", "loss", *METRIC_KEYS}


@pytest.fixture(scope="module")
def trained(xgen, tmp_path_factory):
    """One finished run per method."""
    runs = {}
    for method in ("model", "prompt"):
        run_dir = tmp_path_factory.mktemp(f"run-{method}")
        proc = xgen("train", f"method={method}", "method.prompt_length=4" if method == "prompt" else "seed=0",
                    *MICRO_RUN, f"hydra.run.dir={run_dir}")
        runs[method] = (run_dir, proc)
    return runs


@pytest.mark.parametrize("method", ["model", "prompt"])
def test_train_writes_metrics_predictions_checkpoints_and_summary(trained, method):
    run_dir, proc = trained[method]
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert {(r["step"], r["lang"]) for r in rows} == {(s, lang) for s in (2, 4) for lang in ("en", "ru", "th")}
    for row in rows:
        assert ROW_KEYS <= set(row), row
        assert row["n"] == 6 and row["stage"] == "main" and row["split"] == "validation"
        assert 0.0 <= row["sp_rouge"] <= 100.0 and row["loss"] > 0
    predictions = [json.loads(x) for x in (run_dir / "predictions/step=4/ru.jsonl").read_text().splitlines()]
    assert len(predictions) == 6 and set(predictions[0]) == {"id", "prediction", "reference"}

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "done"
    assert set(summary["select"]) == set(SELECTIONS)
    for rule in SELECTIONS:
        assert set(summary["select"][rule]) == {"en", "ru", "th"}
        for entry in summary["select"][rule].values():
            assert {"step", *METRIC_KEYS} <= set(entry)
    assert {e["step"] for e in summary["select"]["last"].values()} == {4}
    assert len({e["step"] for e in summary["select"]["source"].values()}) == 1
    assert summary["identity"]["method"] == method and summary["identity"]["model"] == "tiny"
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert "[eval step 4] th:" in proc.stderr  # a progress line per language
    assert "SP-RG" in proc.stdout and method.upper() in proc.stdout


def test_prompt_checkpoint_holds_only_the_prompt(trained):
    import torch

    sizes = {}
    for method in ("model", "prompt"):
        state = torch.load(trained[method][0] / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        sizes[method] = sum(t.numel() for t in state["state_dict"].values())
        if method == "prompt":
            assert list(state["state_dict"]) == ["prompt.parts.task"]
            assert state["state_dict"]["prompt.parts.task"].shape == (4, 64)
        assert "xgen_rng" in state and state["global_step"] == 4
    assert sizes["prompt"] == 4 * 64 < sizes["model"] / 100


def test_finished_run_is_never_overwritten(xgen, trained):
    run_dir, _ = trained["model"]
    before = (run_dir / "summary.json").read_text()
    proc = xgen("train", "method=model", *MICRO_RUN, f"hydra.run.dir={run_dir}", check=False)
    assert proc.returncode == 2
    assert "already holds a finished run" in proc.stderr.strip().splitlines()[-1]
    assert (run_dir / "summary.json").read_text() == before


def test_same_seed_reproduces_the_same_metrics(xgen, trained, tmp_path):
    run_dir, _ = trained["model"]
    xgen("train", "method=model", "seed=0", *MICRO_RUN, f"hydra.run.dir={tmp_path}/again")
    first = (run_dir / "metrics.jsonl").read_text().splitlines()
    again = (tmp_path / "again" / "metrics.jsonl").read_text().splitlines()
    assert first == again


def test_eval_rescores_a_finished_run_from_its_checkpoint(xgen, trained, tmp_path):
    run_dir, _ = trained["prompt"]
    # No data.eval_examples here: the run's own (6), not eval's default (250).
    xgen("eval", f"run={run_dir}", "langs=[ru]", f"hydra.run.dir={tmp_path}/re")
    row = json.loads((tmp_path / "re" / "metrics.jsonl").read_text())
    assert row["n"] == 6
    original = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    at_last = next(r for r in original if r["step"] == 4 and r["lang"] == "ru")
    assert row["step"] == 4
    assert row["sp_rouge"] == pytest.approx(at_last["sp_rouge"], abs=1e-9)
    xgen("eval", f"run={run_dir}", "langs=[ru]", "data.eval_examples=3", f"hydra.run.dir={tmp_path}/re3")
    assert json.loads((tmp_path / "re3" / "metrics.jsonl").read_text())["n"] == 3  # unless overridden


def test_eval_scores_a_predictions_file(xgen, trained, tmp_path):
    run_dir, _ = trained["model"]
    # Quoted: the path's 'step=4' would otherwise read as Hydra override syntax.
    xgen("eval", f"predictions='{run_dir}/predictions/step=4/en.jsonl'", "lang=en", *MICRO_MODEL,
         f"hydra.run.dir={tmp_path}/p")
    row = json.loads((tmp_path / "p" / "metrics.jsonl").read_text())
    original = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert row["sp_rouge"] == pytest.approx(next(r for r in original if r["step"] == 4 and r["lang"] == "en")["sp_rouge"])


def test_lead64_baseline_and_table(xgen, trained, tmp_path):
    proc = xgen("eval", "baseline=lead64", *MICRO_MODEL, "data.eval_examples=6", "data.eval_langs=[en,th]",
                f"hydra.run.dir={tmp_path}/lead")
    summary = json.loads((tmp_path / "lead" / "summary.json").read_text())
    assert summary["select"]["target"]["en"]["sp_rouge"] > 5  # the article's opening shares the headings' nouns
    assert "LEAD-64" in proc.stdout
    table = xgen("table", f"runs=[{trained['model'][0]},{tmp_path}/lead]").stdout
    assert "MODEL tiny s0" in table and "LEAD-64" in table and "selection: target" in table


def test_backbone_cache_is_reused(xgen):
    first = xgen("pretrain", "model=tiny", *MICRO_MODEL)  # built by the fixtures already, or now
    second = xgen("pretrain", "model=tiny", *MICRO_MODEL)
    assert "[tiny] building" not in second.stderr
    assert first.stdout.splitlines()[0] == second.stdout.splitlines()[0]


def test_data_demo_prints_counts(xgen):
    out = xgen("data", "demo", "data.corpus.n_train=40").stdout
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:] if line.strip()}
    assert set(lines) >= {"en", "fr", "ru", "vi", "th"}
    assert lines["en"][:3] == ["40", "250", "250"]


def test_every_evaluation_row_reaches_the_logger_too(trained):
    """logger=csv (the default) gets eval/<lang>/<metric> at each step: what metrics.jsonl holds."""
    import csv

    run_dir, _ = trained["prompt"]
    logged = {}
    with open(run_dir / "csv" / "metrics.csv", newline="") as f:
        for line in csv.DictReader(f):
            for key, value in line.items():
                if key.startswith("eval/") and value != "":
                    logged[(int(line["step"]), key)] = float(value)
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    for row in rows:
        for metric in ("sp_rouge", "lid_target", "ascii", "loss"):
            assert logged[(row["step"], f"eval/{row['lang']}/{metric}")] == pytest.approx(row[metric])
    hparams = (run_dir / "csv" / "hparams.yaml").read_text()
    assert "method: prompt" in hparams and "mixing: none" in hparams
