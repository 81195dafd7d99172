"""Resuming a run, through the real entry point: after SIGKILL, SIGTERM or SIGUSR1, the same command
(or `xgen train resume=<dir>`) continues from the last checkpoint and ends with an uninterrupted
run's metrics, bit for bit; the folders a run must not touch are refused before anything is written;
`xgen eval run=` picks the newest checkpoint and names what does not fit."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal

import pytest
import torch
import yaml
from forkserver import ForkServer
from runs_helpers import SERVER_ENV, SIGNAL_EXIT, SMALL_RUN, assert_same_results, signal_when

from xgen_cli.runs.run_dir import RunDir

RUN = SMALL_RUN + ["method=prompt", "method.prompt_length=4"]


@pytest.fixture(scope="module")
def server(cache_dir):
    server = ForkServer({"XGEN_CACHE": str(cache_dir), **SERVER_ENV})
    yield server
    server.close()


def xgen(server, log, *args) -> tuple[int, str]:
    """Run `xgen <args>` to the end: (exit code, stderr)."""
    code = server.wait(server.start(list(args), log))
    return code, (log.parent / f"{log.name}.err").read_text()


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    code, err = xgen(server, run_dir.parent / "log", "train", *RUN, f"hydra.run.dir={run_dir}")
    assert code == 0, err[-3000:]
    return run_dir


def test_sigkill_then_the_same_command_resumes_where_it_stopped(server, reference, tmp_path):
    run_dir, args = tmp_path / "run", ["train", *RUN, f"hydra.run.dir={tmp_path / 'run'}"]
    # Killed in the middle of step 4's evaluation: metrics rows of step 4 for en and ru, no
    # checkpoint at step 4 yet (it follows the evaluation).
    assert signal_when(server, args, tmp_path / "a1", "[eval step 4] ru", signal.SIGKILL) == -signal.SIGKILL
    assert RunDir(run_dir).status() == "crashed"
    code, err = xgen(server, tmp_path / "a2", *args)
    assert code == 0, err[-3000:]
    assert re.search(r"resuming stage main from \S+step=\d\.ckpt \(step \d\)", err)
    assert_same_results(run_dir, reference)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "done" and info["attempt"] == 2 and info["attempts"][0]["status"] == "crashed"


def test_a_run_saved_before_newer_keys_existed_still_resumes(server, reference, tmp_path):
    # A run started by an older xgen has no translate / train_lang_weights / trainer.threads /
    # method.frozen_dtype in its saved config; their defaults behave as before, so it continues.
    run_dir, args = tmp_path / "run", ["train", *RUN, f"hydra.run.dir={tmp_path / 'run'}"]
    assert signal_when(server, args, tmp_path / "a1", "[eval step 4] en", signal.SIGKILL) == -signal.SIGKILL
    saved = run_dir / ".hydra" / "config.yaml"
    config = yaml.safe_load(saved.read_text())
    for key in ("translate", "train_lang_weights"):
        del config[key]
    del config["trainer"]["threads"], config["method"]["frozen_dtype"]
    saved.write_text(yaml.safe_dump(config))
    # Set to another value, a newer key is a difference like any other.
    code, err = xgen(server, tmp_path / "a2", *args, "method.frozen_dtype=bfloat16")
    assert "another config (method.frozen_dtype: (absent) -> bfloat16)" in one_line_error(code, err)
    code, err = xgen(server, tmp_path / "a3", *args)
    assert code == 0, err[-3000:]
    assert_same_results(run_dir, reference)


@pytest.mark.parametrize(("signum", "when"), [(signal.SIGTERM, "[eval step 2] en"), (signal.SIGUSR1, "[eval step 6] th")])
def test_stop_signal_saves_a_checkpoint_and_resume_continues(server, reference, tmp_path, signum, when):
    # SIGTERM lands during step 2's evaluation (the other languages are left for the resumed run);
    # SIGUSR1 after step 6's, while training.
    run_dir = tmp_path / "run"
    code = signal_when(server, ["train", *RUN, f"hydra.run.dir={run_dir}"], tmp_path / "a1", when, signum)
    assert code == SIGNAL_EXIT[signum]
    info = json.loads((run_dir / "run.json").read_text())
    name = signal.Signals(signum).name
    assert info["status"] == "interrupted" and RunDir(run_dir).status() == "interrupted"
    step = int(re.fullmatch(rf"{name} at step (\d+)", info["reason"]).group(1))
    assert info["checkpoint"] == f"checkpoints/step={step}.ckpt"
    assert torch.load(run_dir / info["checkpoint"], weights_only=True)["global_step"] == step
    last_line = (tmp_path / "a1.err").read_text().strip().splitlines()[-1]
    assert last_line == (f"xgen train: stopped by {name} at step {step}; checkpoint {info['checkpoint']}; "
                         f"continue with: xgen train resume={run_dir}")

    code, err = xgen(server, tmp_path / "a2", "train", f"resume={run_dir}")  # no overrides retyped
    assert code == 0, err[-3000:]
    assert_same_results(run_dir, reference)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["attempts"][0]["reason"] == f"{name} at step {step}" and info["status"] == "done"


def test_killed_before_the_first_checkpoint_restarts_from_scratch(server, reference, tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", *RUN, f"hydra.run.dir={run_dir}"]
    assert signal_when(server, args, tmp_path / "a1", "[eval step 2] en", signal.SIGKILL) == -signal.SIGKILL
    shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # whether or not step 2's got written
    rows = len((run_dir / "metrics.jsonl").read_text().splitlines())
    code, err = xgen(server, tmp_path / "a2", *args)
    assert code == 0, err[-3000:]
    assert f"no checkpoint of stage main yet: starting it afresh, dropped its {rows} metrics rows" in err
    assert_same_results(run_dir, reference)


# ---- refused before anything is written

def one_line_error(code: int, err: str) -> str:
    assert code == 2, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith("xgen train: error: ")
    return line


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_finished_run_is_refused_before_hydra_writes(server, reference, tmp_path):
    before = snapshot(reference)
    code, err = xgen(server, tmp_path / "a", "train", *SMALL_RUN, "method=model", f"hydra.run.dir={reference}")
    assert "already holds a finished run (summary.json)" in one_line_error(code, err)
    assert snapshot(reference) == before  # .hydra/ included: `xgen eval run=` still rebuilds the prompt run


def test_an_unfinished_run_with_another_config_is_refused(server, tmp_path):
    run_dir = tmp_path / "run"
    args = ["train", *RUN, f"hydra.run.dir={run_dir}"]
    assert signal_when(server, args, tmp_path / "a1", "[train] ", signal.SIGKILL) == -signal.SIGKILL
    before = snapshot(run_dir)
    code, err = xgen(server, tmp_path / "a2", *args, "seed=1", "eval_every=4")
    assert one_line_error(code, err) == (
        f"xgen train: error: {run_dir} holds an unfinished run with another config (eval_every: 2 -> 4; "
        f"seed: 0 -> 1): continue it with xgen train resume={run_dir}, or choose another hydra.run.dir")
    assert snapshot(run_dir) == before


def test_config_errors_unwritable_folders_and_full_disks_are_one_line_errors(server, tmp_path):
    code, err = xgen(server, tmp_path / "a", "train", *RUN, "method.prompt_length=0", f"hydra.run.dir={tmp_path}/new")
    assert "prompt_length=0 must be a positive integer" in one_line_error(code, err)
    assert not (tmp_path / "new").exists()  # refused before Hydra made the folder

    (tmp_path / "file").write_text("")
    code, err = xgen(server, tmp_path / "b", "train", *RUN, f"hydra.run.dir={tmp_path}/file/run")
    assert one_line_error(code, err) == (f"xgen train: error: cannot write the run folder {tmp_path}/file/run "
                                         "(Not a directory): choose another hydra.run.dir")
    if os.geteuid() != 0:  # root writes anywhere
        (tmp_path / "locked").mkdir(mode=0o500)
        code, err = xgen(server, tmp_path / "c", "train", *RUN, f"hydra.run.dir={tmp_path}/locked/run")
        assert "(Permission denied): choose another hydra.run.dir" in one_line_error(code, err)

    # Every checkpoint of a 10^12-step run kept (keep_checkpoints=-1) fits on no disk.
    code, err = xgen(server, tmp_path / "d", "train", *RUN, "steps=1000000000000", "eval_every=1",
                     "keep_checkpoints=-1", f"hydra.run.dir={tmp_path}/big")
    line = one_line_error(code, err)
    assert re.search(r"not enough free disk for checkpoints in \S+: each is about [\d.]+ GB and up to "
                     r"1000000000001 are held at once \(keep_checkpoints=-1\), [\d.]+ GB free", line), line
    assert "[eval step" not in err and not list((tmp_path / "big").rglob("*.ckpt"))


def test_default_run_folders_started_in_the_same_second_differ(server, tmp_path):
    folders = []
    for i in range(2):
        code, _ = xgen(server, tmp_path / f"cfg{i}", "train", "--cfg", "all", "--resolve", "-p", "hydra.run.dir")
        assert code == 0
        folders.append((tmp_path / f"cfg{i}.out").read_text().strip())
    assert folders[0] != folders[1]
    assert re.fullmatch(r"outputs/train/\S+/\d\d-\d\d-\d\d-[0-9a-f]{4}_tiny-prompt-s0", folders[0]), folders


# ---- xgen eval run=

def test_eval_picks_the_newest_checkpoint_by_its_step_and_names_misfits(server, reference, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    ckpts = run_dir / "checkpoints"
    newest = torch.load(ckpts / "step=8.ckpt", weights_only=True)
    (ckpts / "step=8.ckpt").rename(ckpts / "a.ckpt")  # the newest state under a name that sorts first
    torch.save({**newest, "global_step": 3}, ckpts / "last.ckpt")  # an older state named last
    (ckpts / "z.ckpt").write_bytes((ckpts / "a.ckpt").read_bytes()[:5000])  # truncated

    code, err = xgen(server, tmp_path / "e1", "eval", f"run={run_dir}", "langs=[en]", f"hydra.run.dir={tmp_path}/e1")
    assert code == 0, err[-3000:]
    assert f"skipping {ckpts}/z.ckpt is not a readable checkpoint (truncated" in err
    assert json.loads((tmp_path / "e1" / "metrics.jsonl").read_text())["step"] == 8

    foreign = {**newest, "state_dict": {"prompt.parts.task": torch.zeros(8, 64)}}  # another prompt length
    torch.save(foreign, tmp_path / "foreign.ckpt")
    code, err = xgen(server, tmp_path / "e2", "eval", f"run={run_dir}", f"checkpoint={tmp_path}/foreign.ckpt",
                     f"hydra.run.dir={tmp_path}/e2")
    assert err.strip().splitlines()[-1] == (
        f"xgen eval: error: {tmp_path}/foreign.ckpt does not fit the run's model (model=tiny, method=prompt, "
        "prompt_length=4): prompt.parts.task is (8, 64) there, (4, 64) here: give checkpoint= a file written by this run")
    assert code == 2

    code, err = xgen(server, tmp_path / "e3", "eval", f"run={run_dir}", f"checkpoint={ckpts}/z.ckpt",
                     f"hydra.run.dir={tmp_path}/e3")
    assert code == 2 and re.fullmatch(
        rf"xgen eval: error: {ckpts}/z.ckpt is not a readable checkpoint \(truncated or not a checkpoint: .+\): "
        r"give checkpoint=<another file.ckpt> or delete it", err.strip().splitlines()[-1])


# A two-stage run with every remedy that draws data: IT-LM first, then prompt tuning mixed with
# span corruption. Stopped once in each stage, it must end as an uninterrupted run does.
TWO_STAGES = RUN + ["intermediate=lm", "intermediate.steps=4", "intermediate.eval_every=2",
                    "intermediate.validation_docs=4", "mixing=unsup", "mixing.rate=0.3"]


@pytest.mark.parametrize(("signum", "when"), [(signal.SIGKILL, "[intermediate step 4] ru"),
                                              (signal.SIGTERM, "[eval step 4] en")])
def test_a_two_stage_run_resumes_in_either_stage(server, tmp_path, signum, when):
    reference = tmp_path / "reference"
    code, err = xgen(server, tmp_path / "r", "train", *TWO_STAGES, f"hydra.run.dir={reference}")
    assert code == 0, err[-3000:]
    run_dir = tmp_path / "run"
    code = signal_when(server, ["train", *TWO_STAGES, f"hydra.run.dir={run_dir}"], tmp_path / "a1", when, signum)
    assert code in (-signal.SIGKILL, SIGNAL_EXIT.get(signum))
    code, err = xgen(server, tmp_path / "a2", "train", *TWO_STAGES, f"hydra.run.dir={run_dir}")
    assert code == 0, err[-3000:]
    stage = "intermediate" if "intermediate" in when else "main"
    assert f"resuming stage {stage}" in err
    assert_same_results(run_dir, reference)
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == len({(r["stage"], r["step"], r["lang"]) for r in rows})  # nothing twice
    summary, expected = (json.loads((d / "summary.json").read_text())["training"] for d in (run_dir, reference))
    assert summary == expected  # same best intermediate step and loss, same draws
