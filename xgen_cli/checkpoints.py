"""Checkpoint I/O: when training state is saved, how it is written, and which file a run resumes from.

Files: `<folder>/step=<N>.ckpt` (Lightning's full training state: weights the method keeps, optimizer,
loop progress with the data loader's position, xgen's RNG state) and `last.ckpt`, a hard link to the
newest (no second copy on disk). A stage of training has its own folder (`checkpoints/` for a
one-stage run), so a two-stage run resumes in either stage.

Why not Lightning's ModelCheckpoint: it saves `last.ckpt` a second time at every epoch end (twice
the bytes for model tuning), names a fresh run's files `last-v1.ckpt` beside a killed attempt's,
and cannot be told that the final checkpoint must wait for the final evaluation. Why not its
checkpoint writer: `_atomic_save` serializes the whole checkpoint into memory, then writes it through
an fsspec transaction whose temp file lives in the system temp folder, so a kill leaves partial files
in /tmp and the final move onto another filesystem is a copy, not an atomic rename.
`AtomicCheckpointIO` streams into a temp file beside the target and renames it.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from xgen_cli.distributed import stop_requested, take_back_sigterm
from xgen_cli.errors import XgenError
from xgen_cli.interrupts import STOP, Interrupted
from xgen_cli.runs.files import atomic_writer
from xgen_cli.runs.run_dir import RunDir, is_rank_zero

LAST = "last.ckpt"


class AtomicCheckpointIO(TorchCheckpointIO):
    """torch.save into `.<name>.<random>.tmp` in the checkpoint's folder, fsync, rename."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        with atomic_writer(path) as f:
            torch.save(checkpoint, f)


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


def checkpoint_bytes(module: L.LightningModule, optimizer: torch.optim.Optimizer | None) -> int:
    """About how large one checkpoint of `module` is: the weights it keeps plus optimizer state.

    Optimizer state: Adafactor keeps a factored second moment for matrices (a row and a column
    vector) and a full one otherwise, plus a first moment when beta1 is set; other optimizers are
    counted as Adam (two moments per trainable weight).
    """
    keep = getattr(module, "checkpoint_keys", lambda: None)()
    weights = sum(t.numel() * t.element_size() for k, t in module.state_dict().items() if keep is None or k in keep)
    adafactor = type(optimizer).__name__ == "Adafactor"
    state = 0
    for p in module.parameters():
        if not p.requires_grad:
            continue
        if adafactor:
            moment2 = p.shape[:-1].numel() + p.shape[:-2].numel() * p.shape[-1] if p.dim() >= 2 else p.numel()
            state += 4 * (moment2 + (p.numel() if optimizer.defaults.get("beta1") is not None else 0))
        else:
            state += 2 * 4 * p.numel()
    return weights + state


