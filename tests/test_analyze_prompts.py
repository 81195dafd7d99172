"""`xgen analyze prompts`: cosine similarities, clustering and heatmap of per-language prompts (Figure 8)."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from run_folders import identity, write_run

from xgen_cli.prompt_clustering import cluster, cosine_similarities


def _prompts():
    rng = np.random.default_rng(0)
    base, far = rng.normal(size=16), rng.normal(size=16)
    return {"ru": base, "uk": base + 0.01 * rng.normal(size=16), "th": far}


def test_the_near_pair_is_merged_first():
    vectors = _prompts()
    similarity = cosine_similarities(list(vectors.values()))
    assert similarity[0, 1] > 0.99 and abs(similarity[0, 2]) < 0.9 and np.allclose(similarity, similarity.T)
    first_merge = cluster(similarity)[0]
    assert {int(first_merge[0]), int(first_merge[1])} == {0, 1}


@pytest.fixture
def prompt_runs(tmp_path):
    import torch

    for lang, vector in _prompts().items():
        run = write_run(tmp_path / "runs" / lang, identity(train_lang=lang, prompt_length=1), {lang: 10.0})
        (run / "checkpoints").mkdir()
        torch.save({"state_dict": {"prompt.parts.task": torch.tensor(vector, dtype=torch.float32).reshape(1, 16)}},
                   run / "checkpoints" / "last.ckpt")
    write_run(tmp_path / "runs" / "model", identity(method="model"), {"en": 10.0})  # no prompt: left out, said so
    return tmp_path / "runs"


def test_analyze_prompts_writes_the_clustered_matrix_and_heatmap(xgen, prompt_runs, tmp_path):
    out = xgen("analyze", "prompts", f"runs=[{prompt_runs}]", f"out={tmp_path / 'analysis'}").stdout
    png, table = tmp_path / "analysis" / "prompts_similarity.png", tmp_path / "analysis" / "prompts_similarity.csv"
    assert out.splitlines()[-2:] == [str(png), str(table)] and "left out (1)" in out
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000
    rows = list(csv.reader(table.open()))
    labels = rows[0][1:]
    assert sorted(labels) == ["ru", "th", "uk"] and [r[0] for r in rows[1:]] == labels
    assert abs(labels.index("ru") - labels.index("uk")) == 1  # the clustering puts the near pair side by side
    matrix = {(a, b): float(v) for a, row in zip(labels, rows[1:], strict=True) for b, v in zip(labels, row[1:], strict=True)}
    assert matrix[("ru", "uk")] > 0.99 and matrix[("ru", "th")] < 0.9 and matrix[("th", "th")] == 1.0


def test_analyze_prompts_needs_two_prompts(xgen, prompt_runs):
    out = xgen("analyze", "prompts", f"runs=[{prompt_runs / 'ru'},{prompt_runs / 'model'}]", check=False)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "needs two or more runs with a learned prompt (1 found" in out.stderr
