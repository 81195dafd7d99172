"""A DataLoader that a resumed run continues at the draw an uninterrupted run would train on next,
and that gives each process of a multi-process run its slice of every batch.

Lightning restores the fit loop's batch counters from a checkpoint, but a plain DataLoader starts
its epoch over, and the batches already trained on would come again. Lightning saves and restores
a loader that has `state_dict`/`load_state_dict` (its fit loop keeps them in the checkpoint and
restores them before it iterates), so this loader keeps how many batches it has given. The
training Mixture is addressed by draw index (data/mixture.py), so resuming starts at the next
draw directly, without replaying the draws before it. Lightning's fetcher does not read ahead for
loaders with a length, so "given" is "trained on" when a checkpoint is written.

With W processes (DDP, FSDP), `batch_size` stays the global batch B: batch k is draws
[k*B, (k+1)*B) whatever W is, and rank r trains on rows [r*B/W, (r+1)*B/W) of it. So W processes
see the batches one process would, split between them (xgen_cli/distributed.py weights the loss to
match). Lightning's DistributedSampler is off (training.py): it would give rank r every W-th draw
of the whole run, a different split of each batch that still unions to it, but it cannot resume
mid-epoch.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from xgen_cli.errors import XgenError


class RankBatches:
    """The index lists of this rank's slice of global batches `start`, `start + 1`, ..."""

    def __init__(self, total: int, batch_size: int, rank: int, world_size: int, start: int = 0):
        self.total, self.batch_size, self.start = total, batch_size, start
        self.share = batch_size // world_size
        self.offset = rank * self.share

    def __len__(self) -> int:
        return max(0, -(-self.total // self.batch_size) - self.start)

    def __iter__(self):
        for k in range(self.start, self.start + len(self)):
            first = k * self.batch_size + self.offset
            yield list(range(first, min(first + self.share, self.total)))


class ResumableLoader(DataLoader):
    """Batches of `draws` in index order, resumable at any batch; this rank's slice of each."""

    def __init__(self, draws: Dataset, batch_size: int, collate_fn, rank: int = 0, world_size: int = 1):
        if batch_size % world_size:
            raise XgenError(f"batch_size={batch_size} does not split over {world_size} processes: "
                            f"choose a batch_size that is a multiple of {world_size} (it is the global batch)")
        # A generator of its own: without one, each new iterator draws its base seed from the global
        # RNG, and a resumed run would draw it after restoring the RNG, shifting every later dropout mask.
        super().__init__(draws, batch_size=batch_size // world_size, shuffle=False, collate_fn=collate_fn,
                         num_workers=0, generator=torch.Generator().manual_seed(0))
        self.global_batch, self.rank, self.world_size = batch_size, rank, world_size
        self._given = 0
        self._start = 0  # batches to skip on the next iteration: set by load_state_dict

    def __len__(self) -> int:
        return len(RankBatches(len(self.dataset), self.global_batch, self.rank, self.world_size))

    def __iter__(self):
        start, self._start = self._start, 0
        self._given = start
        batches = RankBatches(len(self.dataset), self.global_batch, self.rank, self.world_size, start)
        for batch in DataLoader(self.dataset, batch_sampler=batches, collate_fn=self.collate_fn, num_workers=0,
                                generator=self.generator):
            self._given += 1
            yield batch

    def state_dict(self) -> dict:
        return {"batches": self._given}

    def load_state_dict(self, state: dict) -> None:
        self._start = int(state.get("batches", 0))
