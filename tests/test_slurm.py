"""Sweeps through a real SLURM cluster (tests/slurm/, the `slurm` fixture) with hydra/launcher=slurm:
a 2 x 2 demo sweep finishes and tabulates, a second launch submits nothing, and a job requeued in
the middle of training (`scontrol requeue`) resumes from its checkpoint and ends with the same
metrics, bit for bit, as the sweep's uninterrupted run of the same seed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import MICRO_MODEL, MICRO_RUN, REPO
from runs_helpers import assert_same_results, wait_for

# Pinned precision: the requeued run is compared bit for bit (the CPU's `auto` may pick bf16).
SWEEP = ["train", "-m", "sweep=demo_fig2_sizes", *MICRO_RUN, "trainer.precision=32-true"]
# One CPU per run; the partition and no account, whatever conf/local/slurm.yaml says.
SLURM = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.partition=debug",
         "hydra.launcher.account=null"]


@pytest.fixture(scope="module")
def env(slurm, cache_dir, xgen, tmp_path_factory):
    # The micro backbone, built once before the jobs that share its cache.
    xgen("pretrain", "model=tiny", *MICRO_MODEL, f"hydra.run.dir={tmp_path_factory.mktemp('backbone')}")
    return {**os.environ, **slurm, "XGEN_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1"}


def launch(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xgen_cli.cli", *args], env=env, cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen) -> str:
    out = proc.communicate(timeout=600)[0]
    assert proc.returncode == 0, out[-4000:]
    return out


def test_a_sweep_on_slurm_finishes_and_a_requeued_run_resumes(env, tmp_path):
    # One test, not two: under `pytest -n 2` two tests could land on two workers, each with its own
    # cluster and its own 2 x 2 sweep.
    reference = sweep_of_four_runs(env, tmp_path / "sweep")
    requeued_run_resumes(env, tmp_path / "requeued", reference)


def sweep_of_four_runs(env, root):
    """The 2 methods x 2 seeds sweep finishes, tabulates, and a second launch submits nothing;
    returns its PROMPT seed-0 run."""
    out = finish(launch(env, *SWEEP, "seed=0,1", *SLURM, f"hydra.sweep.dir={root}"))
    assert f"[sweep] {root}: 4 runs: 0 finished before (skipped), 0 unfinished (resumed), 4 new" in out
    runs = {f"method={m}/seed={s}" for m in ("prompt", "model") for s in (0, 1)}
    assert {p.parent.relative_to(root).as_posix() for p in root.rglob("summary.json")} == runs
    assert (root / "multirun.yaml").is_file()
    assert all(json.loads((root / r / "run.json").read_text())["slurm_job_id"] for r in runs)  # ran as SLURM jobs
    table = subprocess.run([sys.executable, "-m", "xgen_cli.cli", "table", f"runs=[{root}]"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    block = table.stdout.split("\n\n")[1].splitlines()  # SP-RG: a header, then one row per run
    assert sorted(row.split()[0] + row.split()[2] for row in block[1:]) == ["MODELs0", "MODELs1", "PROMPTs0", "PROMPTs1"]

    out = finish(launch(env, *SWEEP, "seed=0,1", *SLURM, f"hydra.sweep.dir={root}"))
    assert f"[sweep] {root}: 4 runs: 4 finished before (skipped), 0 unfinished (resumed), 0 new" in out
    assert "Submitit" not in out
    return root / "method=prompt" / "seed=0"


def requeued_run_resumes(env, root, reference):
    """The sweep's PROMPT seed-0 run again, requeued (`scontrol requeue`) once step 2's checkpoint
    exists: SLURM sends SIGTERM (xgen saves a checkpoint and exits), then starts the same job again,
    which resumes the run from its folder and ends as the uninterrupted run did, bit for bit."""
    run = root / "method=prompt" / "seed=0"
    proc = launch(env, *SWEEP, "method=prompt", "seed=0", *SLURM, f"hydra.sweep.dir={root}")
    step2 = run / "checkpoints" / "step=2.ckpt"
    assert wait_for(proc.pid, step2.exists, timeout=300, every=0.05), proc.communicate()[0][-4000:]
    job = subprocess.run(["squeue", "-h", "-o", "%i"], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert len(job) == 1
    subprocess.run(["scontrol", "requeue", job[0]], env=env, check=True, timeout=60)
    finish(proc)

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done" and info["slurm_restart_count"] == 1
    first = info["attempts"][0]
    assert first["status"] == "interrupted", first
    step = int(re.fullmatch(r"SIGTERM at step (\d+)", first["reason"]).group(1))
    log = "".join(p.read_text() for p in (root / ".submitit").rglob("*_log.err"))
    assert re.search(rf"resuming stage main from \S+step={step}\.ckpt \(step {step}\)", log), log[-4000:]
    assert_same_results(run, reference)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    keys = [(r["step"], r["stage"], r["split"], r["lang"]) for r in rows]
    assert len(keys) == len(set(keys)) == 6  # steps 2 and 4 x en, ru, th: none twice