class StepCheckpoints(Checkpoint):
    """Save the full training state after each evaluation, at the end, and on a stop signal.

    - every `every` optimizer steps (after EvaluateEvery has logged that step: Lightning runs
      Checkpoint callbacks last), except the final step, whose checkpoint waits for the final
      evaluation in `on_train_end`; so a checkpoint at step N always comes with N's metrics rows,
      and a run killed before its last checkpoint replays from the previous one;
    - when a stop signal arrived (xgen_cli/interrupts.py): right after the optimizer step it
      interrupts, then raises Interrupted. At the final step no checkpoint is written (its
      evaluation may be cut short; resuming replays from the last periodic one).
    Keeps the newest `keep` step files (-1: all) besides `last.ckpt`. Before training, checks the
    disk can hold the checkpoints kept at once.
    """

    def __init__(self, folder: str | os.PathLike, every: int, keep: int = 1, stage: str = "main"):
        self.folder, self.every, self.keep, self.stage = Path(folder), every, keep, stage
        self._saved_step: int | None = None
        self._seen_step = 0

    # ---- hooks
    def on_fit_start(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            self._check_disk(trainer, pl_module)

    def on_train_start(self, trainer, pl_module) -> None:
        # global_step is the resumed checkpoint's by now; that checkpoint needs no second copy.
        self._seen_step = trainer.global_step
        self._saved_step = trainer.global_step if trainer.global_step > 0 else None
        STOP.trainer = trainer
        if trainer.world_size > 1:
            take_back_sigterm()
        if stop_requested(trainer):
            raise Interrupted

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        stepped, self._seen_step = step != self._seen_step, step  # False inside a gradient accumulation
        if not stepped:
            return
        final = step >= trainer.max_steps
        if stop_requested(trainer):
            if not final:
                self._save(trainer)
            raise Interrupted
        if not final and self.every > 0 and step % self.every == 0:
            self._save(trainer)
            if stop_requested(trainer):  # arrived while saving: the state is on disk already
                raise Interrupted

    def on_train_end(self, trainer, pl_module) -> None:
        if stop_requested(trainer):
            raise Interrupted
        self._save(trainer)

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint["xgen_stage"] = self.stage  # `xgen eval run=` ranks the stages' checkpoints

    # ---- files
    def _save(self, trainer) -> None:
        step = trainer.global_step
        if step == self._saved_step:
            return
        path = self.folder / f"step={step}.ckpt"
        trainer.save_checkpoint(path)
        self._saved_step = step
        if trainer.is_global_zero:
            _link_last(path)
            if self.keep >= 0:  # keep=0: last.ckpt alone holds the newest
                for old in sorted(self.folder.glob("step=*.ckpt"), key=_step_in_name)[: -self.keep or None]:
                    old.unlink(missing_ok=True)
        if STOP:
            STOP.checkpoint = path if path.exists() else path.with_name(LAST)

    def _check_disk(self, trainer, pl_module) -> None:
        size = checkpoint_bytes(pl_module, trainer.optimizers[0] if trainer.optimizers else None)
        if self.keep < 0:
            held = math.ceil(trainer.max_steps / max(self.every, 1)) + 1
        else:
            held = max(self.keep, 1) + 1  # the kept ones and the one being written
        self.folder.mkdir(parents=True, exist_ok=True)
        present = sum(p.stat().st_size for p in self.folder.glob("*.ckpt") if p.name != LAST)
        need = held * size - present
        free = shutil.disk_usage(self.folder).free
        if need > free:
            raise XgenError(
                f"not enough free disk for checkpoints in {self.folder}: each is about {_gb(size)} and up to "
                f"{held} are held at once (keep_checkpoints={self.keep}), {_gb(free)} free: free space, "
                "lower keep_checkpoints, or choose another hydra.run.dir"
            )


def _step_in_name(path: Path) -> int:
    return int(path.stem.partition("=")[2] or 0)


def _link_last(path: Path) -> None:
    """Point last.ckpt at `path` atomically: a hard link (no copy) where the filesystem has them."""
    last, tmp = path.with_name(LAST), path.with_name(f".{LAST}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(path, tmp)
    except OSError:  # no hard links here (some network filesystems): a copy
        with open(path, "rb") as src, atomic_writer(last) as dst:
            shutil.copyfileobj(src, dst, 1 << 24)
        return
    os.replace(tmp, last)


# ---- reading

def read_checkpoint(path: str | os.PathLike, mmap: bool = False) -> dict:
    """A checkpoint as torch.load(weights_only=True) gives it; XgenError naming the file if it is not
    one (truncated, another format). mmap=True maps the tensors instead of reading them: cheap for
    reading `global_step` out of a checkpoint of any size."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise XgenError(f"{path} does not exist: give checkpoint=<file.ckpt> of that run") from None
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, EOFError, ... for a bad file
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise XgenError(f"{path} is not a readable checkpoint (truncated or not a checkpoint: {first}): "
                        "give checkpoint=<another file.ckpt> or delete it") from None
    if not isinstance(state, dict) or "state_dict" not in state or "global_step" not in state:
        raise XgenError(f"{path} is not a Lightning checkpoint (no state_dict/global_step): give another checkpoint=")
    return state


def find_checkpoints(folder: str | os.PathLike) -> list[tuple[Path, dict]]:
    """(path, checkpoint read with mmap) of every readable *.ckpt under `folder`; unreadable ones
    are reported on stderr and skipped."""
    found = []
    for path in sorted(Path(folder).rglob("*.ckpt")):
        try:
            found.append((path, read_checkpoint(path, mmap=True)))
        except XgenError as e:
            print(f"[xgen] skipping {e}", file=sys.stderr)
    return found


def latest_checkpoint(folder: str | os.PathLike, stage: str | None = None) -> tuple[Path, int] | None:
    """The checkpoint under `folder` with the largest global_step (read inside it, not from its
    name); a step=<N> name is preferred over the last.ckpt link to the same state. With `stage`, only
    that stage's checkpoints; without, later stages before earlier ones ("main" last). None if none."""
    found = [(path, state) for path, state in find_checkpoints(folder)
             if stage is None or state.get("xgen_stage", "main") == stage]
    if not found:
        return None

    def rank(item):
        path, state = item
        return (state.get("xgen_stage", "main") == "main", int(state["global_step"]), path.name != LAST)

    path, state = max(found, key=rank)
    return path, int(state["global_step"])


def resume_stage(run: RunDir, stage: str, folder: str | os.PathLike, logger=None) -> str | None:
    """The checkpoint to continue `stage` from (for `trainer.fit(ckpt_path=...)`), None to start it
    afresh; first drops the metrics rows a killed attempt logged past that checkpoint (in the
    logger's own file too, where it keeps one across a resume: logger=csv)."""
    latest = latest_checkpoint(folder, stage)
    step = latest[1] if latest else None
    dropped = run.rewind(stage, step)
    if hasattr(logger, "rewind") and is_rank_zero():
        logger.rewind(step)
    if latest:
        print(f"[train] resuming stage {stage} from {latest[0]} (step {step})"
              + (f"; dropped {dropped} metrics rows logged after it" if dropped else ""), file=sys.stderr)
        return str(latest[0])
    if dropped:
        print(f"[train] no checkpoint of stage {stage} yet: starting it afresh, dropped its {dropped} metrics rows",
              file=sys.stderr)
    return None


def load_weights(module: torch.nn.Module, state: dict, path, what: str) -> None:
    """Load a checkpoint's state_dict into `module`, or raise XgenError naming what does not match
    (`what` names the module for the message, e.g. "model=tiny method=prompt")."""
    weights, own = state["state_dict"], module.state_dict()
    keep = getattr(module, "checkpoint_keys", lambda: None)()
    needed = set(own) if keep is None else set(keep)
    problems = [f"{k} is {tuple(weights[k].shape)} there, {tuple(own[k].shape)} here"
                for k in sorted(weights.keys() & own.keys()) if tuple(weights[k].shape) != tuple(own[k].shape)]
    problems += [f"it lacks {k}" for k in sorted(needed - weights.keys())]
    problems += [f"it holds {k}, which {what} has no place for" for k in sorted(weights.keys() - own.keys())]
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise XgenError(f"{path} does not fit {what}: {'; '.join(problems[:3])}{more}: "
                        "give checkpoint= a file written by this run")
    module.load_state_dict(weights, strict=keep is None)
