"""Every benchmark script runs on a minimal size and writes its entries (CI runs no benchmarks:
numbers on a shared runner mean little). The identity checks inside them (SP-ROUGE equal to
rouge-score, sorted and data-order predictions equal) raise, so a pass here means they held."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import MICRO_MODEL, REPO

from bench.run import BENCHMARKS

FIELDS = {"name", "xgen", "baseline", "ratio", "units", "target", "met", "baseline_name", "inputs", "precision"}


def test_every_benchmark_runs_quick_and_writes_results(xgen, cache_dir, tmp_path):
    xgen("pretrain", "model=tiny", *MICRO_MODEL, f"hydra.run.dir={tmp_path / 'pretrain'}")  # cached: seconds
    # One torch thread a process: the suite runs beside other work (tests/runs_helpers.py, SERVER_ENV).
    env = {**os.environ, "XGEN_BENCH_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["quick"] and {"cpu", "cores", "torch_threads", "torch"} <= set(report["machine"])
    # Every CPU benchmark, and the GPU one as last recorded (bench/reference/), saying so.
    assert {r["benchmark"] for r in report["results"]} == set(BENCHMARKS) | {"gpu_prompt_tuning"}
    gpu = next(r for r in report["results"] if r["benchmark"] == "gpu_prompt_tuning")
    assert gpu["notes"].startswith("not measured in this run: gpu_prompt_tuning_h200.json") and "H200" in gpu["notes"]
    for row in report["results"]:
        assert FIELDS <= set(row), row["name"]
        assert row["xgen"] > 0 and row["baseline"] > 0 and row["ratio"] > 0, row
    names = " | ".join(r["name"] for r in report["results"])
    for expected in ("prompt tuning", "model tuning", "peak RSS", "bf16 autocast", "evaluation", "SP-ROUGE",
                     "xgen --help", "--cfg job", "xgen table", "concurrent", "data-path"):
        assert expected in names
    assert "benchmark" in proc.stdout and "ratio" in proc.stdout  # the printed table


def test_gpu_script_runs_on_a_toy_size(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench.gpu_prompt_tuning", "--quick", "--out", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_results.json").read_text())
    assert result["xgen"] > 0 and result["inputs"]["mfu"]["xgen"] > 0 and result["precision"] == "bf16-mixed"


def test_gpu_fsdp_script_runs_its_plain_arm_on_a_toy_size(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "bench.gpu_fsdp", "--quick", "--out", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "gpu_fsdp.json").read_text())
    for method in ("model", "prompt"):
        row = result["methods"][method]["gpu"]
        assert len(row["losses"]) == 3 and row["max_abs_loss_diff_vs_gpu"] == 0 and row["beam_tokens_equal_to_gpu"] == 1
