"""From tokenized pairs to padded batches, and the DataModule that feeds the Trainer."""

from __future__ import annotations

from collections.abc import Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from xgen_cli.data.resumable import ResumableLoader
from xgen_cli.data.tasks import Pair, TaggedPair

IGNORE_INDEX = -100  # label positions the loss skips (padding)


class Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, pairs: Sequence[Pair | TaggedPair]) -> dict:
        n = len(pairs)
        max_in = max(len(p.input_ids) for p in pairs)
        max_out = max(len(p.labels) for p in pairs)
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
