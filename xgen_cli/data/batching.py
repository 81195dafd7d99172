"""From tokenized pairs to padded batches, and the DataModule that feeds the Trainer."""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from xgen_cli.data.resumable import ResumableLoader
from xgen_cli.data.tasks import Pair, TaggedPair

IGNORE_INDEX = -100  # label positions the loss skips (padding)

# Batches pad to a multiple of this many tokens. On the CPU, bf16 matmuls run through oneDNN, which
# compiles and keeps a kernel for every shape it meets: on real text, where each batch pads to its
# own longest row, that was a new shape nearly every batch, and a run's memory grew by some 10 MB a
# batch (0.6 to 2.6 GB in 200 batches; fp32 stayed flat). Rounded, a run meets a few dozen widths.
# Padding is masked (inputs) or ignored (labels), so the loss is the same.
WIDTH_MULTIPLE = 32


def padded_width(longest: int) -> int:
    return max(1, -(-longest // WIDTH_MULTIPLE) * WIDTH_MULTIPLE)


class Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, pairs: Sequence[Pair | TaggedPair]) -> dict:
        n = len(pairs)
        max_in = padded_width(max(len(p.input_ids) for p in pairs))
        max_out = padded_width(max(len(p.labels) for p in pairs))
        input_ids = torch.full((n, max_in), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((n, max_in), dtype=torch.long)
        labels = torch.full((n, max_out), IGNORE_INDEX, dtype=torch.long)
        for i, p in enumerate(pairs):
            input_ids[i, : len(p.input_ids)] = torch.tensor(p.input_ids)
            attention_mask[i, : len(p.input_ids)] = 1
            labels[i, : len(p.labels)] = torch.tensor(p.labels)
        # Per-row tags (lists of str: Lightning moves tensors to the device and leaves these alone).
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels,
                "task": [getattr(p, "task", None) for p in pairs], "lang": [getattr(p, "lang", None) for p in pairs]}


def pass_groups(lengths: Sequence[int], max_tokens: int | None) -> list[list[int]]:
    """Row indices cut into forward passes of at most `max_tokens` padded tokens each (rows x the
    longest row's length; a row longer than the budget gets a pass of its own). Rows are taken
    longest first, so long rows share a pass and short ones do not pad to them. None: one pass."""
    if max_tokens is None:
        return [list(range(len(lengths)))]
    groups, current = [], []
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        longest = lengths[current[0]] if current else lengths[i]  # rows come longest first
        if current and (len(current) + 1) * longest > max_tokens:
            groups.append(current)
            current = []
        current.append(i)
    return groups + [current] if current else groups


def row_lengths(batch: dict) -> list[int]:
    """Each row's input plus target tokens, without padding."""
    inputs = batch["attention_mask"].sum(dim=1)
    targets = (batch["labels"] != IGNORE_INDEX).sum(dim=1)
    return (inputs + targets).tolist()


def rows_of(batch: dict, idx: list[int]) -> dict:
    """The batch's rows `idx`, without the padding none of them needs (Collator pads on the right)."""
    rows = torch.tensor(idx)
    mask, labels = batch["attention_mask"][rows], batch["labels"][rows]
    width_in = padded_width(int(mask.sum(dim=1).max()))
    width_out = padded_width(int((labels != IGNORE_INDEX).sum(dim=1).max()))
    cut = {"input_ids": batch["input_ids"][rows, :width_in], "attention_mask": mask[:, :width_in],
           "labels": labels[:, :width_out]}
    return {**{k: v.contiguous() for k, v in cut.items()},  # HF's loss views the labels flat
            **{k: [v[i] for i in idx] for k, v in batch.items() if isinstance(v, list)}}


def to_device(batch: dict, device) -> dict:
    """The batch's tensors on `device`; its per-row tags (lists of str) as they are."""
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


class TrainData(L.LightningDataModule):
    """Batches of a Mixture in draw order (the mixture does its own seeded shuffling)."""

    def __init__(self, draws: Dataset, batch_size: int, pad_id: int):
        super().__init__()
        self.draws, self.batch_size, self.pad_id = draws, batch_size, pad_id

    def train_dataloader(self) -> DataLoader:
        # Resumable: a run continued from a checkpoint trains on the draws an uninterrupted one would.
        # Under DDP / FSDP each rank gets its slice of every batch (batch_size is the global batch).
        # Outside a Trainer (a benchmark, a test reading batches) it is the single-process loader.
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return ResumableLoader(self.draws, self.batch_size, Collator(self.pad_id), rank=rank, world_size=world)
