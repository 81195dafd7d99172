"""From tokenized pairs to padded batches, and the DataModules that feed the Trainer."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import lightning as L
import torch
from torch.utils.data import DataLoader, IterableDataset

from xgen_cli.data.resumable import ResumableLoader
from xgen_cli.data.tasks import Pair

IGNORE_INDEX = -100  # label positions the loss skips (padding)


class Collator:
    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, pairs: Sequence[Pair]) -> dict[str, torch.Tensor]:
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
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


class TaskStream(IterableDataset):
    """An endless, seeded stream of pairs: each draws a document and a task (by weight).

    Pretraining objectives (and, later, mixing at rate kappa) sample tasks this way; the Trainer's
    max_steps ends the stream.
    """

    def __init__(self, docs: Sequence[list[int]], tasks: dict[str, tuple[float, Callable]], seed: int):
        self.docs, self.tasks, self.seed = docs, tasks, seed

    def __iter__(self):
        rng = random.Random(self.seed)
        names = list(self.tasks)
        weights = [self.tasks[n][0] for n in names]
        while True:
            task = self.tasks[rng.choices(names, weights)[0]][1]
            yield task(self.docs[rng.randrange(len(self.docs))], rng)


class TrainData(L.LightningDataModule):
    """Training batches from a list of pairs (shuffled per epoch, seeded) or a TaskStream."""

    def __init__(self, pairs: Sequence[Pair] | IterableDataset, batch_size: int, pad_id: int, seed: int):
        super().__init__()
        self.pairs, self.batch_size, self.pad_id, self.seed = pairs, batch_size, pad_id, seed

    def train_dataloader(self) -> DataLoader:
        # Resumable: a run continued from a checkpoint draws the batches an uninterrupted one would.
        return ResumableLoader(self.pairs, batch_size=self.batch_size, shuffle=not isinstance(self.pairs, IterableDataset),
                               generator=torch.Generator().manual_seed(self.seed),
                               collate_fn=Collator(self.pad_id), num_workers=0)
