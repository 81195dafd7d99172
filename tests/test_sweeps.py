"""Sweeps as files (conf/sweep/, `xgen train -m sweep=<name>`): every job of every sweep composes;
job folders are named by the overrides that vary; a sweep launched again skips its finished runs,
resumes its unfinished ones (bit for bit) and refuses a changed config, saying how many of each."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MICRO_RUN, REPO
from forkserver import ForkServer
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from runs_helpers import SERVER_ENV, assert_same_results

from xgen_cli.commands._app import CONF_DIR
from xgen_cli.config_checks import train_problems
from xgen_cli.overrides import override_problems
from xgen_cli.sweeps import sweep_subdir

SWEEPS = sorted(p.stem for p in (Path(CONF_DIR) / "sweep").glob("*.yaml"))


@pytest.mark.parametrize("name", SWEEPS)
def test_every_sweep_names_valid_choices_and_its_first_job_composes(name):
    sweeper = OmegaConf.load(Path(CONF_DIR) / "sweep" / f"{name}.yaml").hydra.sweeper
    params = {key: str(spec).split(",") for key, spec in sweeper.params.items()}
    command = sweeper.get("command") or "train"
    # Every value of a group (model=small,base,...) is one of its options; every key exists.
    assert override_problems(command, [f"{k}={','.join(v)}" for k, v in params.items()]) == []
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(command, overrides=[f"sweep={name}", *(f"{k}={v[0]}" for k, v in params.items())])
    if command == "train" and "stage1" not in cfg.method:  # FP's stage-1 run is the user's to give
        assert train_problems(cfg) == []
    if name.startswith("demo_"):
        assert params.get("model", ["tiny"]) == ["tiny"]  # TRANS-TEST names none: it takes the run's
    else:
        assert f"demo_{name}" in SWEEPS  # every paper sweep has a demo


def test_folder_names():
    assert sweep_subdir("method=prompt,model=base", 0) == "method=prompt,model=base/seed=0"
    assert sweep_subdir("", 2) == "seed=2"
    assert sweep_subdir("method.stage1=/runs/a", 1) == "method.stage1=_runs_a/seed=1"
    assert sweep_subdir("data.eval_examples=50", None) == "data.eval_examples=50"
    assert sweep_subdir("", None, "LEAD-64") == "LEAD-64"


@pytest.mark.parametrize(("trainer", "tasks", "gpus"), [
    (["trainer=cpu"], 1, None), (["trainer=gpu", "trainer.devices=4"], 4, 4)])
def test_the_slurm_launcher_asks_for_one_task_per_device(trainer, tasks, gpus):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm", *trainer], return_hydra_config=True)
    launcher = OmegaConf.to_container(cfg.hydra.launcher, resolve=True)
    assert (launcher["tasks_per_node"], launcher["gpus_per_node"], launcher["nodes"]) == (tasks, gpus, 1)
    assert launcher["max_num_timeout"] >= 1 and "export WANDB_MODE=offline" in launcher["setup"]


def xgen(cache_dir, *args):
    return subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=REPO, env={**os.environ, "XGEN_CACHE": str(cache_dir)})


@pytest.mark.parametrize(("args", "expected"), [
    (["train", "sweep=fig2_sizes"], "xgen train: error: sweep= names a sweep of many runs: add -m "
                                     "(xgen train -m sweep=...)"),
    (["train", "-m", "sweep=fig4_baselines"], "xgen train: error: this sweep is for xgen eval: run xgen eval -m "
                                              "sweep=fig4_baselines"),
    (["train", "-m", "hydra/launcher=slurm", "trainer=gpu", "trainer.devices=-1"],
     "xgen train: error: trainer.devices=-1 cannot size a SLURM job: give the number of devices per node "
     "(e.g. trainer.devices=4); hydra/launcher=slurm starts one task per device"),
])
def test_a_sweep_is_refused_in_one_line_before_anything_runs(cache_dir, tmp_path, args, expected):
    out = xgen(cache_dir, *args, f"hydra.sweep.dir={tmp_path}/sweep")
    assert out.returncode == 2 and out.stderr.strip().splitlines() == [expected]
    assert not (tmp_path / "sweep").exists()


@pytest.fixture(scope="module")
def server(cache_dir):
    server = ForkServer({"XGEN_CACHE": str(cache_dir), **SERVER_ENV})  # imports torch once for the launches
    yield server
    server.close()


def test_a_sweep_launched_again_skips_finished_runs_and_resumes_unfinished_ones(server, tmp_path):
    root = tmp_path / "sweep"
    # Narrowed to one run (method=prompt, seed=0): the folder still names the method, which the sweep
    # file varies, so the full sweep finds this run where it would have put it.
    args = ["train", "-m", "sweep=demo_fig2_sizes", "method=prompt", "seed=0", *MICRO_RUN,
            "trainer.precision=32-true", "keep_checkpoints=-1", f"hydra.sweep.dir={root}"]

    def launch(*extra, code=0):
        log = tmp_path / f"launch{len(list(tmp_path.glob('launch*.out')))}"
        assert server.wait(server.start([*args, *extra], log)) == code, Path(f"{log}.err").read_text()[-4000:]
        return Path(f"{log}.out").read_text() + Path(f"{log}.err").read_text()

    assert f"[sweep] {root}: 1 runs: 0 finished before (skipped), 0 unfinished (resumed), 1 new" in launch()
    run = root / "method=prompt" / "seed=0"
    reference = tmp_path / "reference"
    shutil.copytree(run, reference)

    # As if stopped after step 2's checkpoint: the later checkpoints and summary.json gone.
    for name in ("step=4.ckpt", "last.ckpt"):
        (run / "checkpoints" / name).unlink()
    (run / "summary.json").unlink()
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted", "reason": "SIGTERM at step 2"}))
    out = launch()
    assert f"[sweep] {root}: 1 runs: 0 finished before (skipped), 1 unfinished (resumed), 0 new" in out
    assert "resuming stage main from" in out and "step=2.ckpt (step 2)" in out
    assert_same_results(run, reference)

    assert f"[sweep] {root}: 1 runs: 1 finished before (skipped), 0 unfinished (resumed), 0 new" in launch()
    assert json.loads((run / "run.json").read_text())["attempt"] == 2  # the skipped launch started nothing

    assert launch("steps=6", code=2).strip().splitlines()[-1] == (
        f"xgen train: error: {run} holds a run of this sweep with another config (steps: 4 -> 6): launch the sweep "
        "with the same overrides, or into another hydra.sweep.dir")
