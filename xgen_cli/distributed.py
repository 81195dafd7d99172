"""What changes when one run spans several processes (Lightning's DDP or FSDP ranks, SLURM tasks).

- Start: Lightning starts ranks > 0 by running the program again (`prepare_relaunch`); they join
  rank 0's run folder, where rank 0 alone writes the run's files (runs/run_dir.py).
- Training: `trainer.batch_size` is the global batch; each rank trains on its slice of every batch
  (data/resumable.py), and `token_weight` makes the averaged gradient the gradient of one process
  on the whole batch.
- Evaluation: each rank decodes a share of the examples; `gather` brings the shares to every rank
  (evaluation.py), so no example is dropped or decoded twice.
"""

from __future__ import annotations

import contextlib
import sys

import torch


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, the number of processes); (0, 1) outside a process group."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def prepare_relaunch() -> None:
    """Make Lightning's start of ranks > 0 re-enter this job in this job's folder.

    Lightning runs `python <sys.argv[0]> <sys.argv[1:]>` (or `python -m <main module> <sys.argv[1:]>`)
    with `hydra.run.dir=<hydra.run.dir>` appended. Left alone that fails three ways: sys.argv is
    what Hydra parsed (`xgen train` is no file, and the command's name is not in it), a multirun's
    `-m` and sweep lists would run the whole sweep again in every rank, and a multirun job's folder
    is not hydra.run.dir. So: this job's own overrides after the entry point and the command, and
    hydra.run.dir pointed at this job's folder.
    """
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import open_dict, read_write

    import __main__
    from xgen_cli.cli import reentry_argv
    from xgen_cli.errors import XgenError

    if not HydraConfig.initialized():
        return
    main_module = getattr(__main__.__spec__, "name", "xgen_cli.cli")
    if main_module != "xgen_cli.cli":  # Lightning would run `python -m <it>`, which is not xgen
        raise XgenError(f"this process runs {main_module}, which Lightning would start again for the other "
                        "processes: start multi-process runs with `xgen`, or let SLURM start them "
                        "(hydra/launcher=slurm, one task per device)")
    hydra_cfg = HydraConfig.get()
    # resume=<dir> was expanded into the saved overrides already (commands/_app.py); again it would
    # add a second hydra.run.dir.
    overrides = [o for o in hydra_cfg.overrides.task if not o.startswith("resume=")]
    sys.argv = reentry_argv(hydra_cfg.job.config_name, overrides)
    with read_write(hydra_cfg), open_dict(hydra_cfg):
        hydra_cfg.run.dir = hydra_cfg.runtime.output_dir


def end_with_parent() -> None:
    """In a process Lightning started (rank > 0 of a node): be killed when rank 0 dies, however it
    dies. Else a SIGKILLed rank 0 (OOM killer, node trouble) leaves the others waiting in a
    collective until its timeout (30 min), holding their devices. Linux only (prctl)."""
    import ctypes
    import os
    import signal

    if not sys.platform.startswith("linux"):
        return
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # rank 0 died before the request took effect
        os.kill(os.getpid(), signal.SIGKILL)


def token_weight(labels: torch.Tensor, ignore_index: int = -100) -> torch.Tensor | float:
    """The factor on a rank's token-mean loss that makes DDP's averaged gradient the gradient of the
    token mean over the whole global batch: world size x this rank's share of its target tokens.
    (Ranks' token counts differ, so a plain mean of their means would weight short targets more than
    one process does.) One all-reduce of a scalar per step."""
    import torch.distributed as dist

    _, world = rank_and_world()
    if world == 1:
        return 1.0
    mine = (labels != ignore_index).sum().to(torch.float64)
    total = mine.clone()
    dist.all_reduce(total)
    return (mine * world / total.clamp(min=1)).to(torch.float32)


def gather(obj) -> list:
    """`obj` of every rank, in rank order ([obj] outside a process group)."""
    import torch.distributed as dist

    _, world = rank_and_world()
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out


def take_back_sigterm() -> None:
    """Under DDP, Lightning's SIGTERM handler runs a broadcast inside the handler, wherever the
    signal lands: inside another collective that deadlocks the ranks (seen here: SIGTERM to rank 0
    of a 2-process run hung both). xgen's handler only records the request, and `stop_requested`
    agrees on it between steps; so during fit it alone handles SIGTERM (Lightning puts the
    handlers back when fit ends)."""
    import signal

    from xgen_cli.interrupts import STOP

    if STOP._handle in getattr(signal.getsignal(signal.SIGTERM), "signal_handlers", ()):
        signal.signal(signal.SIGTERM, STOP._handle)


def stop_requested(trainer) -> bool:
    """Whether any rank got a stop signal (xgen_cli/interrupts.py). Signals reach the ranks at
    different moments (or only one rank: `kill <pid>`), yet all must stop after the same step, since
    saving a checkpoint is a collective; a rank that got none takes the signal of one that did.
    One all-reduce of a scalar per call."""
    from xgen_cli.interrupts import STOP

    if trainer.world_size == 1:
        return bool(STOP)
    signum = torch.tensor(STOP.signum or 0, device=trainer.strategy.root_device)
    signum = int(trainer.strategy.reduce(signum, reduce_op="max"))
    STOP.signum = STOP.signum or signum or None
    return bool(STOP)


def is_sharded(module: torch.nn.Module) -> bool:
    """Whether FSDP shards the module's weights: then every forward is a collective, and all ranks
    must run the same number of them."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    return any(isinstance(m, FullyShardedDataParallel) for m in module.modules())


def full_root_params(trainer):
    """Outside the training step FSDP keeps the weights of its root unit (embeddings, LM head, the
    prompt) sharded; generation calls the module directly, so gather them for its duration (the
    T5 blocks, wrapped units of their own, gather theirs in their forward)."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    model = getattr(trainer, "model", None)
    if not isinstance(model, FullyShardedDataParallel):
        return contextlib.nullcontext()
    return FullyShardedDataParallel.summon_full_params(model, recurse=False, writeback=False)
