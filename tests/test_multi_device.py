"""Multi-device training and evaluation (xgen_cli/distributed.py): DDP on two CPU processes (gloo)
against one process on the combined batch, through the real entry point."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import MICRO_RUN

from xgen_cli.data.resumable import RankBatches, ResumableLoader
from xgen_cli.errors import XgenError

# Measured here (2-core Xeon, fp32): the two runs' prompts differ by at most 2.0e-6 after 4 steps,
# entries up to 1.5 (README "Multi-device training"); the rest is headroom for other CPUs.
TOLERANCE = 1e-5
RUN = [*MICRO_RUN, "method=prompt", "method.prompt_length=4", "trainer.precision=32-true", "keep_checkpoints=-1"]
LANGS = ("en", "ru", "th")


@pytest.fixture(scope="module")
def runs(xgen, tmp_path_factory):
    """The same run in one process (batch 8) and in two (trainer=ddp_cpu: 4 rows each)."""
    root = tmp_path_factory.mktemp("ddp")
    one = xgen("train", *RUN, f"hydra.run.dir={root / 'one'}")
    two = xgen("train", *RUN, "trainer=ddp_cpu", f"hydra.run.dir={root / 'two'}")
    return root, one, two


def _prompt(run_dir, step: int) -> torch.Tensor:
    state = torch.load(run_dir / "checkpoints" / f"step={step}.ckpt", map_location="cpu", weights_only=True)
    return state["state_dict"]["prompt.parts.task"]


def test_two_processes_reach_the_prompt_of_one_process_on_the_combined_batch(runs):
    root, _, _ = runs
    for step in (2, 4):
        diff = (_prompt(root / "one", step) - _prompt(root / "two", step)).abs().max().item()
        assert diff <= TOLERANCE, f"step {step}: max |prompt difference| {diff:.2e}"
    # The tolerance is far below what a step moves the prompt: the comparison has teeth.
    assert (_prompt(root / "one", 4) - _prompt(root / "one", 2)).abs().max().item() > 1000 * TOLERANCE


def test_ranks_share_one_run_folder_that_rank_zero_alone_writes(runs):
    root, _, two = runs
    assert sorted(p.name for p in root.iterdir()) == ["one", "two"]
    folder = root / "two"
    # Rank 1 joined rank 0's folder: its Hydra log is there, its own .hydra/ and run files are not.
    assert (folder / "train_ddp_process_1.log").is_file() and (folder / ".hydra" / "config.yaml").is_file()
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in (folder / "train_ddp_process_1.log").read_text()
    info = json.loads((folder / "run.json").read_text())
    assert info["status"] == "done" and info["identity"]["trainer"] == "ddp_cpu" and "attempts" not in info
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    assert sorted((r["step"], r["lang"]) for r in rows) == sorted((s, lang) for s in (2, 4) for lang in LANGS)
    assert json.loads((folder / "summary.json").read_text())["status"] == "done"
    assert two.stdout.count("run directory:") == 1  # one table, printed by rank 0


def test_ddp_evaluation_decodes_each_example_once_as_one_process_does(runs):
    root, _, _ = runs
    for step in (2, 4):
        for lang in LANGS:
            one, two = ([json.loads(line) for line in (root / run / f"predictions/step={step}/{lang}.jsonl")
                         .read_text().splitlines()] for run in ("one", "two"))
            ids = [row["id"] for row in two]
            assert len(ids) == len(set(ids)) == 6, (step, lang, ids)
            assert two == one, (step, lang)


def _rows(batches) -> list[list[int]]:
    return [list(b) for b in batches]


@pytest.mark.parametrize("world", [1, 2, 4])
def test_the_ranks_slices_of_each_batch_make_the_one_process_batch(world):
    total, batch = 48, 8
    single = _rows(RankBatches(total, batch, 0, 1))
    assert single == [list(range(k * batch, (k + 1) * batch)) for k in range(6)]
    ranks = [_rows(RankBatches(total, batch, r, world)) for r in range(world)]
    assert all(len(r) == len(single) for r in ranks)
    for k, rows in enumerate(single):
        assert sum((r[k] for r in ranks), []) == rows
    # Resuming at batch 3: each rank continues with its slice of the same batch.
    assert [_rows(RankBatches(total, batch, r, world, start=3)) for r in range(world)] == [r[3:] for r in ranks]


def test_a_resumed_rank_loader_continues_at_its_next_slice():
    draws = list(range(40))
    loader = ResumableLoader(draws, 8, collate_fn=list, rank=1, world_size=2)
    assert len(loader) == 5
    it = iter(loader)
    assert [next(it), next(it)] == [[4, 5, 6, 7], [12, 13, 14, 15]]
    resumed = ResumableLoader(draws, 8, collate_fn=list, rank=1, world_size=2)
    resumed.load_state_dict(loader.state_dict())
    assert list(resumed) == [[20, 21, 22, 23], [28, 29, 30, 31], [36, 37, 38, 39]]


def test_a_global_batch_that_does_not_split_over_the_processes_is_refused():
    with pytest.raises(XgenError, match="batch_size=7 does not split over 2 processes"):
        ResumableLoader(list(range(14)), 7, collate_fn=list, rank=0, world_size=2)


def _fsdp_predict(rank: int, world: int, port: int, backbone_dir: str, examples: list, out: str) -> None:
    """One rank: the prompt-tuning module with its mT5 blocks sharded by FSDP (trainer=fsdp's wrap
    policy), predicting `examples` as EvaluateEvery does."""
    import os
    from types import SimpleNamespace

    import torch.distributed as dist
    from torch.distributed.fsdp import FullyShardedDataParallel

    from xgen_cli.distributed import full_root_params
    from xgen_cli.evaluation import Evaluator
    from xgen_cli.modeling.backbone import load_backbone
    from xgen_cli.modeling.methods.prompt import build
    from xgen_cli.training import fsdp_strategy

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        backbone, tokenizer = load_backbone(backbone_dir)
        module = build(backbone, tokenizer, optimizer={}, prompt_length=4, seed=0).eval()
        root = FullyShardedDataParallel(module, auto_wrap_policy=fsdp_strategy().kwargs["auto_wrap_policy"],
                                        use_orig_params=True, device_id=torch.device("cpu"))
        assert sum(isinstance(m, FullyShardedDataParallel) for m in root.modules()) == 5  # 4 blocks + the root
        evaluator = Evaluator({"en": examples}, tokenizer, sp_rouge=None, num_beams=2, max_new_tokens=8, batch_size=2)
        with full_root_params(SimpleNamespace(model=root)):
            predictions, loss = evaluator.predict(module, examples)
        if rank == 0:
            with open(out, "w") as f:
                json.dump({"predictions": predictions, "loss": loss}, f)
    finally:
        dist.destroy_process_group()


def test_fsdp_sharded_evaluation_runs_in_lockstep_and_matches_one_process(runs, cache_dir, tmp_path):
    """Lightning runs FSDP on GPUs only; torch's FSDP runs on CPUs (gloo), so the sharded evaluation
    path (root weights gathered, ranks padded to equal batch counts, synced generation) is tested here
    with 5 examples: rank 0 decodes 2 batches, rank 1 one batch and a filler."""
    import socket

    import torch.multiprocessing as mp
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from xgen_cli.commands._app import CONF_DIR
    from xgen_cli.data.example import Example
    from xgen_cli.evaluation import Evaluator
    from xgen_cli.modeling.backbone import load_backbone
    from xgen_cli.modeling.methods.prompt import build
    from xgen_cli.modeling.tiny import tiny_dir

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        model = OmegaConf.to_container(compose("train", overrides=MICRO_RUN).model, resolve=True)
    backbone_dir = str(tiny_dir(cache_dir, model["build"]))  # built by the `runs` fixture
    words = "the cat sat on a mat and then it went home to sleep".split()
    examples = [Example(f"x{i}", "en", " ".join(words[: 3 + 2 * i]), " ".join(words[:3])) for i in range(5)]

    backbone, tokenizer = load_backbone(backbone_dir)
    module = build(backbone, tokenizer, optimizer={}, prompt_length=4, seed=0).eval()
    evaluator = Evaluator({"en": examples}, tokenizer, sp_rouge=None, num_beams=2, max_new_tokens=8, batch_size=2)
    predictions, loss = evaluator.predict(module, examples)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "fsdp.json"
    mp.spawn(_fsdp_predict, args=(2, port, backbone_dir, examples, str(out)), nprocs=2, join=True)
    sharded = json.loads(out.read_text())
    assert sharded["predictions"] == predictions
    assert sharded["loss"] == pytest.approx(loss, rel=1e-5)


def test_trainer_fsdp_wraps_each_mt5_block_and_checkpoints_activations_on_request():
    from hydra import compose, initialize_config_dir
    from lightning.pytorch.strategies import FSDPStrategy
    from omegaconf import OmegaConf
    from transformers.models.mt5.modeling_mt5 import MT5Block

    from xgen_cli.commands._app import CONF_DIR
    from xgen_cli.training import build_strategy

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["model=xxl", "trainer=fsdp", "trainer.strategy.activation_checkpointing=true"])
    strategy = build_strategy(OmegaConf.to_container(cfg.trainer, resolve=True)["strategy"])
    assert isinstance(strategy, FSDPStrategy) and cfg.trainer.precision == "bf16-mixed"
    assert MT5Block in strategy.kwargs["auto_wrap_policy"]._module_classes
    assert MT5Block in strategy._activation_checkpointing_kwargs["auto_wrap_policy"]._module_classes
    assert strategy.kwargs["use_orig_params"] and strategy._state_dict_type == "full"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_gpu_trainers_without_a_gpu_and_unsplittable_batches_are_one_line_errors(xgen, tmp_path):
    for args, expected in ((["trainer=fsdp"], "no GPU is visible here: use trainer=cpu"),
                           (["trainer=ddp_cpu", "batch_size=7"], "batch_size=7 does not split over trainer.devices=2")):
        proc = xgen("train", *args, f"hydra.run.dir={tmp_path / 'run'}", check=False)
        assert proc.returncode == 2 and expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "run").exists()
    # Hydra's basic launcher runs a sweep's jobs in one process: the ranks job 0 started end with it.
    proc = xgen("train", "-m", "trainer=ddp_cpu", "seed=0,1", f"hydra.sweep.dir={tmp_path / 'sweep'}", check=False)
    assert proc.returncode == 2 and "a multirun of multi-process runs needs a launcher" in proc.stderr


def test_ddp_under_slurm_takes_its_processes_from_slurm_tasks(runs, slurm, cache_dir, tmp_path):
    """hydra/launcher=slurm with trainer=ddp_cpu: one job of 2 SLURM tasks (tasks per node = devices),
    Lightning spawns nothing; the tasks share the job's folder, and the run matches one process."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    root, _, _ = runs
    sweep = tmp_path / "sweep"
    env = {**os.environ, **slurm, "XGEN_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, "-m", "xgen_cli.cli", "train", "-m", *RUN, "trainer=ddp_cpu", "seed=0",
                           "hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.partition=debug",
                           "hydra.launcher.account=null", f"hydra.sweep.dir={sweep}"],
                          env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run = sweep / "seed=0"
    logs = "".join(p.read_text() for p in (sweep / ".submitit").rglob("*_log.err"))
    assert "GLOBAL_RANK: 1, MEMBER: 2/2" in logs and not (run / "train_ddp_process_1.log").exists()
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "done" and info["slurm_job_id"]
    diff = (_prompt(root / "one", 4) - _prompt(run, 4)).abs().max().item()
    assert diff <= TOLERANCE, f"max |prompt difference| {diff:.2e}"
    for lang in LANGS:
        assert (run / f"predictions/step=4/{lang}.jsonl").read_text() == \
            (root / "one" / f"predictions/step=4/{lang}.jsonl").read_text()
