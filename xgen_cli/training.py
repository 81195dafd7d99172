"""Building the Lightning Trainer from `trainer=<cpu|gpu|ddp|ddp_cpu|fsdp>`, shared by train and pretrain."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

import lightning as L


@cache
def cpu_has_bf16_units() -> bool:
    """AMX or AVX512-BF16: where bf16 autocast is the CPU's fast path (about 3x fp32 with AMX).

    Without them bf16 is emulated and slow (a bf16 matmul ran at 56 vs 254 GFLOP/s in fp32 on a
    2-core Xeon here), so `precision: auto` then keeps fp32.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: str, accelerator: str) -> str:
    if precision != "auto":
        return precision
    if accelerator == "cpu":
        return "bf16-mixed" if cpu_has_bf16_units() else "32-true"
    return "bf16-mixed"


def uses_bf16(trainer: dict) -> bool:
    """Whether this trainer config runs bf16 autocast (evaluation follows the trainer's precision)."""
    return resolve_precision(trainer["precision"], trainer["accelerator"]).startswith("bf16")


def fsdp_strategy(sharding_strategy: str = "FULL_SHARD", activation_checkpointing: bool = False,
                  cpu_offload: bool = False):
    """Lightning's FSDP for mT5 XL/XXL: each T5 block is one unit (its weights gathered for its own
    forward, then freed), the embeddings, LM head and prompt form the root unit. Activation
    checkpointing recomputes each block's activations in the backward pass (about a third more
    compute for memory that no longer grows with the blocks' activations)."""
    from lightning.pytorch.strategies import FSDPStrategy
    from transformers.models.mt5.modeling_mt5 import MT5Block
    from transformers.models.t5.modeling_t5 import T5Block

    blocks = {MT5Block, T5Block}  # mT5 checkpoints load as MT5; T5 ones (e.g. LM-adapted) as T5
    return FSDPStrategy(
        auto_wrap_policy=blocks, activation_checkpointing_policy=blocks if activation_checkpointing else None,
        sharding_strategy=sharding_strategy, cpu_offload=cpu_offload,
        # Prompt tuning: a frozen backbone and a trained prompt share the root unit, which FSDP
        # allows only with the original parameters kept.
        use_orig_params=True,
        # Checkpoints are single files (xgen_cli/checkpoints.py reads and links them), gathered on rank 0.
        state_dict_type="full",
    )


def build_strategy(strategy):
    """A strategy's name (`ddp`, `auto`), or a `_target_` node building one (`trainer=fsdp`)."""
    if isinstance(strategy, dict):
        import hydra

        return hydra.utils.instantiate(strategy)
    return strategy


def build_trainer(trainer: dict, *, max_steps: int, root_dir: str | Path, callbacks=(), logger=None,
                  accumulate_grad_batches: int = 1, progress_bar: bool = True) -> L.Trainer:
    from lightning.pytorch.plugins.environments import SLURMEnvironment

    from xgen_cli.checkpoints import AtomicCheckpointIO
    from xgen_cli.freed_memory import ReturnFreedMemory

    # Lightning's start-up banners (GPU available, tips) would print twice through Hydra's logging.
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    # Lightning 2.6 calls a torch pytree API that torch 2.13 deprecates, warning on every run;
    # nothing a user can act on.
    warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
    # Printed by every run on a machine where SLURM's client is installed, inside a job or not: a run
    # started outside srun is a single-process run by intent (xgen's launcher sizes SLURM jobs).
    warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system but is not used")
    # Checkpoints are renamed into place from a temp file beside them (xgen_cli/checkpoints.py).
    # Under SLURM, stop signals are xgen's (xgen_cli/interrupts.py): Lightning's auto-requeue would
    # write its own checkpoint outside the run's checkpoint folder.
    plugins = [AtomicCheckpointIO()] + ([SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else [])
    built = L.Trainer(
        accelerator=trainer["accelerator"], devices=trainer["devices"], num_nodes=trainer.get("num_nodes", 1),
        strategy=build_strategy(trainer["strategy"]),
        # Every rank takes its own slice of each global batch (data/resumable.py); Lightning's
        # DistributedSampler would split the draws into per-rank halves of the run instead.
        use_distributed_sampler=False,
        precision=resolve_precision(trainer["precision"], trainer["accelerator"]),
        # One epoch is the whole run: the training Mixture holds exactly max_steps x batch x
        # accumulation draws (so the progress bar reads "Epoch 0/0", not "Epoch 0/-2").
        max_steps=max_steps, max_epochs=1, accumulate_grad_batches=accumulate_grad_batches,
        # Evaluation is xgen's own (generation + metrics, EvaluateEvery), not Lightning's val loop.
        limit_val_batches=0, num_sanity_val_steps=0,
        callbacks=[ReturnFreedMemory(), *callbacks], logger=logger if logger is not None else False,
        enable_checkpointing=any(isinstance(c, L.pytorch.callbacks.Checkpoint) for c in callbacks),
        plugins=plugins,
        enable_progress_bar=progress_bar, enable_model_summary=False, log_every_n_steps=10,
        default_root_dir=str(root_dir),
    )
    if built.world_size > 1:
        from xgen_cli.distributed import end_with_parent, prepare_relaunch

        environment = built.strategy.cluster_environment
        if not environment.creates_processes_externally:
            prepare_relaunch()  # Lightning, not SLURM, starts the other processes: by re-running this one
        elif type(environment).__name__ == "LightningEnvironment" and environment.local_rank() > 0:
            end_with_parent()  # one of those processes
    return built
